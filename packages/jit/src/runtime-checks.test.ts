/**
 * The data checks eager ops make (class labels in range, integer indices, gather indices in
 * range) hold in compiled code too: compiled at run time into the generated JavaScript, the
 * WebAssembly kernel programs and emitted modules, with the eager messages (docs/jit-runtime-checks.md).
 */
import { fc, test } from "@fast-check/vitest";
import {
  ArgumentError,
  add,
  crossEntropy,
  DTypeError,
  GraphError,
  matmul,
  mul,
  oneHot,
  parseGraph,
  scalar,
  serializeGraph,
  sum,
  take,
  tensor,
  trace,
  type Tensor,
} from "@chainrule/ir";
import { afterEach, describe, expect, it } from "vitest";
import { runCompiled } from "./compile.js";
import { compileGraph, configureKernels, emitModule, grad, hessian, interpreter, jit, jvp, valueAndGrad, vjp } from "./index.js";

afterEach(() => {
  configureKernels();
});

const logits = tensor([
  [1, 2],
  [3, 1],
]);
const badLabels = tensor([1, 2], { dtype: "int32" });
const loss = (l: Tensor, y: Tensor) => crossEntropy(l, y);

/** What `f` gives: its value, or the error's class and message. */
function outcome(f: () => unknown): { value: unknown } | { error: string; message: string } {
  try {
    const v = f();
    return { value: v };
  } catch (error) {
    return { error: (error as Error).name, message: (error as Error).message };
  }
}

/** Numbers of a result tree (tensors as arrays), for comparing values across engines. */
function numbers(v: unknown): unknown {
  if (typeof v === "number") return v;
  if (Array.isArray(v)) return v.map(numbers);
  if (v !== null && typeof v === "object" && "data" in v) return Array.from((v as Tensor).data);
  return v;
}

function expectSameOutcome(compiled: () => unknown, eager: () => unknown, digits = 12): void {
  const got = outcome(compiled);
  const want = outcome(eager);
  if ("error" in want) {
    expect(got).toEqual(want);
    return;
  }
  expect("value" in got, `compiled threw ${JSON.stringify(got)}`).toBe(true);
  const a = (numbers((got as { value: unknown }).value) as number[]).flat(3);
  const b = (numbers(want.value) as number[]).flat(3);
  expect(a.length).toBe(b.length);
  a.forEach((x, i) => expect(x).toBeCloseTo(b[i]!, digits));
}

