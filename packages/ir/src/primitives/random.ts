/**
 * Counter-based random bits (family "random", issue 18): one primitive, `threefry2x32`, the
 * Threefry-2x32 block cipher with 20 rounds (Salmon et al., "Parallel random numbers: as easy as
 * 1, 2, 3", SC 2011; the generator of JAX's `random` module). It is a pure function of a key and
 * a counter, both int32 word pairs, so the same key gives the same bits in every engine, under
 * the JIT and under vmap; `random.ts` (ops) builds keys, split, foldIn and the samplers on it.
 */
import { DTypeError, ShapeError } from "../errors.js";
import { broadcastOperand, type Kernel } from "../kernels.js";
import type { Empty } from "../primitives.js";
import { broadcastShapes, formatShape } from "../shape.js";
import { Tensor } from "../tensor.js";
import { elementwiseBatch, ZERO_DERIVATIVE, type Definitions } from "./define.js";

export interface RandomParams {
  /**
   * threefry2x32(key: int32 [..., 2], counter: int32 [..., 2]): the cipher of each counter pair
   * under each key pair (leading axes broadcast), int32 [..., 2] (words as int32 bit patterns).
   */
  threefry2x32: Empty;
}

/**
 * Threefry-2x32-20 of the counter (x0, x1) under the key (k0, k1), words as 32-bit patterns:
 * five groups of four rounds (x0 += x1; x1 = rotl(x1, r) ^ x0, rotations R_32x2 of Random123),
 * a key injection after each. Writes the two words into out[at], out[at + 1]. Self-contained
 * (its source text is the JIT's runtime helper, THREEFRY_SOURCE).
 */
export function threefry2x32Block(k0: number, k1: number, x0: number, x1: number, out: Int32Array, at: number): void {
  const rotations = [13, 15, 26, 6, 17, 29, 16, 24];
  const ks = [k0 | 0, k1 | 0, (k0 ^ k1 ^ 0x1bd11bda) | 0];
  let a = (x0 + ks[0]!) | 0;
  let b = (x1 + ks[1]!) | 0;
  for (let group = 0; group < 5; group++) {
    for (let round = 0; round < 4; round++) {
      const r = rotations[(group % 2) * 4 + round]!;
      a = (a + b) | 0;
      b = ((b << r) | (b >>> (32 - r))) ^ a;
    }
    // key injection number group + 1: (ks[(g+1) mod 3], ks[(g+2) mod 3] + g + 1)
    a = (a + ks[(group + 1) % 3]!) | 0;
    b = (b + ks[(group + 2) % 3]! + group + 1) | 0;
  }
  out[at] = a;
  out[at + 1] = b;
}

/** Source text of `threefry2x32Block` (a function expression), for generated code. */
export const THREEFRY_SOURCE = `(${threefry2x32Block.toString()})`;

/** One input's word pairs, broadcast to the output's pairs (step 0: one pair shared by all). */
function pairs(t: Tensor, shape: readonly number[]): [ArrayLike<number>, number] {
  if (t.size === 2) return [t.data, 0];
  const [data] = broadcastOperand(t, shape);
  return [data, 2];
}

const threefryKernel: Kernel<"threefry2x32"> = ([key, counter], _params, out) => {
  const data = new Int32Array(out.shape.reduce((p, d) => p * d, 1));
  const [k, ks] = pairs(key!, out.shape);
  const [c, cs] = pairs(counter!, out.shape);
  for (let i = 0, n = data.length / 2; i < n; i++) threefry2x32Block(k[i * ks]!, k[i * ks + 1]!, c[i * cs]!, c[i * cs + 1]!, data, 2 * i);
  return new Tensor("int32", out.shape.slice(), data);
};

export const RANDOM: Definitions<keyof RandomParams> = {
  threefry2x32: {
    name: "threefry2x32",
    arity: 2,
    params: {},
    shape: ([key, counter]) => {
      for (const [name, aval] of [
        ["key", key!],
        ["counter", counter!],
      ] as const) {
        if (aval.dtype !== "int32") throw new DTypeError(`threefry2x32: expected an int32 ${name}, got ${aval.dtype}`);
        if (aval.shape[aval.shape.length - 1] !== 2) {
          throw new ShapeError(`threefry2x32: expected a ${name} of shape [..., 2] (word pairs), got ${formatShape(aval.shape)}`);
        }
      }
      return { shape: broadcastShapes("threefry2x32", key!.shape, counter!.shape), dtype: "int32" };
    },
    kernel: threefryKernel,
    // integer bits of integer inputs: derivative 0
    ...ZERO_DERIVATIVE,
    // pairs are independent: batch axes broadcast like an elementwise op's
    batch: elementwiseBatch("threefry2x32"),
  },
};
