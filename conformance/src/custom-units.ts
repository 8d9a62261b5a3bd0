/**
 * Op vocabularies for random programs beyond `UNITS`: functions with custom rules (each with its
 * correct rule, so every engine must agree with the plain function's derivative) and
 * data-dependent `where`. Used by the cross-engine properties; programs mixing them with `UNITS`
 * come from `programFunction(program, [...UNITS, ...CUSTOM_JVP_UNITS, ...])`.
 */
import * as ir from "@chainrule/ir";
import type { Tensor } from "@chainrule/ir";
import { broadcastable, type Unit } from "./graphs.js";

const sinRule = ir.customJvp(
  function customSin(x: Tensor) {
    return ir.sin(x);
  },
  ([x], [t]) => [ir.sin(x!), ir.mul(ir.cos(x!), t!)],
);

/** a·tanh(b), broadcasting: the tangent is ta·tanh b + a·(1 − tanh² b)·tb. */
const scaledTanh = ir.customJvp(
  function scaledTanh(a: Tensor, b: Tensor) {
    return ir.mul(a, ir.tanh(b));
  },
  ([a, b], [ta, tb]) => {
    const t = ir.tanh(b!);
    return [ir.mul(a!, t), ir.add(ir.mul(ta!, t), ir.mul(ir.mul(a!, ir.sub(1, ir.mul(t, t))), tb!))];
  },
);

/** sin(sin a), whose function calls another custom function: the rule is the chain rule. */
const sinSin = ir.customJvp(
  function sinSin(x: Tensor) {
    return ir.sin(sinRule(x));
  },
  ([x], [t]) => [ir.sin(ir.sin(x!)), ir.mul(ir.mul(ir.cos(ir.sin(x!)), ir.cos(x!)), t!)],
);

/** Functions with custom JVP rules (correct ones). */
export const CUSTOM_JVP_UNITS: readonly (readonly [string, Unit])[] = [
  ["customJvp(sin)", (a) => sinRule(a)],
  [
    "customJvp(a·tanh b)",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && scaledTanh(a, b);
    },
  ],
  ["customJvp(sin∘customJvp(sin))", (a) => sinSin(a)],
];

const tanhRule = ir.customVjp(
  function customTanh(x: Tensor) {
    return ir.tanh(x);
  },
  (x: Tensor) => {
    const y = ir.tanh(x);
    return [y, y] as [Tensor, Tensor];
  },
  (y, g) => [ir.mul(g, ir.sub(1, ir.mul(y, y)))],
);

const product = ir.customVjp(
  function customProduct(a: Tensor, b: Tensor) {
    return ir.mul(a, b);
  },
  (a: Tensor, b: Tensor) => [ir.mul(a, b), [a, b]] as [Tensor, [Tensor, Tensor]],
  ([a, b], g) => [ir.mul(g, b), ir.mul(g, a)],
);

/** Functions with custom VJP rules (correct ones): forward mode of a program using one raises. */
export const CUSTOM_VJP_UNITS: readonly (readonly [string, Unit])[] = [
  ["customVjp(tanh)", (a) => tanhRule(a)],
  [
    "customVjp(a·b) (same shape)",
    (a, pick) => {
      const b = pick((t) => t.shape.length === a.shape.length && t.shape.every((d, i) => d === a.shape[i]));
      return b && product(a, ir.tanh(b));
    },
  ],
];

/** Data-dependent selection: the condition follows the values, and the idiom that keeps log's branch safe. */
export const WHERE_UNITS: readonly (readonly [string, Unit])[] = [
  [
    "where(a > b, a, b)",
    (a, pick) => {
      const b = pick(broadcastable(a));
      return b && ir.where(ir.greater(a, b), a, b);
    },
  ],
  ["where(a > 0, tanh a, a/2)", (a) => ir.where(ir.greater(a, 0), ir.tanh(a), ir.mul(a, 0.5))],
  [
    "where(a > 0.1, log(where(a > 0.1, a, 1)), a) (double where)",
    (a) => {
      const inside = ir.greater(a, 0.1);
      return ir.where(inside, ir.log(ir.where(inside, a, 1)), a);
    },
  ],
];