describe("class labels in compiled code", () => {
  it("jit.valueAndGrad(crossEntropy) throws the eager error for an out-of-range label (it returned 0.157)", () => {
    expect(() => crossEntropy(logits, badLabels)).toThrow("crossEntropy: expected class indices in [0, 1], got 2");
    const vg = valueAndGrad(loss);
    const e = outcome(() => vg(logits, badLabels));
    expect(e).toEqual({ error: "ArgumentError", message: "crossEntropy: expected class indices in [0, 1], got 2" });
    // the same compiled function still computes good labels, and checks again on the next bad call
    const [value] = vg(logits, tensor([1, 0], { dtype: "int32" })) as [Tensor, Tensor];
    expect(value.item()).toBeCloseTo((crossEntropy(logits, tensor([1, 0], { dtype: "int32" })) as Tensor).item(), 14);
    expect(() => vg(logits, tensor([-1, 0], { dtype: "int32" }))).toThrow(
      new ArgumentError("crossEntropy: expected class indices in [0, 1], got -1"),
    );
  });

  it("every transformation checks (jit, grad, jvp, vjp, hessian), float labels must be integers", () => {
    const checks: [string, () => unknown][] = [
      ["jit", () => jit(loss)(logits, badLabels)],
      ["grad", () => grad(loss)(logits, badLabels)],
      ["jvp", () => jvp((l: Tensor) => loss(l, badLabels), [logits], [logits])],
      ["jvp of both (float labels)", () => jvp(loss, [logits, tensor([1, 2])], [logits, tensor([0, 0])])],
      ["vjp", () => vjp(loss, logits, badLabels)],
      ["hessian", () => hessian(loss)(logits, badLabels)],
    ];
    for (const [name, f] of checks) {
      expect(outcome(f), name).toEqual({ error: "ArgumentError", message: "crossEntropy: expected class indices in [0, 1], got 2" });
    }
    expect(outcome(() => grad(loss)(logits, tensor([1, 0.5])))).toEqual({
      error: "DTypeError",
      message: "crossEntropy: expected integer class indices, got 0.5",
    });
    expect(outcome(() => jit(loss)(tensor([1, 2]), scalar(3, "int32")))).toEqual(outcome(() => loss(tensor([1, 2]), scalar(3, "int32"))));
  });

  it("a check whose value nothing reads still runs (not removed as dead code)", () => {
    const f = jit((l: Tensor, y: Tensor) => {
      crossEntropy(l, y);
      return mul(l, 2);
    });
    expect(() => f(logits, badLabels)).toThrow(new ArgumentError("crossEntropy: expected class indices in [0, 1], got 2"));
    expect(f.source).toMatch(/rt_checkIndices\(x1, "crossEntropy", "class indices", 0, 2\)/);
  });

  it("on the WebAssembly kernels (a training step with a matmul)", () => {
    configureKernels({ everyProgram: true });
    const step = valueAndGrad((w: Tensor, x: Tensor, y: Tensor) => crossEntropy(matmul(x, w), y));
    const w = tensor([
      [0.1, -0.2, 0.3],
      [0.4, 0.5, -0.6],
    ]);
    const x = tensor([
      [1, 2],
      [3, 4],
    ]);
    expect(() => step(w, x, tensor([0, 3], { dtype: "int32" }))).toThrow(
      new ArgumentError("crossEntropy: expected class indices in [0, 2], got 3"),
    );
    expect(step.source).toMatch(/WebAssembly kernels/);
    expect(step.source).toMatch(/check v\d+ \(crossEntropy\) \[reference\]/);
    const [l] = step(w, x, tensor([0, 2], { dtype: "int32" })) as [Tensor, Tensor];
    expect(l.item()).toBeCloseTo((crossEntropy(matmul(x, w), tensor([0, 2], { dtype: "int32" })) as Tensor).item(), 12);
  });

  it("in a module written by emitModule (a RangeError or TypeError with the same message)", async () => {
    const text = emitModule(loss, [logits, tensor([1, 0], { dtype: "int32" })], { emit: ["value"] });
    const m = (await import(/* @vite-ignore */ `data:text/javascript,${encodeURIComponent(text)}`)) as {
      value: (l: Float64Array, y: Int32Array) => number;
    };
    const l = Float64Array.from([1, 2, 3, 1]);
    expect(m.value(l, Int32Array.from([1, 0]))).toBeCloseTo((loss(logits, tensor([1, 0], { dtype: "int32" })) as Tensor).item(), 14);
    expect(() => m.value(l, Int32Array.from([1, 2]))).toThrow(new RangeError("crossEntropy: expected class indices in [0, 1], got 2"));
  });
});

describe("checks in graphs", () => {
  it("survive a JSON round trip and compileGraph; an unknown check op is refused when the graph is parsed", () => {
    const good = tensor([1, 0], { dtype: "int32" });
    const text = serializeGraph(trace(loss, logits, good));
    expect(text).toMatch(/"op":"checkIndices","inputs":\[\d+\],"params":\{"op":"crossEntropy","size":2\}/);
    const compiled = compileGraph(parseGraph(text));
    expect(runCompiled(compiled, [logits, good])[0]!.item()).toBeCloseTo((loss(logits, good) as Tensor).item(), 14);
    expect(() => runCompiled(compiled, [logits, badLabels])).toThrow(
      new ArgumentError("crossEntropy: expected class indices in [0, 1], got 2"),
    );
    expect(() => parseGraph(text.replace('"op":"crossEntropy"', '"op":"x\\u0022); alert(1); //"'))).toThrow(GraphError);
    expect(() => parseGraph(text.replace('"size":2', '"size":-2'))).toThrow(/checkIndices: expected size ≥ −1, got -2/);
  });
});

