import { ArgumentError, add, matmul, mul, sum, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import {
  compileGraph,
  configureKernels,
  emitModule,
  grad,
  hessian,
  jacobian,
  jit,
  onCompile,
  startThreads,
  valueAndGrad,
  type JitOptions,
} from "./index.js";
import { trace } from "@chainrule/ir";

const square = (x: Tensor) => sum(mul(x, x));
const x3 = tensor([1, 2, 3]);

/** The ArgumentError `f` throws (fails the test when it throws nothing or something else). */
function argumentError(f: () => unknown): string {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(ArgumentError);
    return (error as Error).message;
  }
  throw new Error("expected an ArgumentError, got none");
}

describe("listener validation", () => {
  it("onCompile refuses a non-function, and later compiles still work", () => {
    for (const bad of [5, null, undefined, "f", {}]) {
      expect(argumentError(() => onCompile(bad as never))).toMatch(/^onCompile: expected a listener function, got /);
    }
    const f = jit((x: Tensor) => add(x, 1));
    expect(Array.from((f(tensor([1, 2])) as Tensor).data)).toEqual([2, 3]);
    expect(grad(square)(tensor([4, 5, 6, 7]))).toBeDefined();
  });
});

describe("options of every entry point", () => {
  const malformed: [string, JitOptions, RegExp][] = [
    ["cacheSize NaN", { cacheSize: Number.NaN }, /jit: expected cacheSize to be an integer ≥ 1, got number NaN/],
    ["cacheSize 0", { cacheSize: 0 }, /jit: expected cacheSize to be an integer ≥ 1, got number 0/],
    ["cacheSize 1.5", { cacheSize: 1.5 }, /expected cacheSize/],
    [
      "staticArgnums string",
      { staticArgnums: "1" as never },
      /jit: expected staticArgnums to be an array of argument positions .*, got string "1"/,
    ],
    ["staticArgnums fraction", { staticArgnums: [1.5] }, /jit: expected staticArgnums to be .*, got \[1\.5\]/],
    ["staticArgnums negative", { staticArgnums: [-1] }, /got \[-1\]/],
    ["donate fraction", { donate: [0.5] }, /jit: expected donate to be .*, got \[0\.5\]/],
    ["exactFloat32 string", { exactFloat32: "yes" as never }, /jit: expected exactFloat32 to be a boolean, got string "yes"/],
    ["kernels number", { kernels: 1 as never }, /jit: expected kernels to be a boolean/],
    ["threads 0", { threads: 0 }, /jit: expected threads to be an integer ≥ 1/],
    [
      "optimize true",
      { optimize: true as never },
      /jit: expected optimize to be false or an object of booleans among dce, cse, fold, simplify/,
    ],
    ["optimize typo", { optimize: { dse: false } as never }, /expected optimize/],
    ["fuse string", { fuse: "no" as never }, /jit: expected fuse to be a boolean/],
  ];
  it.each(malformed)("jit refuses a malformed option: %s", (_name, options, message) => {
    expect(argumentError(() => jit(square, options))).toMatch(message);
  });

  it("unknown keys are errors on jit, grad, valueAndGrad, jacobian and hessian (hasAux only where it exists)", () => {
    expect(argumentError(() => jit(square, { hasAux: true } as never))).toMatch(
      new RegExp(
        "^jit: expected options among cacheSize, staticArgnums, staticArgnames, donate, kernels, threads, optimize, fuse, reuse, " +
          'exactFloat32, got "hasAux"$',
      ),
    );
    expect(argumentError(() => hessian(square, 0, { hasAux: true } as never))).toMatch(
      /^hessian: expected options among cacheSize, kernels, .*, got "hasAux"$/,
    );
    for (const [name, t] of [
      ["grad", grad],
      ["valueAndGrad", valueAndGrad],
      ["jacobian", jacobian],
      ["hessian", hessian],
    ] as const) {
      expect(argumentError(() => (t as typeof grad)(square, 0, { holomorphic: true } as never))).toMatch(
        new RegExp(`^${name}: expected options among cacheSize, .*, got "holomorphic"$`),
      );
      // jit-only options are not silently ignored either
      expect(argumentError(() => (t as typeof grad)(square, 0, { staticArgnums: [0] } as never))).toMatch(
        new RegExp(`^${name}: expected options among .*, got "staticArgnums" \\(staticArgnums is an option of jit only\\)$`),
      );
      expect(argumentError(() => (t as typeof grad)(square, 0, { cacheSize: -1 }))).toMatch(new RegExp(`^${name}: expected cacheSize`));
      expect(argumentError(() => (t as typeof grad)(square, 0, 5 as never))).toMatch(
        new RegExp(`^${name}: expected an options object, got number 5`),
      );
    }
    expect(argumentError(() => jit(square, null as never))).toMatch(/^jit: expected an options object, got null/);
  });

  it("staticArgnums and donate out of range for the call are errors at call time", () => {
    const f = jit((x: Tensor) => square(x), { staticArgnums: [5] });
    expect(argumentError(() => f(x3))).toBe("jit: expected staticArgnums in [0, 0] (f was called with 1 argument), got [5]");
    const g = jit((x: Tensor, y: Tensor) => add(x, y), { donate: [2] });
    expect(argumentError(() => g(x3, x3))).toMatch(/^jit: expected donate in \[0, 1\] \(f was called with 2 arguments\), got \[2\]$/);
    // in range: static numbers are baked in and recompile per value
    const h = jit((x: Tensor, k: number) => mul(x, k), { staticArgnums: [1] });
    expect(Array.from((h(x3, 2) as Tensor).data)).toEqual([2, 4, 6]);
    expect(Array.from((h(x3, 3) as Tensor).data)).toEqual([3, 6, 9]);
  });

  it("options are copied: changing the object after jit() changes nothing", () => {
    const options: JitOptions = { cacheSize: 1 };
    const f = jit(square, options);
    options.cacheSize = Number.NaN;
    f(x3);
    f(tensor([1, 2]));
    expect(f.cacheSize).toBe(1);
  });

  it("compileGraph, emitModule, configureKernels and startThreads check theirs", () => {
    const graph = trace((a: Tensor, b: Tensor) => matmul(a, b), tensor([[1]]), tensor([[2]]));
    expect(argumentError(() => compileGraph(graph, { exactFloat32: "yes" as never }))).toMatch(
      /^compileGraph: expected exactFloat32 to be a boolean/,
    );
    expect(argumentError(() => compileGraph(graph, { cacheSize: 3 } as never))).toMatch(
      /^compileGraph: expected options among .*got "cacheSize"/,
    );
    expect(argumentError(() => emitModule(square, [x3], { exactFloat32: 1 as never }))).toMatch(
      /^emitModule: expected exactFloat32 to be a boolean/,
    );
    expect(argumentError(() => emitModule(square, [x3], { emits: ["grad"] } as never))).toMatch(
      /^emitModule: expected options among emit, argnums, exactFloat32, got "emits"/,
    );
    expect(argumentError(() => emitModule(square, [x3], { emit: "grad" as never }))).toMatch(/^emitModule: expected emit to be an array/);
    expect(argumentError(() => configureKernels(5 as never))).toMatch(/^configureKernels: expected an object of settings, got number 5/);
    expect(argumentError(() => startThreads(Number.NaN))).toMatch(/^startThreads: expected a timeout in milliseconds/);
    expect(argumentError(() => startThreads("1" as never))).toMatch(/^startThreads: expected a timeout/);
  });
});
