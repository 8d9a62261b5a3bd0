/** Linear algebra: the batched matrix product (bilinear). */
import { DTypeError, ShapeError } from "../errors.js";
import { matmulKernel } from "../kernels.js";
import type { Empty } from "../primitives.js";
import { broadcastShapes, formatShape } from "../shape.js";
import type { Tensor } from "../tensor.js";
import { bind } from "../trace.js";
import { bilinearJvp, expandBatched, liftBatched, requireSameDtype, type Definitions } from "./define.js";

export interface LinalgParams {
  /** Batched matrix product: a [...b1, m, k] · b [...b2, k, n] → [...broadcast(b1, b2), m, n]. */
  matmul: Empty;
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
    // the batch axis becomes one more broadcast batch axis
    batch: ([a, b], batched, _params, k, out) => {
      const rank = out.shape.length;
      const lift = (t: Tensor, i: number) => (batched[i] ? liftBatched(t, rank) : t);
      return expandBatched(bind("matmul", [lift(a!, 0), lift(b!, 1)], {}), k, out.shape);
    },
  },
};
