/**
 * Forward mode where it shines: a Jacobian of a function with few inputs and many outputs (one
 * forward pass per input column), and a Hessian-vector product without forming the Hessian.
 *
 *   pnpm --filter @chainrule/examples run example:jacobian-hvp
 */
import { add, linspace, mul, sin, slice, square, sub, sum, tensor, type Tensor } from "@chainrule/ir";
import { engine as forward } from "@chainrule/forward";
import { engine as reverse } from "@chainrule/reverse";
import { isMain } from "./main.js";

/** A damped wave sampled at `n` points: 2 parameters in, n values out. */
export function wave(n: number) {
  const t = linspace(0, 2 * Math.PI, n);
  return (params: Tensor): Tensor => mul(slice(params, [0], [1]), sin(mul(slice(params, [1], [2]), t)));
}

/** The Jacobian of `wave(n)` at (amplitude, frequency) by forward mode, shape [n, 2], and the exact one. */
export function waveJacobian(n = 100, at: readonly [number, number] = [1.5, 2]): { jacobian: number[][]; exact: number[][] } {
  const jacobian = forward.jacobian(wave(n))(tensor([...at]));
  const t = Array.from(linspace(0, 2 * Math.PI, n).data);
  const exact = t.map((ti) => [Math.sin(at[1] * ti), at[0] * ti * Math.cos(at[1] * ti)]);
  return { jacobian: jacobian.toArray() as number[][], exact };
}

/** The Rosenbrock function in n dimensions. */
export function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1], [n]);
  return sum(add(mul(100, square(sub(tail, square(head)))), square(sub(1, head))));
}

/** H·v for Rosenbrock without forming H, by the reverse and the forward engine, and the same from the full Hessian. */
export function rosenbrockHvp(x: readonly number[], v: readonly number[]): { hvp: number[]; forwardHvp: number[]; viaHessian: number[] } {
  const [hv] = reverse.hvp(rosenbrock, [tensor([...x])], [tensor([...v])]);
  const [forwardHv] = forward.hvp(rosenbrock, [tensor([...x])], [tensor([...v])]);
  const hessian = reverse
    .hessian(rosenbrock)(tensor([...x]))
    .toArray() as number[][];
  const viaHessian = hessian.map((row) => row.reduce((acc, h, j) => acc + h * v[j]!, 0));
  return { hvp: Array.from(hv.data), forwardHvp: Array.from(forwardHv.data), viaHessian };
}

export function main(): void {
  const { jacobian, exact } = waveJacobian(100);
  const error = Math.max(...jacobian.flatMap((row, i) => row.map((j, k) => Math.abs(j - exact[i]![k]!))));
  console.log(
    `Jacobian of a 2 → 100 function by forward mode: shape [${jacobian.length}, ${jacobian[0]!.length}], max error vs. exact ` +
      `${error.toExponential(2)}`,
  );
  const { hvp, forwardHvp, viaHessian } = rosenbrockHvp([1.2, 0.8, -0.5, 1], [1, 0, -1, 0.5]);
  const show = (values: number[]) => `[${values.map((h) => h.toFixed(3)).join(", ")}]`;
  console.log(`Hessian-vector product of Rosenbrock (reverse engine): ${show(hvp)}`);
  console.log(`the same by the forward engine:                       ${show(forwardHvp)}`);
  console.log(`the full Hessian times v:                             ${show(viaHessian)}`);
}

if (isMain(import.meta.url)) main();
