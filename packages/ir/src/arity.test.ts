/**
 * Argument counts, checked for every function ir exports (and every method of an engine made by
 * defineEngine): JavaScript would drop extra arguments and fill missing ones with `undefined`, so
 * `add(1, 2, 3)` silently gave 3. The table below is the spec; a new export without an entry fails
 * the first test.
 */
import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import { toy } from "./__tests__/toy-engine.js";
import * as ir from "./index.js";
import { ArgumentError, add, sum } from "./index.js";

/** [fewest, most] arguments of each exported function (Infinity for a rest parameter). */
const ARITIES: Record<string, readonly [number, number]> = {
  // dtypes, errors, shapes
  isFloat: [1, 1],
  promoteTypes: [2, 2],
  describeValue: [1, 1],
  formatValue: [1, 1],
  broadcastShapes: [3, 3],
  sizeOf: [1, 1],
  formatShape: [1, 1],
  shapesEqual: [2, 2],
  normalizeAxes: [3, 3],
  normalizeAxis: [3, 3],
  broadcastedAxes: [2, 2],
  // creation
  tensor: [1, 2],
  scalar: [1, 2],
  zeros: [1, 2],
  ones: [1, 2],
  full: [2, 3],
  arange: [1, 4],
  linspace: [3, 4],
  eye: [1, 3],
  randomNormal: [2, 2],
  randomUniform: [2, 2],
  isPrimitive: [1, 1],
  // elementwise
  neg: [1, 1],
  abs: [1, 1],
  sign: [1, 1],
  exp: [1, 1],
  log: [1, 1],
  log1p: [1, 1],
  expm1: [1, 1],
  sin: [1, 1],
  cos: [1, 1],
  tanh: [1, 1],
  sqrt: [1, 1],
  add: [2, 2],
  sub: [2, 2],
  mul: [2, 2],
  maximum: [2, 2],
  minimum: [2, 2],
  div: [2, 2],
  pow: [2, 2],
  square: [1, 1],
  reciprocal: [1, 1],
  tan: [1, 1],
  sigmoid: [1, 1],
  relu: [1, 1],
  clip: [3, 3],
  astype: [2, 2],
  greater: [2, 2],
  greaterEqual: [2, 2],
  less: [2, 2],
  lessEqual: [2, 2],
  equal: [2, 2],
  notEqual: [2, 2],
  where: [3, 3],
  // reductions
  sum: [1, 3],
  mean: [1, 3],
  variance: [1, 3],
  max: [1, 3],
  min: [1, 3],
  logsumexp: [1, 3],
  argmax: [1, 2],
  // shape
  reshape: [2, 2],
  transpose: [1, 2],
  broadcastTo: [2, 2],
  expandDims: [2, 2],
  squeeze: [1, 2],
  slice: [2, 3],
  pad: [2, 3],
  concat: [1, 2],
  stack: [1, 2],
  take: [2, 3],
  oneHot: [2, 3],
  // linear algebra, nn, differentiation control
  matmul: [2, 2],
  dot: [2, 2],
  outer: [2, 2],
  stopGradient: [1, 1],
  isFloatTensor: [1, 1],
  softmax: [1, 2],
  logSoftmax: [1, 2],
  crossEntropy: [2, 2],
  mse: [2, 2],
  customJvp: [2, 2],
  customVjp: [3, 3],
  // pytrees
  flatten: [1, 3],
  unflatten: [2, 2],
  leafCount: [1, 1],
  numberLeaves: [1, 1],
  sameStructure: [2, 3],
  describeTree: [1, 1],
  mapTree: [2, 2],
  // graphs
  trace: [1, Infinity],
  traceWith: [2, Infinity],
  evalGraph: [2, 2],
  toFunction: [1, 1],
  validateGraph: [1, 1],
  graphToJSON: [1, 1],
  serializeGraph: [1, 1],
  parseGraph: [1, 1],
  graphToText: [1, 1],
  graphToDot: [1, 2],
  graphToMermaid: [1, 2],
  graphToAscii: [1, 2],
  valueNames: [1, 1],
  // config, engines
  withDebugNans: [1, 1],
  checkNans: [3, 3],
  defineEngine: [1, 1],
};

/**
 * Engine-author machinery, called on every primitive with values the engine has checked: these
 * trust their arguments (index.ts says so), so they are not in the table.
 */
const MACHINERY = new Set([
  "inferAval",
  "evalPrimitive",
  "bind",
  "bindCustomJvp",
  "bindCustomVjp",
  "withTrace",
  "findTopTrace",
  "raiseAll",
  "nextLevel",
  "currentTrace",
  "checkNotEscaped",
  "toOperand",
  "toOperands",
  "castTo",
]);

const isClass = (f: unknown) => typeof f === "function" && /^class\b/.test(Function.prototype.toString.call(f));

const exportedFunctions = Object.entries(ir).filter(([, v]) => typeof v === "function" && !isClass(v)) as [
  string,
  (...args: unknown[]) => unknown,
][];

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
      grad: [1, 2],
      valueAndGrad: [1, 2],
      jvp: [3, 3],
      vjp: [1, Infinity],
      jacobian: [1, 2],
      hessian: [1, 2],
      hvp: [3, 3],
    };
    const engine = toy as unknown as Record<string, (...args: unknown[]) => unknown>;
    for (const [name, [min, max]] of Object.entries(methods)) {
      if (max !== Infinity) {
        expectError(() => engine[name]!(...new Array(max + 1).fill(0)), ArgumentError, `${name}: expected ${argumentsText(min, max)}, got ${max + 1}`);
      }
      expectError(() => engine[name]!(), ArgumentError, `${name}: expected ${argumentsText(min, max)}, got 0`);
    }
    // an option object JAX users might pass is refused instead of ignored
    expectError(() => engine["grad"]!((x: number) => x, 0, { hasAux: true }), ArgumentError, "grad: expected 1 to 2 arguments, got 3");
    const [, pullback] = toy.vjp((x: number) => x, 1);
    expectError(() => (pullback as (...a: unknown[]) => unknown)(1, 2), ArgumentError, "vjp pullback: expected 1 argument, got 2");
  });

  it("optional arguments may be passed as undefined", () => {
    expect(sum([1, 2], undefined, undefined).item()).toBe(3);
    expect(ir.zeros([2], undefined).dtype).toBe("float64");
  });
});
