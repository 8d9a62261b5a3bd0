// Exercises every transformation of the engine; run by no-eval.test.ts under
// `node --disallow-code-generation-from-strings`, where eval and new Function throw.
import * as ir from "@chainrule/ir";
import { customJvp, customVjp, tensor, type Tensor } from "@chainrule/ir";
import { formatTape, grad, hessian, hvp, jacobian, jvp, traceBackward, valueAndGrad, vjp } from "@chainrule/reverse";

let evalBlocked = false;
try {
  new Function("return 1")();
} catch {
  evalBlocked = true;
}

const seed = (x: Tensor, y: Tensor) => ir.mul(ir.add(x, y), ir.sub(x, y));
const cube = (x: Tensor) => ir.mul(x, ir.mul(x, x));
const vec = (x: Tensor) => ir.sum(ir.mul(ir.sin(x), ir.exp(x)));
const x = tensor([0.1, 0.2, 0.3]);
const softplus = customJvp(
  (t: Tensor) => ir.log1p(ir.exp(t)),
  ([t], [dt]) => [ir.log1p(ir.exp(t!)), ir.mul(ir.sigmoid(t!), dt!)],
);
const clipped = customVjp(
  (t: Tensor) => t,
  (t: Tensor) => [t, null],
  (_r: null, ct: Tensor) => [ir.clip(ct, -1, 1)],
);
const [, pullback] = vjp(seed, 3, 2);
// large enough for eager fusion, which needs new Function: it is off here, and the gradient is the same
const big = tensor(Float64Array.from({ length: 5000 }, (_, i) => Math.cos(i)));
const bigGrad = grad((t: Tensor) => ir.sum(ir.mul(ir.sin(t), t)))(big) as Tensor;
const bigWant = (i: number) => Math.cos(Math.cos(i)) * Math.cos(i) + Math.sin(Math.cos(i));
const status = ir.fusionStatus();
const result = {
  evalBlocked,
  grad: grad(seed, [0, 1])(3, 2),
  valueAndGrad: valueAndGrad(seed)(3, 2),
  third: grad(grad(grad(cube)))(2),
  jvp: jvp(seed, [3, 2], [1, 0]),
  vjp: pullback(1),
  jacobian: (jacobian((t: Tensor) => ir.mul(t, t))(x) as Tensor).toArray(),
  hessian: hessian(seed, [0, 1])(3, 2),
  hvp: hvp(seed, [3, 2], [1, 1]),
  vector: (grad(vec)(x) as Tensor).shape,
  customJvp: (grad as (f: unknown) => (a: number) => number)(softplus)(0),
  customVjp: (grad as (f: unknown) => (a: number) => number)((t: Tensor) => ir.mul(clipped(t), 5))(1),
  tape: formatTape(traceBackward(seed, 3, 2)).split("\n").length,
  fusion: {
    enabled: status.enabled,
    available: status.available,
    refused: status.reason.startsWith("code generation from strings is refused"),
  },
  bigGradient: Array.from(bigGrad.data).every((g, i) => Math.abs(g - bigWant(i)) <= 1e-12),
};
console.log(JSON.stringify(result));
