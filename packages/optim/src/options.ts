/**
 * Options objects: an unknown key is an error (`adam({ learningRate: 0.1 })` must not silently
 * train with the default lr), and so is an options argument that is not an object.
 */
import { ArgumentError } from "@chainrule/ir";
import { isPlainObject, show } from "./validate.js";

/** Keys people carry over from other libraries, and the option they mean here. */
const ALIASES: Readonly<Record<string, string>> = { learningrate: "lr", rate: "lr", beta1: "betas", beta2: "betas", epsilon: "eps" };

const normalize = (key: string): string => key.toLowerCase().replace(/[^a-z0-9]/g, "");

function suggestion(key: string, known: readonly string[]): string {
  const wanted = normalize(key);
  const match = known.find((k) => normalize(k) === wanted) ?? known.find((k) => k === ALIASES[wanted]);
  return match === undefined ? "" : ` (did you mean ${match}?)`;
}

/**
 * Checks that `options` is undefined (when not `required`) or a plain object whose keys are all in
 * `known`, and returns it as a record (an empty one for undefined).
 */
export function checkOptions(
  op: string,
  options: unknown,
  known: readonly string[],
  required = false,
  what = "options",
): Readonly<Record<string, unknown>> {
  if (options === undefined && !required) return {};
  if (!isPlainObject(options)) throw new ArgumentError(`${op}: expected ${what} as an object {${known.join(", ")}}, got ${show(options)}`);
  for (const key of Object.keys(options)) {
    if (!known.includes(key)) {
      throw new ArgumentError(
        `${op}: expected ${what} among ${known.join(", ")}, got an unknown option ${JSON.stringify(key)}${suggestion(key, known)}`,
      );
    }
  }
  return options;
}

/** A boolean option (undefined gives `fallback`); "yes" or 1 are errors, not truthy. */
export function checkBoolean(op: string, name: string, value: unknown, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== "boolean") throw new ArgumentError(`${op}: expected ${name} to be true or false, got ${show(value)}`);
  return value;
}

/** A function option (a schedule, a callback), or undefined. */
export function checkFunction<F>(op: string, name: string, value: unknown): F | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== "function") throw new ArgumentError(`${op}: expected ${name} to be a function, got ${show(value)}`);
  return value as F;
}
