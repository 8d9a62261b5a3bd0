/**
 * Argument counts, checked for every function ir exports (and every method of an engine made by
 * defineEngine): JavaScript would drop extra arguments and fill missing ones with `undefined`, so
 * `add(1, 2, 3)` silently gave 3. The table below is the spec; a new export without an entry fails
 * the first test.
 */
import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import { toy } from "./__tests__/toy-engine.js";
import { ARITIES, exportedFunctions, MACHINERY } from "./__tests__/exports.js";
import * as ir from "./index.js";
import { ArgumentError, add, sum } from "./index.js";

function argumentsText(min: number, max: number): string {
  const n = min === max ? `${min}` : max === Infinity ? `at least ${min}` : `${min} to ${max}`;
  return `${n} argument${max === 1 || (min === 1 && max === Infinity) ? "" : "s"}`;
}

/** The error a call with `args` throws (undefined if it returns). */
function thrown(f: (...args: unknown[]) => unknown, args: unknown[]): unknown {
  try {
    f(...args);
  } catch (error) {
    return error;
  }
  return undefined;
}

describe("argument counts", () => {
  it("the table covers every exported function except the engine machinery", () => {
    const names = exportedFunctions.map(([name]) => name).filter((name) => !MACHINERY.has(name));
    expect(names.filter((name) => !(name in ARITIES))).toEqual([]);
    expect(Object.keys(ARITIES).filter((name) => !names.includes(name))).toEqual([]);
  });

  it("add(1, 2, 3) is an error, not 3 (the reported case)", () => {
    expectError(() => (add as (...a: unknown[]) => unknown)(1, 2, 3), ArgumentError, "add: expected 2 arguments, got 3");
    expectError(() => (sum as (...a: unknown[]) => unknown)([1], 0, false, 4), ArgumentError, "sum: expected 1 to 3 arguments, got 4");
    expectError(() => (add as (...a: unknown[]) => unknown)(1), ArgumentError, "add: expected 2 arguments, got 1");
  });

  for (const [name, [min, max]] of Object.entries(ARITIES)) {
    it(`${name} checks its argument count (${argumentsText(min, max)})`, () => {
      const f = (ir as unknown as Record<string, (...args: unknown[]) => unknown>)[name]!;
      if (max !== Infinity) {
        const args = new Array(max + 1).fill(0);
        expectError(() => f(...args), ArgumentError, `${name}: expected ${argumentsText(min, max)}, got ${max + 1}`);
      }
      if (min > 0) {
        const args = new Array(min - 1).fill(0);
        expectError(() => f(...args), ArgumentError, `${name}: expected ${argumentsText(min, max)}, got ${min - 1}`);
      }
      // with an accepted count, whatever else goes wrong it is not the count
      for (let n = min; n <= Math.min(max, min + 3); n++) {
        const error = thrown(f, new Array(n).fill(0));
        expect((error as Error | undefined)?.message ?? "").not.toMatch(/expected .*arguments?, got \d+$/);
      }
    });
  }

  it("every method of an engine made by defineEngine checks its count too", () => {
    const methods: Record<string, readonly [number, number]> = {
      grad: [1, 3],
      valueAndGrad: [1, 3],
      jvp: [3, 3],
      vjp: [1, Infinity],
      jacobian: [1, 3],
      jacfwd: [1, 3],
      jacrev: [1, 3],
      hessian: [1, 2],
      hvp: [3, 3],
      linearize: [1, Infinity],
      checkpoint: [1, 2],
    };
    const engine = toy as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const [name, [min, max]] of Object.entries(methods)) {
      if (max !== Infinity) {
        expectError(
          () => engine[name]!(...new Array(max + 1).fill(0)),
          ArgumentError,
          `${name}: expected ${argumentsText(min, max)}, got ${max + 1}`,
        );
      }
      expectError(() => engine[name]!(), ArgumentError, `${name}: expected ${argumentsText(min, max)}, got 0`);
    }
    // an option object the transformation does not have is refused instead of ignored
    expectError(
      () => engine["grad"]!((x: number) => x, 0, { holomorphic: true }),
      ArgumentError,
      "grad: unknown option holomorphic (grad takes (f, argnums, { hasAux }), the options hasAux)",
    );
    const [, pullback] = toy.vjp((x: number) => x, 1);
    expectError(() => (pullback as (...a: unknown[]) => unknown)(1, 2), ArgumentError, "vjp pullback: expected 1 argument, got 2");
  });

  it("optional arguments may be passed as undefined", () => {
    expect(sum([1, 2], undefined, undefined).item()).toBe(3);
    expect(ir.zeros([2], undefined).dtype).toBe("float64");
  });
});
