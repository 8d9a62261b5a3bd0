/** Options objects: checked to be objects with only known keys, so a misspelt option is an error. */
import { ArgumentError, describeValue, formatValue } from "./errors.js";

/**
 * `options` as a record after checking that it is `undefined` (when `required` is false) or an
 * object whose own keys are all among `keys`. Returns `{}` for `undefined`.
 */
export function checkOptions(op: string, options: unknown, keys: readonly string[], required = false): Record<string, unknown> {
  if (options === undefined && !required) return {};
  if (options === null || typeof options !== "object" || Array.isArray(options)) {
    throw new ArgumentError(`${op}: expected an options object${required ? "" : " or undefined"}, got ${describeValue(options)}`);
  }
  for (const key of Object.keys(options)) {
    if (!keys.includes(key)) {
      const known = keys.length === 0 ? "none" : keys.join(", ");
      throw new ArgumentError(`${op}: expected options among ${known}, got an unknown option ${formatValue(key)}`);
    }
  }
  return options as Record<string, unknown>;
}
