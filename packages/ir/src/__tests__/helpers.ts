/** Helpers shared by the ir tests (not exported from index.ts, not part of the package API). */
import { expect } from "vitest";
import type { DType } from "../dtype.js";
import { Tensor, type NestedArray } from "../tensor.js";

/** Asserts a tensor's dtype, shape and values (exactly, or to `digits` decimal places). */
export function expectTensor(
  actual: unknown,
  expected: NestedArray,
  options: { dtype?: DType; shape?: readonly number[]; digits?: number } = {},
): void {
  expect(actual).toBeInstanceOf(Tensor);
  const t = actual as Tensor;
  if (options.dtype !== undefined) expect(t.dtype).toBe(options.dtype);
  if (options.shape !== undefined) expect(t.shape).toEqual(options.shape);
  const got = t.toArray();
  if (options.digits === undefined) expect(got).toEqual(expected);
  else {
    const flat = (v: NestedArray): number[] => (Array.isArray(v) ? (v as NestedArray[]).flatMap(flat) : [Number(v)]);
    const a = flat(got);
    const b = flat(expected);
    expect(a.length).toBe(b.length);
    a.forEach((x, i) => {
      if (Number.isNaN(b[i]!)) expect(x).toBeNaN();
      else if (!Number.isFinite(b[i]!)) expect(x).toBe(b[i]);
      else expect(x).toBeCloseTo(b[i]!, options.digits);
    });
  }
}

/** Asserts that `body` throws an error of `type` with exactly `message`. */
export function expectError(body: () => unknown, type: abstract new (...args: never[]) => Error, message: string): void {
  let error: unknown;
  try {
    body();
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${type.name}: ${message}`).toBeInstanceOf(type);
  expect((error as Error).message).toBe(message);
}
