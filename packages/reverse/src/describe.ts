/** Short description of any JS value for error messages (mirrors ir's). */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (value === undefined) return "undefined";
  if (typeof value === "string") return `string ${JSON.stringify(value.length > 20 ? `${value.slice(0, 20)}…` : value)}`;
  if (typeof value === "number") return `number ${value}`;
  if (typeof value === "function") return "a function";
  if (Array.isArray(value)) return `an array of length ${value.length}`;
  if (typeof value === "object") {
    const described = (value as { describe?: () => string }).describe;
    if (typeof described === "function") return described.call(value);
    return `an object (${Object.prototype.toString.call(value)})`;
  }
  return typeof value;
}
