// Exercises every transformation of the forward engine; run under
// `node --disallow-code-generation-from-strings` by src/no-eval.test.ts. Prints "no-eval ok".
import {
  add,
  customJvp,
  customVjp,
  matmul,
  mul,
  sin,
  stopGradient,
  sub,
  sum,
  tanh,
  tensor,
  type Tensor,
  type TensorLike,
} from "@chainrule/ir";
import { createEngine, engine, formatForwardTrace, traceForward } from "../src/index.js";

let codegen = true;
try {
  // biome-ignore lint/security/noGlobalEval: probes whether this process allows eval at all
  const indirectEval = eval;
  indirectEval("1");
} catch {
  codegen = false;
}
if (codegen) throw new Error("expected code generation from strings to be disallowed in this process");

const seed = (x: TensorLike, y: TensorLike) => mul(add(x, y), sub(x, y));
const check = (label: string, got: unknown, want: unknown) => {
  if (JSON.stringify(got) !== JSON.stringify(want))
    throw new Error(`${label}: expected ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
};
check("grad", engine.grad(seed, [0, 1])(3, 2), [6, -4]);
check("valueAndGrad", engine.valueAndGrad(seed)(3, 2), [5, 6]);
check("jvp", engine.jvp(seed, [3, 2], [1, 0]), [5, 6]);
const [value, pullback] = engine.vjp(seed, 3, 2);
check("vjp", [value, pullback(1)], [5, [6, -4]]);
const x = tensor([0.5, -1, 2]);
const f = (v: Tensor) => sum(mul(tanh(v), sin(v)));
const g = (v: Tensor) =>
  matmul(
    tensor([
      [1, 2, 3],
      [4, 5, 6],
    ]),
    sin(v),
  );
check("jacobian shape", engine.jacobian(g)(x).shape, [2, 3]);
check("hessian shape", engine.hessian(f)(x).shape, [3, 3]);
check("hvp shape", engine.hvp(f, [x], [tensor([1, 0, 0])])[0]!.shape, [3]);
check("grad3", Math.round(engine.grad(engine.grad(engine.grad((t: Tensor) => mul(mul(t, t), t))))(2)), 6);
const cj = customJvp(
  (t: Tensor) => sin(t),
  ([p], [dp]) => [sin(p!), mul(dp!, 2)],
);
check("customJvp", engine.grad(cj)(1), 2);
const cv = customVjp(
  (t: Tensor) => sin(t),
  (t: Tensor) => [sin(t), t],
  (_t, ct) => [mul(ct, 3)],
);
let refused = "";
try {
  engine.grad(cv)(1);
} catch (error) {
  refused = (error as Error).name;
}
check("customVjp refused (forward mode)", refused, "ForwardModeError");
check("stopGradient", engine.grad((t: Tensor) => mul(stopGradient(t), t))(3), 3);
check("chunked", createEngine({ chunkSize: 1 }).grad(seed, [0, 1])(3, 2), [6, -4]);
check("trace", traceForward(seed, [3, 2], 0).tangent, 6);
void formatForwardTrace;
console.log("no-eval ok");
