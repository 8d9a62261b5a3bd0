/** Linear algebra: the batched matrix product (bilinear). */
import { DTypeError, ShapeError } from "../errors.js";
import { matmulKernel } from "../kernels.js";
import type { Empty } from "../primitives.js";
import { broadcastShapes, formatShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { bilinearJvp, expandBatched, liftBatched, moveAxis, requireSameDtype, type Definitions } from "./define.js";

export interface LinalgParams {
  /** Batched matrix product: a [...b1, m, k] · b [...b2, k, n] → [...broadcast(b1, b2), m, n]. */
  matmul: Empty;
}

/** a [k, ...s, m, n] · b [n, p] as one [k·…·m, n] · [n, p] product. */
function foldIntoRows(a: Tensor, b: Tensor, k: number, outShape: readonly number[]): Tensor {
  const n = a.shape[a.rank - 1]!;
  const rows = bind("reshape", [a], { shape: [a.size / n, n] });
  return bind("reshape", [bind("matmul", [rows, b], {})], { shape: [k, ...outShape] });
}

/** a [m, n] · b [k, n, p] as one [m, n] · [n, k·p] product, the batch moved back in front. */
function foldIntoColumns(a: Tensor, b: Tensor, k: number): Tensor {
  const [, n, p] = b.shape as [number, number, number];
  const m = a.shape[0]!;
  const columns = bind("reshape", [moveAxis(b, 0, 1)], { shape: [n, k * p] });
  const product = bind("reshape", [bind("matmul", [a, columns], {})], { shape: [m, k, p] });
  return moveAxis(product, 1, 0);
}

export const LINALG: Definitions<keyof LinalgParams> = {
  matmul: {
    name: "matmul",
    arity: 2,
    params: {},
    shape: ([a, b]) => {
      const dtype = requireSameDtype("matmul", [a!, b!]);
      if (dtype === "bool") throw new DTypeError("matmul: expected numeric operands, got bool");
      const ra = a!.shape.length;
      const rb = b!.shape.length;
      if (ra < 2 || rb < 2) {
        throw new ShapeError(`matmul: expected operands of rank ≥ 2, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
      }
      if (a!.shape[ra - 1] !== b!.shape[rb - 2]) {
        throw new ShapeError(`matmul: expected inner dimensions to match, got ${formatShape(a!.shape)} and ${formatShape(b!.shape)}`);
      }
      const batch = broadcastShapes("matmul", a!.shape.slice(0, -2), b!.shape.slice(0, -2));
      return { shape: [...batch, a!.shape[ra - 2]!, b!.shape[rb - 1]!], dtype };
    },
    kernel: matmulKernel,
    // d(A·B) = dA·B + A·dB
    jvp: bilinearJvp("matmul"),
    // Ā = C̄·Bᵀ, B̄ = Aᵀ·C̄, each summed over broadcast batch axes
    vjp: {
      saves: "inputs",
      vjp: (ct, { x }, needs, m) => [
        needs & 1 ? m.unbroadcast(m.matmulNT(ct, x[1]!), x[0]!.shape) : null,
        needs & 2 ? m.unbroadcast(m.matmulTN(x[0]!, ct), x[1]!.shape) : null,
      ],
    },
    // a shared matrix: the batch folds into the other operand's rows (or columns): one GEMM, not k;
    // otherwise the batch axis becomes one more broadcast batch axis
    batch: ([a, b], batched, _params, k, out) => {
      if (batched[0] && !batched[1] && b!.rank === 2 && b!.shape[0]! > 0) return foldIntoRows(a!, b!, k, out.shape);
      if (batched[1] && !batched[0] && a!.rank === 2 && b!.rank === 3) return foldIntoColumns(a!, b!, k);
      const rank = out.shape.length;
      const lift = (t: Tensor, i: number) => (batched[i] ? liftBatched(t, rank) : t);
      return expandBatched(bind("matmul", [lift(a!, 0), lift(b!, 1)], {}), k, out.shape);
    },
  },
};
