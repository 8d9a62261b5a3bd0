/**
 * Forward mode's tangents: k directions stacked in one tensor `[k, ...shape]`, and the linear
 * operations ir's JVP rules apply to them (`TangentOps`). The rules are written for one tangent
 * shaped like its primal; a chunk of k is the batch of k such tangents, so every operation on a
 * chunk is the primitive's batching rule (ir's definitions) with the batch axis in front — this is
 * JAX's jacfwd = vmap(jvp), with the batching done once per primitive application, not by a
 * separate trace. Forward mode thus keeps no derivative math and no per-primitive tangent layout.
 */
import {
  bind,
  DEFINITIONS,
  expandBatched,
  fuse,
  FUSING_MATH,
  inferAval,
  internalError,
  liftBatched,
  plainFactor,
  scalar,
  shapesEqual,
  zeros,
  type Aval,
  type Params,
  type Primitive,
  type Shape,
  type TangentOps,
  type Tensor,
} from "@chainrule/ir";

/** Stacked tangents `[k, ...shape]`, or `null` for a symbolic zero. */
export type Tangent = Tensor | null;

/** A chunk of k tangents of one value, marked as such for `ChunkOps` (primal operands are plain tensors). */
export class Chunk {
  constructor(readonly value: Tensor) {}

  /** The shape of one tangent (the primal's). */
  get shape(): Shape {
    return this.value.shape.slice(1);
  }
}

/**
 * The linear operations on chunks. The derivative factors' math is `FUSING_MATH`, and scale, add
 * and neg try eager fusion first: on large concrete values (a chunk of one direction, `[1, ...shape]`,
 * against primal-shaped factors; or chunks of one shape) they return lazy values, so a primitive's
 * factors and tangent products are computed in one fused loop, bitwise as the unfused kernels.
 */
export class ChunkOps implements TangentOps<Chunk> {
  readonly math = FUSING_MATH;

  constructor(readonly k: number) {}

  scale(t: Chunk, f: Tensor | number): Chunk {
    const plain = plainFactor(f);
    // fused only when the result keeps the chunk's shape (f of lower rank than the stacked tangents)
    const lazy = typeof f === "number" || f.rank < t.value.rank ? fuse(plain ? "mul" : "mulNoNan", [t.value, f]) : undefined;
    if (lazy !== undefined) return new Chunk(lazy);
    return this.apply(plain ? "mul" : "mulNoNan", [t, typeof f === "number" ? scalar(f, t.value.dtype) : f], {});
  }

  add(a: Chunk, b: Chunk): Chunk {
    const lazy = shapesEqual(a.value.shape, b.value.shape) ? fuse("add", [a.value, b.value]) : undefined;
    return lazy !== undefined ? new Chunk(lazy) : this.apply("add", [a, b], {});
  }

  neg(t: Chunk): Chunk {
    return new Chunk(fuse("neg", [t.value]) ?? bind("neg", [t.value], {}));
  }

  apply<P extends Primitive>(prim: P, args: readonly (Chunk | Tensor)[], params: Params<P>): Chunk {
    const n = args.length;
    const batched = new Array<boolean>(n);
    const values = new Array<Tensor>(n);
    const avals = new Array<Aval>(n);
    for (let i = 0; i < n; i++) {
      const a = args[i]!;
      batched[i] = a instanceof Chunk;
      values[i] = a instanceof Chunk ? a.value : a;
      avals[i] = a instanceof Chunk ? { shape: a.shape, dtype: a.value.dtype } : a;
    }
    const batch = DEFINITIONS[prim].batch;
    if (batch === undefined) throw internalError(`forward: ${prim} has no batching rule to apply to tangents`);
    return new Chunk(batch(values, batched, params, this.k, inferAval(prim, avals, params)));
  }

  broadcast(t: Chunk, shape: Shape): Chunk {
    if (shapesEqual(t.shape, shape)) return t;
    return new Chunk(expandBatched(liftBatched(t.value, shape.length), this.k, shape));
  }

  zeros(like: Aval): Chunk {
    return new Chunk(zeros([this.k, ...like.shape], like.dtype));
  }
}