describe("indices in compiled code", () => {
  const table = tensor([10, 20, 30]);
  it("take with float indices: integers are used, fractions are the eager DTypeError (it was a ConcretizationError)", () => {
    const f = jit((x: Tensor, i: Tensor) => take(x, i));
    expect(Array.from((f(table, tensor([0, 2])) as Tensor).data)).toEqual([10, 30]);
    expect(outcome(() => f(table, tensor([0, 2.5])))).toEqual({ error: "DTypeError", message: "take: expected integer indices, got 2.5" });
    expect(() => take(table, tensor([0, 2.5]))).toThrow(new DTypeError("take: expected integer indices, got 2.5"));
    expect(outcome(() => grad((x: Tensor, i: Tensor) => sum(take(x, i)))(table, tensor([1, Number.NaN])))).toEqual({
      error: "DTypeError",
      message: "take: expected integer indices, got NaN",
    });
    expect(outcome(() => jit((i: Tensor) => oneHot(i, 3))(tensor([0.5])))).toEqual({
      error: "DTypeError",
      message: "oneHot: expected integer indices, got 0.5",
    });
  });

  it("gather indices out of range: the eager ArgumentError, in JavaScript and on the kernels", () => {
    for (const everyProgram of [false, true]) {
      configureKernels({ everyProgram });
      const f = grad((x: Tensor, i: Tensor) => sum(mul(take(x, i), x.shape[0]!)));
      expect(outcome(() => f(table, tensor([0, 3], { dtype: "int32" })))).toEqual({
        error: "ArgumentError",
        message: "take: expected indices in [-3, 2], got 3",
      });
      expect(Array.from((f(table, tensor([0, -1], { dtype: "int32" })) as Tensor).data)).toEqual([3, 0, 3]);
    }
  });
});

describe("property: compiled and eager agree on index data (same value or same error)", () => {
  const labels = fc.array(
    fc.oneof(fc.integer({ min: -2, max: 5 }), fc.constantFrom(0.5, -0.5, 1.25, Number.NaN, Number.POSITIVE_INFINITY)),
    { minLength: 3, maxLength: 3 },
  );
  const logits3 = tensor([
    [0.1, 0.7, -0.4, 1.2],
    [2, -1, 0.3, 0.5],
    [-0.2, 0.9, 0.1, 0.4],
  ]);

  test.prop([labels, fc.boolean(), fc.boolean()], { numRuns: 60 })(
    "crossEntropy and its gradient, int32 or float labels, in JavaScript or on the kernels",
    (values, asInt, kernels) => {
      configureKernels({ everyProgram: kernels });
      const ints = values.every((v) => Number.isInteger(v));
      const y = asInt && ints ? tensor(values, { dtype: "int32" }) : tensor(values);
      expectSameOutcome(
        () => valueAndGrad(loss)(logits3, y),
        // the interpreter differentiates with the eager kernels (no compiling)
        () => [crossEntropy(logits3, y), interpreter.grad(loss)(logits3, y)],
      );
    },
  );

  test.prop([labels, fc.boolean()], { numRuns: 60 })("take and its gradient, int32 or float indices", (values, asInt) => {
    const ints = values.every((v) => Number.isInteger(v) && v >= -8 && v < 8);
    const i = asInt && ints ? tensor(values, { dtype: "int32" }) : tensor(values);
    const x = tensor([1, 2, 3, 4]);
    const f = (x: Tensor, i: Tensor) => sum(mul(take(x, i), add(x.shape[0]!, 0.5)));
    expectSameOutcome(
      () => jit((x: Tensor, i: Tensor) => take(x, i))(x, i),
      () => take(x, i),
    );
    expectSameOutcome(
      () => grad(f)(x, i),
      () => interpreter.grad(f)(x, i),
    );
  });
});
