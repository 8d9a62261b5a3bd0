import * as ir from "@chainrule/ir";
import { add, customJvp, customVjp, exp, mul, scalar, sin, sum, tanh, tensor, withDebugNans, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { grad, hessian, vjp } from "../engine.js";
import { backward, gradients } from "./backward.js";
import { AutogradError } from "./errors.js";
import { enableGrad, isGradEnabled, noGrad, parameter, variable, Variable } from "./variable.js";

const p = (values: ir.NestedArray): Variable => variable(tensor(values), { requiresGrad: true });
const arr = (t: Tensor | null): unknown => t?.toArray();
const V = (t: Tensor): Variable => t as Variable;

function reason(f: () => unknown): { reason: string; message: string } {
  try {
    f();
  } catch (error) {
    expect(error).toBeInstanceOf(AutogradError);
    return { reason: (error as AutogradError).reason, message: (error as Error).message };
  }
  throw new Error("expected an AutogradError");
}

describe("recording and backward", () => {
  it("(x + y)(x − y) at (3, 2): grads 6 and −4 on the leaves", () => {
    const x = variable(scalar(3), { requiresGrad: true });
    const y = variable(scalar(2), { requiresGrad: true });
    const f = V(mul(add(x, y), ir.sub(x, y)));
    expect(f).toBeInstanceOf(Variable);
    expect(f.gradFn).toBe("mul");
    expect(f.isLeaf).toBe(false);
    expect(f.item()).toBe(5);
    f.backward();
    expect(x.grad!.item()).toBe(6);
    expect(y.grad!.item()).toBe(-4);
  });

  it("ops on values that do not require grad record nothing", () => {
    const a = variable(tensor([1, 2]));
    const b = V(mul(a, 2));
    expect(b.requiresGrad).toBe(false);
    expect(b.gradFn).toBeNull();
    expect(reason(() => b.backward()).reason).toBe("NO_GRAD");
    expect(reason(() => backward(tensor(1) as never)).reason).toBe("NO_GRAD");
  });

  it("gradients accumulate across backward calls until zeroGrad", () => {
    const w = p([1, 2]);
    V(sum(mul(w, w))).backward();
    V(sum(mul(w, w))).backward();
    expect(arr(w.grad)).toEqual([4, 8]);
    w.zeroGrad();
    expect(w.grad).toBeNull();
    V(sum(mul(w, 3))).backward();
    expect(arr(w.grad)).toEqual([3, 3]);
  });

  it("a value used twice, and a leaf used as the loss itself", () => {
    const x = p(2);
    V(mul(x, x)).backward();
    expect(x.grad!.item()).toBe(4);
    const y = p(5);
    y.backward();
    expect(y.grad!.item()).toBe(1);
  });

  it("backward(gradient) on a non-scalar equals the vjp; backward on it without one is a clear error", () => {
    const x0 = tensor([
      [0.1, 0.2, 0.3],
      [0.4, 0.5, 0.6],
    ]);
    const ct = tensor([
      [1, -2, 3],
      [0.5, 0, -1],
    ]);
    const x = variable(x0, { requiresGrad: true });
    const y = V(sin(mul(x, x)));
    const e = reason(() => y.backward());
    expect(e.reason).toBe("NOT_SCALAR");
    expect(e.message).toContain("expected a one-element output or a gradient, got an output of shape [2,3]");
    y.backward(ct);
    const [, pullback] = vjp((t: Tensor) => sin(mul(t, t)), x0);
    const [want] = pullback(ct);
    expect(arr(x.grad)).toEqual(want!.toArray());
    const z = V(sin(mul(x, 2)));
    expect(reason(() => z.backward(tensor([1, 2]))).message).toContain("expected a gradient of shape [2,3] (the output's), got shape [2]");
  });

  it("backward over several outputs sums their contributions; options.inputs limits accumulation", () => {
    const a = p(2),
      b = p(3);
    backward([V(mul(a, b)), V(mul(a, a))], [1, 10]);
    expect(a.grad!.item()).toBe(3 + 40);
    expect(b.grad!.item()).toBe(2);
    a.zeroGrad();
    b.zeroGrad();
    const ab = V(mul(a, b));
    V(mul(ab, 3)).backward({ inputs: [b, ab] });
    expect(a.grad).toBeNull();
    expect(b.grad!.item()).toBe(6);
    expect(ab.grad!.item()).toBe(3); // a non-leaf named in inputs gets its gradient, as in torch
  });

  it("retainGrad keeps a non-leaf gradient", () => {
    const x = p([1, 2]);
    const h = V(mul(x, 3)).retainGrad();
    V(sum(mul(h, h))).backward();
    expect(arr(h.grad)).toEqual([6, 12]);
    expect(arr(x.grad)).toEqual([18, 36]);
  });

  it("float32 leaves get float32 gradients", () => {
    const x = variable(tensor([1, 2], { dtype: "float32" }), { requiresGrad: true });
    V(sum(exp(x))).backward();
    expect(x.grad!.dtype).toBe("float32");
  });
});

describe("retainGraph", () => {
  it("a second backward through a freed graph names the problem and the fix", () => {
    const x = p(0.5);
    const loss = V(sin(mul(x, x)));
    loss.backward();
    const e = reason(() => loss.backward());
    expect(e.reason).toBe("GRAPH_FREED");
    expect(e.message).toContain("retainGraph: true");
    expect(e.message).toContain("second backward pass through sin");
  });

  it("with retainGraph the second backward adds the same gradient again", () => {
    const x = p(0.5);
    const loss = V(sin(mul(x, x)));
    loss.backward({ retainGraph: true });
    const once = x.grad!.item();
    loss.backward();
    expect(x.grad!.item()).toBe(once + once);
    expect(reason(() => loss.backward()).reason).toBe("GRAPH_FREED");
  });

  it("a graph shared by two losses: the second backward needs the first to retain it", () => {
    const x = p([1, 2]);
    const h = tanh(x);
    V(sum(h)).backward();
    expect(reason(() => V(sum(mul(h, 2))).backward()).reason).toBe("GRAPH_FREED");
    const k = tanh(x);
    V(sum(k)).backward({ retainGraph: true });
    expect(() => V(sum(mul(k, 2))).backward()).not.toThrow();
  });
});

describe("PyTorch's conventions", () => {
  it("backward() without a gradient works on any one-element output ([1], [1, 1]), as torch creates it implicitly", () => {
    const x = p([3]);
    V(mul(x, x)).backward();
    expect(arr(x.grad)).toEqual([6]);
    const w = p([[2]]);
    V(mul(w, 5)).backward();
    expect(arr(w.grad)).toEqual([[5]]);
    expect(reason(() => V(mul(p([1, 2]), 2)).backward()).reason).toBe("NOT_SCALAR");
  });

  it("a second backward is refused only when a freed saved value is needed: c = b + 1 twice works, as in PyTorch", () => {
    const b = p(2);
    const c = V(add(b, 1));
    c.backward();
    c.backward();
    expect(b.grad!.item()).toBe(2);
    // sum and neg save nothing either
    const s = V(sum(ir.neg(p([1, 2]))));
    s.backward();
    expect(() => s.backward()).not.toThrow();
  });

  it("the freed-graph error names what was freed: the saved inputs, by label, or the saved output", () => {
    const x = variable(tensor(0.5), { requiresGrad: true, name: "x" });
    const y = V(mul(x, x));
    y.backward();
    const e = reason(() => y.backward());
    expect(e.reason).toBe("GRAPH_FREED");
    expect(e.message).toMatch(
      /second backward pass through mul \(node #\d+\), whose saved inputs \('x', 'x'\) an earlier backward\(\) freed/,
    );
    const t = V(exp(p(1)));
    t.backward();
    expect(reason(() => t.backward()).message).toMatch(/whose saved output an earlier backward\(\) freed/);
  });

  it("options.inputs takes one variable or a non-empty array; an empty one or an unknown option is an error", () => {
    const a = p(2);
    const b = p(3);
    V(mul(a, b)).backward({ inputs: a });
    expect(a.grad!.item()).toBe(3);
    expect(b.grad).toBeNull();
    V(mul(a, b)).backward({ inputs: [b] });
    expect(b.grad!.item()).toBe(2);
    expect(reason(() => V(mul(a, b)).backward({ inputs: [] })).message).toContain(
      "expected options.inputs to be a variable or a non-empty array of variables, got an empty array",
    );
    expect(reason(() => gradients(V(mul(a, b)), [])).message).toContain("got an empty array");
    expect(reason(() => V(mul(a, b)).backward({ retain_graph: true } as never)).message).toContain('unknown option "retain_graph"');
  });

  it("the standalone backward(y, options) accepts the same options as y.backward(options)", () => {
    const a = p(2);
    const y = V(mul(a, a));
    backward(y, { retainGraph: true });
    backward(y, { inputs: [a] });
    expect(a.grad!.item()).toBe(8);
    const k = p(1);
    backward(V(mul(k, 3)), undefined, { inputs: k });
    expect(k.grad!.item()).toBe(3);
    expect(reason(() => backward(V(mul(k, 3)), {}, {})).message).toContain("two options objects");
  });
});

describe("noGrad, enableGrad, detach", () => {
  it("noGrad records nothing, nests, restores the mode after an exception", () => {
    const w = p([1, 2]);
    const y = noGrad(() => V(mul(w, 2)));
    expect(y.requiresGrad).toBe(false);
    expect(isGradEnabled()).toBe(true);
    expect(() =>
      noGrad(() => {
        throw new Error("boom");
      }),
    ).toThrow("boom");
    expect(isGradEnabled()).toBe(true);
    const z = noGrad(() => enableGrad(() => V(mul(w, 2))));
    expect(z.requiresGrad).toBe(true);
    expect(reason(() => noGrad(async () => 1)).message).toContain("expected a synchronous function");
  });

  it("detach cuts the graph: gradient flows only through the attached path", () => {
    const x = p(3);
    const y = V(mul(x, x.detach())); // d/dx = x (only the first factor)
    y.backward();
    expect(x.grad!.item()).toBe(3);
    expect(x.detach().isLeaf).toBe(true);
    expect(x.detach().requiresGrad).toBe(false);
  });
});

describe("hooks", () => {
  it("a leaf hook sees the gradient and may replace it; remove() detaches it", () => {
    const x = p([1, 2]);
    const seen: unknown[] = [];
    const handle = x.registerHook((g) => {
      seen.push(g.toArray());
      return mul(g, 2);
    });
    V(sum(mul(x, 3))).backward();
    expect(seen).toEqual([[3, 3]]);
    expect(arr(x.grad)).toEqual([6, 6]);
    handle.remove();
    x.zeroGrad();
    V(sum(mul(x, 3))).backward();
    expect(arr(x.grad)).toEqual([3, 3]);
  });

  it("a hook on a non-leaf changes what flows further back", () => {
    const x = p([1, 2]);
    const h = V(mul(x, 3));
    h.registerHook(() => tensor([0, 1]));
    V(sum(mul(h, h))).backward();
    expect(arr(x.grad)).toEqual([0, 3]);
  });

  it("a hook returning a wrong shape, or a hook on a value without grad, is an error", () => {
    const x = p([1, 2]);
    x.registerHook(() => tensor([1]));
    expect(reason(() => V(sum(x)).backward()).message).toContain("expected a hook on");
    expect(reason(() => variable(tensor(1)).registerHook(() => undefined)).reason).toBe("ARGUMENT");
  });
});

describe("createGraph", () => {
  it("the gradient is a variable: d²/dx² sin(x²) = functional hessian", () => {
    const x = p(0.7);
    V(sin(mul(x, x))).backward({ createGraph: true });
    const g = V(x.grad!);
    expect(g.requiresGrad).toBe(true);
    const [h] = gradients(g, x);
    expect(h!.item()).toBe(grad(grad((t: Tensor) => sin(mul(t, t))))(0.7));
  });

  it("gradient penalty: ‖∇ₓf‖² differentiated w.r.t. the weights = functional grad of the same", () => {
    const x0 = tensor([
      [0.3, -0.2],
      [0.5, 0.1],
    ]);
    const w0 = tensor([
      [0.4, -0.6],
      [0.2, 0.9],
    ]);
    const f = (x: Tensor, w: Tensor): Tensor => sum(tanh(ir.matmul(x, w)));
    const penalty = (w: Tensor): Tensor => {
      const gx = grad((x: Tensor) => f(x, w))(x0);
      return sum(mul(gx, gx));
    };
    const want = grad(penalty)(w0);
    const x = variable(x0, { requiresGrad: true });
    const w = variable(w0, { requiresGrad: true });
    const [gx] = gradients(V(f(x, w)), [x], { createGraph: true });
    V(sum(mul(gx!, gx!))).backward();
    const got = w.grad!.toArray() as number[][];
    (want.toArray() as number[][]).forEach((row, i) => row.forEach((v, j) => expect(got[i]![j]).toBeCloseTo(v, 13)));
  });

  it("third order by repeated createGraph: d³/dx³ exp(2x) = 8 exp(2x)", () => {
    const x = p(0.3);
    const [g1] = gradients(V(exp(mul(x, 2))), x, { createGraph: true });
    const [g2] = gradients(V(g1!), x, { createGraph: true });
    const [g3] = gradients(V(g2!), x);
    expect(g3!.item()).toBeCloseTo(8 * Math.exp(0.6), 12);
  });

  it("gradients() leaves .grad alone; an unused input is an error unless allowUnused", () => {
    const a = p(1),
      b = p(2);
    const [ga] = gradients(V(mul(a, 5)), [a]);
    expect(ga!.item()).toBe(5);
    expect(a.grad).toBeNull();
    expect(reason(() => gradients(V(mul(a, 5)), [a, b])).message).toContain("allowUnused");
    expect(gradients(V(mul(a, 5)), [a, b], { allowUnused: true })[1]).toBeNull();
  });
});

describe("modifying a value saved for backward", () => {
  it("assigning to a leaf after the forward pass saved it fails the backward pass, naming it", () => {
    const w = variable(tensor([1, 2]), { requiresGrad: true, name: "w" });
    const loss = V(sum(mul(w, w)));
    w.value = tensor([3, 4]);
    expect(w.version).toBe(1);
    const e = reason(() => loss.backward());
    expect(e.reason).toBe("MODIFIED");
    expect(e.message).toContain("'w'");
    expect(e.message).toContain("version 1, saved at version 0");
  });

  it("an op that saves nothing (add) does not care; assignment checks shape and dtype and refuses non-leaves", () => {
    const w = p([1, 2]);
    const loss = V(sum(add(w, 1)));
    w.value = tensor([5, 6]);
    loss.backward();
    expect(arr(w.grad)).toEqual([1, 1]);
    expect(reason(() => (w.value = tensor([1, 2, 3]))).message).toContain("expected a float64[2] value");
    expect(reason(() => (V(mul(w, 2)).value = tensor([1, 2]))).message).toContain("expected a leaf variable");
    expect(reason(() => (variable(tensor([1], { dtype: "int32" })).requiresGrad = true)).message).toContain("float");
  });
});

describe("custom rules and the functional engine", () => {
  it("customVjp: bwd's gradient, and a second order through residuals with createGraph", () => {
    const f = customVjp(
      (x: Tensor) => mul(x, mul(x, x)),
      (x: Tensor) => [mul(x, mul(x, x)), x],
      (x: unknown, ct: Tensor) => [mul(ct, mul(3, mul(x as Tensor, x as Tensor)))],
    );
    const x = p(1.5);
    const [g] = gradients(V(f(x)), x, { createGraph: true });
    expect(g!.item()).toBeCloseTo(3 * 1.5 * 1.5, 14);
    expect(gradients(V(g!), x)[0]!.item()).toBeCloseTo(6 * 1.5, 14);
  });

  it("custom rules that return the wrong things are named errors", () => {
    const x = p([1, 2]);
    const badShape = customVjp(
      (t: Tensor) => mul(t, 2),
      (t: Tensor) => [mul(t, 2), null],
      () => [tensor([1, 2, 3])],
    );
    expect(() => V(sum(badShape(x))).backward()).toThrow(
      /^customVjp: expected bwd of "anonymous" to return cotangent 0 of type float64\[2\] \(argument 0's\) or null, got float64\[3\]$/,
    );
    const badArity = customVjp(
      (t: Tensor) => mul(t, 2),
      (t: Tensor) => [mul(t, 2), null],
      () => [],
    );
    const arityMessage = /^customVjp: expected bwd of "anonymous" to return an array of 1 cotangent \(one per argument\)/;
    expect(() => V(sum(badArity(x))).backward()).toThrow(arityMessage);
    const badFwd = customVjp(
      (t: Tensor) => mul(t, 2),
      () => 3 as never,
      () => [null as never],
    );
    expect(() => badFwd(x)).toThrow(/^customVjp: expected fwd of "anonymous" to return \[output Tensor, residuals\], got number 3$/);
    const numberCt = customVjp(
      (t: Tensor) => mul(t, 2),
      (t: Tensor) => [mul(t, 2), null],
      () => [2 as never],
    );
    const s = p(1);
    V(numberCt(s)).backward();
    expect(s.grad!.item()).toBe(2);
  });

  it("customJvp: transposed rule, and second order through its coefficients", () => {
    const f = customJvp(
      (x: Tensor) => sin(x),
      ([x], [t]) => [sin(x!), mul(ir.cos(x!), t!)],
    );
    const x = p(0.4);
    const [g] = gradients(V(f(x)), x, { createGraph: true });
    expect(g!.item()).toBeCloseTo(Math.cos(0.4), 14);
    expect(gradients(V(g!), x)[0]!.item()).toBeCloseTo(-Math.sin(0.4), 14);
  });

  it("functional grad of a function closing over a parameter: the result stays connected to the graph", () => {
    const w = p(2);
    const dfdx = grad((x: Tensor) => mul(w, mul(x, x)))(tensor(3)); // 2·w·x = 12
    expect(dfdx).toBeInstanceOf(Variable);
    expect(dfdx.item()).toBe(12);
    V(dfdx).backward();
    expect(w.grad!.item()).toBe(6); // d(2wx)/dw = 2x
  });

  it("functional transformations of variables (hessian) agree with the plain ones", () => {
    const f = (t: Tensor): Tensor => sum(mul(sin(t), t));
    const x0 = tensor([0.2, 0.9]);
    expect(hessian(f)(variable(x0)).toArray()).toEqual(hessian(f)(x0).toArray());
  });

  it("NaN-debug names the op of the backward pass that made the NaN", () => {
    const x = p(0);
    // atan2's partials are 0/0 at the origin
    expect(() => withDebugNans(() => V(ir.atan2(mul(x, 2), 0)).backward())).toThrow(/backward pass of atan2/);
  });

  it("variable() refuses tracers and non-tensors", () => {
    expect(reason(() => variable(3 as never)).message).toContain("expected a Tensor");
    expect(() => grad((t: Tensor) => sum(variable(t)))(tensor([1]))).toThrow(/concrete value/);
  });

  it("parameter() requires grad; toString and describe say what a value is", () => {
    const w = parameter(tensor([1, 2]), { name: "fc.weight" });
    expect(w.requiresGrad).toBe(true);
    expect(w.describe()).toBe("variable 'fc.weight' f64[2] (leaf, requires grad)");
    expect(String(mul(w, 2))).toContain("gradFn=mul");
  });
});
