/** Assertions that throw `ConformanceError`s with readable messages (no vitest dependency). */
import { ChainruleError } from "@chainrule/ir";
import { compare, fmt, treeValues } from "./tree.js";

export class ConformanceError extends Error {
  readonly code = "CONFORMANCE" as const;
  constructor(message: string) {
    super(message);
    this.name = "ConformanceError";
  }
}

/** Asserts two pytrees (numbers, Tensors, arrays, objects) hold close values. */
export function expectClose(what: string, got: unknown, expected: unknown, rtol = 1e-9, atol = 1e-12): void {
  let g: Float64Array;
  let e: Float64Array;
  try {
    g = got instanceof Float64Array ? got : treeValues(got);
    e = expected instanceof Float64Array ? expected : treeValues(expected);
  } catch (error) {
    throw new ConformanceError(`${what}: could not read the result (${(error as Error).message})`);
  }
  if (g.length !== e.length) throw new ConformanceError(`${what}: expected ${e.length} values, got ${g.length}`);
  const bad = compare(g, e, rtol, atol);
  if (bad) {
    throw new ConformanceError(
      `${what}: element ${bad.index} is ${fmt(bad.got)}, expected ${fmt(bad.expected)} (error ${fmt(bad.error)} > tolerance ` +
        `${fmt(bad.tolerance)})`,
    );
  }
}

export function expectTrue(what: string, condition: boolean): void {
  if (!condition) throw new ConformanceError(what);
}

/** Asserts that `call` throws a ChainruleError with `code` whose message matches `pattern`. */
export function expectError(what: string, call: () => unknown, code: string, pattern: RegExp): void {
  let caught: unknown;
  try {
    call();
  } catch (error) {
    caught = error;
  }
  if (caught === undefined) throw new ConformanceError(`${what}: expected a ${code} error, got no error`);
  if (!(caught instanceof ChainruleError) || caught.code !== code || !pattern.test(caught.message)) {
    const got = caught instanceof ChainruleError ? `${caught.name} (${caught.code}): ${caught.message}` : String(caught);
    throw new ConformanceError(`${what}: expected a ${code} error matching ${pattern}, got ${got}`);
  }
}
