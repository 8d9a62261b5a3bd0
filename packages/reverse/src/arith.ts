/**
 * The arithmetic the backward pass runs ir's VJP rules with (`REVERSE_MATH`, the rules'
 * `TensorMath`). Each helper is an ir op, so a backward pass run on tracers of an enclosing
 * transformation is itself recorded and differentiable (that is how reverse-over-reverse works).
 * When every operand is a concrete float tensor of the same shape (or a scalar against a tensor),
 * the helper runs its loop directly over the typed arrays instead of going through `bind`, which
 * is what makes small gradients cheap. On large operands a helper first asks ir's eager fusion
 * (`fuse`) for a lazy value, computed later in one loop with its neighbours. The loops compute
 * exactly what ir's eager kernels compute (tests check this); there is no derivative math here.
 */
import * as ir from "@chainrule/ir";
import {
  fuse,
  fusedSum,
  fuseFill,
  FUSING_MATH,
  isFloat,
  isPending,
  plainFactor,
  shapesEqual,
  swapFusionAllocator,
  Tensor,
  TENSOR_MATH,
  Tracer,
  type DType,
  type FusionAllocator,
  type Shape,
  type TensorMath,
} from "@chainrule/ir";

type FloatArray = Float64Array | Float32Array;

// ── allocation ─────────────────────────────────────────────────────────────────────────────
// A fresh ArrayBuffer costs microseconds for mid-sized arrays (an off-heap, zeroed backing store
// plus external-memory accounting), far more than the loop that fills it. Results from 64 bytes
// to 32 KiB are therefore carved, in order, out of 128 KiB slabs that are never reused: a slab
// is freed by the garbage collector once no view on it is alive, and a fresh slab is zeroed like
// any new buffer. Values handed back to the caller are copied out (`detach`), so a kept gradient
// never pins a slab.

const SLAB_BYTES = 1 << 17;
const SMALL_BYTES = 64;
const LARGE_BYTES = 1 << 15;
let slab: ArrayBuffer | null = null;
let slabOffset = 0;

// ── the backward sweep's buffer pool ─────────────────────────────────────────────────────
// While a concrete backward sweep runs, arrays over LARGE_BYTES that every caller overwrites
// whole (`overwrite`) come from a free list of dead buffers when one of the same dtype and
// length is there. Every large array allocated during the sweep is recorded as `owned`: the sweep
// may recycle it (release it to the free list, or accumulate into it in place) only while it is
// owned, and it stops being owned as soon as it may be referenced twice or by user code
// (`disown`). The free list outlives the sweep (bounded by FREE_LIMIT bytes): a buffer on it is
// referenced by nothing, so the next sweep, or the next forward pass of `grad` (a pool that owns
// nothing: forward values are never recycled), can take it. Nothing handed back to the caller is
// ever on it.

const FREE_LIMIT = 64 * 1024 * 1024;
const FREE = new Map<string, FloatArray[]>();
let freeBytes = 0;

/**
 * One backward sweep's owned buffers (or, with `owning` false, a forward pass that only takes free
 * ones). It is also where fused (lazy) values are computed into (`takeFree`): such a buffer is
 * never owned, since other lazy values may read it.
 */
export class SweepPool implements FusionAllocator {
  private readonly owned = new Set<FloatArray>();
  private readonly owning: boolean;
  /** Large arrays allocated while this pool was current, and how many of them were reused ones. */
  allocations = 0;
  reused = 0;

  constructor(owning = true) {
    this.owning = owning;
  }

  take(dtype: DType, size: number): FloatArray {
    this.allocations++;
    const list = FREE.get(dtype + size);
    let out = list?.pop();
    if (out !== undefined) {
      this.reused++;
      freeBytes -= out.byteLength;
    } else out = dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
    if (this.owning) this.owned.add(out);
    return out;
  }

  /** A free buffer (or a fresh one) that the pool does not own: a lazy value's result. */
  takeFree(dtype: DType, size: number): FloatArray {
    this.allocations++;
    const out = FREE.get(dtype + size)?.pop();
    if (out === undefined) return dtype === "float64" ? new Float64Array(size) : new Float32Array(size);
    this.reused++;
    freeBytes -= out.byteLength;
    return out;
  }

  /** Records a fresh array the pool did not hand out (one whose caller needs it zeroed). */
  record(data: FloatArray): void {
    this.allocations++;
    if (this.owning) this.owned.add(data);
  }

  owns(t: Tensor): boolean {
    return !(t instanceof Tracer) && !isPending(t) && this.owned.has(t.data as FloatArray);
  }

  disown(t: Tensor | null | undefined): void {
    if (t !== null && t !== undefined && !(t instanceof Tracer) && !isPending(t)) this.owned.delete(t.data as FloatArray);
  }

  /** Puts a dead, owned buffer on the free list (or leaves it to the collector when the list is full). */
  release(t: Tensor): void {
    const data = t.data as FloatArray;
    if (!this.owned.delete(data) || freeBytes + data.byteLength > FREE_LIMIT) return;
    freeBytes += data.byteLength;
    const key = t.dtype + data.length;
    const list = FREE.get(key);
    if (list === undefined) FREE.set(key, [data]);
    else list.push(data);
  }
}

/** Bytes held by the free list (measurements). */
export function freeListBytes(): number {
  return freeBytes;
}

/** Empties the free list (tests). */
export function clearFreeList(): void {
  FREE.clear();
  freeBytes = 0;
}

let pool: SweepPool | null = null;
let pooling = true;

/** Turns the sweeps' buffer pools on or off (on by default; off: every result is a fresh array, as before). */
export function setPooling(on: boolean): void {
  pooling = on;
}

export function poolingEnabled(): boolean {
  return pooling;
}

/** Makes `next` the current pool (null: none); returns the previous one, to restore afterwards. */
export function swapPool(next: SweepPool | null): SweepPool | null {
  const previous = pool;
  pool = next;
  swapFusionAllocator(next);
  return previous;
}

/** Whether two concrete tensors share memory (the same array, or views of one buffer). */
export function sharesMemory(a: Tensor, b: Tensor): boolean {
  if (a instanceof Tracer || b instanceof Tracer || isPending(a) || isPending(b)) return false;
  return a.data === b.data || a.data.buffer === b.data.buffer;
}

/** a += b in place, for concrete float tensors of one dtype and shape; false when not applicable. */
export function addInto(a: Tensor, b: Tensor): boolean {
  if (layout(a, b) !== 1) return false;
  const x = a.data,
    y = b.data;
  for (let i = 0; i < x.length; i++) x[i] = x[i]! + y[i]!;
  return true;
}

function allocate(dtype: DType, size: number, overwrite = false): FloatArray {
  const f64 = dtype === "float64";
  const bytes = size * (f64 ? 8 : 4);
  if (bytes > LARGE_BYTES && pool !== null) {
    if (overwrite) return pool.take(dtype, size);
    const out = f64 ? new Float64Array(size) : new Float32Array(size);
    pool.record(out);
    return out;
  }
  if (bytes <= SMALL_BYTES || bytes > LARGE_BYTES) return f64 ? new Float64Array(size) : new Float32Array(size);
  if (slab === null || slabOffset + bytes > SLAB_BYTES) {
    slab = new ArrayBuffer(SLAB_BYTES);
    slabOffset = 0;
  }
  const out = f64 ? new Float64Array(slab, slabOffset, size) : new Float32Array(slab, slabOffset, size);
  slabOffset += (bytes + 7) & ~7;
  return out;
}

/** Whether a tensor's data lives in a slab. */
export function inSlab(t: Tensor): boolean {
  if (t instanceof Tracer) return false;
  const data = t.data;
  const bytes = data.byteLength;
  // never touch `.buffer` of a small array: that would make V8 materialize an ArrayBuffer for it
  if (bytes <= SMALL_BYTES || bytes > LARGE_BYTES) return false;
  return data.buffer.byteLength === SLAB_BYTES;
}

/** A tensor safe to hand to the caller: slab data is copied into its own buffer. */
export function detach(t: Tensor): Tensor {
  return inSlab(t) ? new Tensor(t.dtype, t.shape, t.data.slice()) : t;
}

/**
 * How two concrete operands can take the direct loop: 1 = same shape, 2 = b is a scalar that
 * broadcasts into a, 3 = a is a scalar that broadcasts into b, 0 = use the ir op.
 */
function layout(a: Tensor, b: Tensor): number {
  if (a instanceof Tracer || b instanceof Tracer || a.dtype !== b.dtype || !isFloat(a.dtype)) return 0;
  if (shapesEqual(a.shape, b.shape)) return 1;
  if (b.shape.length <= a.shape.length && b.size === 1) return 2;
  if (a.shape.length <= b.shape.length && a.size === 1) return 3;
  return 0;
}

/**
 * The primal of an elementwise primitive on concrete float operands by a direct loop, or
 * undefined when the operands need ir's general kernel (other dtypes, general broadcasting).
 */
export function fastPrimal(prim: string, inputs: readonly Tensor[], params: unknown): Tensor | undefined {
  // an active eager backend (ir's backend registry, e.g. @chainrule/wasm) takes the large ones first
  const onBackend = ir.backendRun(prim as ir.Primitive, inputs, params as ir.Params);
  if (onBackend !== undefined) return onBackend;
  switch (prim) {
    case "slice": {
      const { begin, end } = params as { begin: number[]; end: number[] };
      return fastSlice(inputs[0]!, begin, end);
    }
    case "pad": {
      const { low, high } = params as { low: number[]; high: number[] };
      return fastPad(inputs[0]!, low, high);
    }
    case "broadcastTo": {
      const x = inputs[0]!;
      if (x instanceof Tracer || x.size !== 1) return undefined;
      return fillLike(new Tensor(x.dtype, [], x.data), (params as { shape: number[] }).shape);
    }
    case "reduceSum": {
      const x = inputs[0]!;
      const { axes } = params as { axes: number[] };
      if (x instanceof Tracer || !isFloat(x.dtype) || axes.length !== x.shape.length) return undefined;
      if (isPending(x)) {
        // a lazy value's sum, in the fused loop (the same order, so the same bits)
        const out = allocate(x.dtype, 1);
        out[0] = fusedSum(x);
        return new Tensor(x.dtype, [], out);
      }
      // the eager kernel's order of summation, rounding to float32 at each step like it does
      const data = x.data;
      let total = 0;
      if (x.dtype === "float32") for (let i = 0; i < data.length; i++) total = Math.fround(total + data[i]!);
      else for (let i = 0; i < data.length; i++) total += data[i]!;
      const out = allocate(x.dtype, 1);
      out[0] = total;
      return new Tensor(x.dtype, [], out);
    }
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const a = inputs[0]!,
        b = inputs[1]!;
      const kind = layout(a, b);
      if (kind === 0) return undefined;
      const x = a.data,
        y = b.data;
      const n = kind === 3 ? y.length : x.length;
      const out = allocate(a.dtype, n, true);
      const sa = kind === 3 ? 0 : 1,
        sb = kind === 2 ? 0 : 1;
      if (kind === 1) {
        // same shapes: plain indexing (the strided loop below costs a multiply per operand)
        if (prim === "add") for (let i = 0; i < n; i++) out[i] = x[i]! + y[i]!;
        else if (prim === "sub") for (let i = 0; i < n; i++) out[i] = x[i]! - y[i]!;
        else if (prim === "mul") for (let i = 0; i < n; i++) out[i] = x[i]! * y[i]!;
        else for (let i = 0; i < n; i++) out[i] = x[i]! / y[i]!;
      } else if (prim === "add") for (let i = 0; i < n; i++) out[i] = x[i * sa]! + y[i * sb]!;
      else if (prim === "sub") for (let i = 0; i < n; i++) out[i] = x[i * sa]! - y[i * sb]!;
      else if (prim === "mul") for (let i = 0; i < n; i++) out[i] = x[i * sa]! * y[i * sb]!;
      else for (let i = 0; i < n; i++) out[i] = x[i * sa]! / y[i * sb]!;
      return new Tensor(a.dtype, kind === 3 ? b.shape : a.shape, out);
    }
    case "neg": {
      const a = inputs[0]!;
      return isFloat(a.dtype) ? neg(a) : undefined;
    }
    case "matmul":
      return matmulNN(inputs[0]!, inputs[1]!);
    default:
      return undefined;
  }
}

export function add(a: Tensor, b: Tensor): Tensor {
  const lazy = fuse("add", [a, b]);
  if (lazy !== undefined) return lazy;
  const kind = layout(a, b);
  if (kind === 0) return ir.add(a, b);
  const x = a.data,
    y = b.data;
  if (kind === 1) {
    const out = allocate(a.dtype, x.length, true);
    for (let i = 0; i < out.length; i++) out[i] = x[i]! + y[i]!;
    return new Tensor(a.dtype, a.shape, out);
  }
  return kind === 2 ? addScalar(a, y[0]!) : addScalar(b, x[0]!);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  const lazy = fuse("sub", [a, b]);
  if (lazy !== undefined) return lazy;
  const kind = layout(a, b);
  if (kind !== 1) return ir.sub(a, b);
  const x = a.data,
    y = b.data;
  const out = allocate(a.dtype, x.length, true);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! - y[i]!;
  return new Tensor(a.dtype, a.shape, out);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  const lazy = fuse("mul", [a, b]);
  if (lazy !== undefined) return lazy;
  const kind = layout(a, b);
  if (kind === 0) return ir.mul(a, b);
  const x = a.data,
    y = b.data;
  if (kind === 1) {
    const out = allocate(a.dtype, x.length, true);
    for (let i = 0; i < out.length; i++) out[i] = x[i]! * y[i]!;
    return new Tensor(a.dtype, a.shape, out);
  }
  return kind === 2 ? scale(a, y[0]!) : scale(b, x[0]!);
}

export function div(a: Tensor, b: Tensor): Tensor {
  const lazy = fuse("div", [a, b]);
  if (lazy !== undefined) return lazy;
  const kind = layout(a, b);
  if (kind !== 1) return ir.div(a, b);
  const x = a.data,
    y = b.data;
  const out = allocate(a.dtype, x.length, true);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! / y[i]!;
  return new Tensor(a.dtype, a.shape, out);
}

export function neg(a: Tensor): Tensor {
  const lazy = fuse("neg", [a]);
  if (lazy !== undefined) return lazy;
  if (a instanceof Tracer || !isFloat(a.dtype)) return ir.neg(a);
  const x = a.data;
  const out = allocate(a.dtype, x.length, true);
  for (let i = 0; i < out.length; i++) out[i] = -x[i]!;
  return new Tensor(a.dtype, a.shape, out);
}

/** a · c for a JS number c (c takes a's dtype). */
export function scale(a: Tensor, c: number): Tensor {
  const lazy = fuse("mul", [a, c]);
  if (lazy !== undefined) return lazy;
  if (a instanceof Tracer || !isFloat(a.dtype)) return ir.mul(a, c);
  const x = a.data;
  const out = allocate(a.dtype, x.length, true);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * c;
  return new Tensor(a.dtype, a.shape, out);
}

/** A concrete scalar broadcast to `shape` (the rule of a full sum), or undefined when not applicable. */
export function fillLike(ct: Tensor, shape: Shape): Tensor | undefined {
  if (ct instanceof Tracer || ct.shape.length !== 0 || !isFloat(ct.dtype)) return undefined;
  const lazy = fuseFill(ct, shape);
  if (lazy !== undefined) return lazy;
  let size = 1;
  for (const d of shape) size *= d;
  const out = allocate(ct.dtype, size, true);
  out.fill(ct.data[0]!);
  return new Tensor(ct.dtype, shape, out);
}

/** a + c for a JS number c (c takes a's dtype). */
export function addScalar(a: Tensor, c: number): Tensor {
  const lazy = fuse("add", [a, c]);
  if (lazy !== undefined) return lazy;
  if (a instanceof Tracer || !isFloat(a.dtype)) return ir.add(a, c);
  const x = a.data;
  const out = allocate(a.dtype, x.length, true);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! + c;
  return new Tensor(a.dtype, a.shape, out);
}

/** mulNoNan(a, b) (the (co)tangent product: 0 · ∞ = 0), by a direct loop on concrete operands. */
export function mulNoNan(a: Tensor, b: Tensor | number): Tensor {
  if (typeof b === "number") {
    if (plainFactor(b)) return scale(a, b);
    const lazy = fuse("mulNoNan", [a, b]);
    if (lazy !== undefined) return lazy;
    if (a instanceof Tracer || !isFloat(a.dtype)) return ir.mulNoNan(a, b);
    const x = a.data;
    const out = allocate(a.dtype, x.length, true);
    // mulNoNan written inline: a helper returning a double would box it on every element
    for (let i = 0; i < out.length; i++) {
      const u = x[i]!;
      const v = u * b;
      out[i] = v === v || (u !== 0 && b !== 0) ? v : 0;
    }
    return new Tensor(a.dtype, a.shape, out);
  }
  const lazy = fuse("mulNoNan", [a, b]);
  if (lazy !== undefined) return lazy;
  const kind = layout(a, b);
  if (kind === 0) return ir.mulNoNan(a, b);
  if (kind !== 1) return kind === 2 ? mulNoNan(a, b.data[0]!) : mulNoNan(b, a.data[0]!);
  const x = a.data,
    y = b.data;
  const out = allocate(a.dtype, x.length, true);
  // plain products first, watching for a NaN or ±∞ (v − v is NaN only then): the zero guard, a
  // branch per element, runs only in the rare pass that needs it
  let watch = 0;
  for (let i = 0; i < out.length; i++) {
    const v = x[i]! * y[i]!;
    out[i] = v;
    watch += v - v;
  }
  if (watch !== watch) {
    for (let i = 0; i < out.length; i++) {
      const u = x[i]!;
      const w = y[i]!;
      const v = u * w;
      out[i] = v === v || (u !== 0 && w !== 0) ? v : 0;
    }
  }
  return new Tensor(a.dtype, a.shape, out);
}

/** ir's VJP rules run with this: the direct loops above on concrete operands, ir's ops otherwise. */
export const REVERSE_MATH: TensorMath = {
  // the derivative factors' math (exp, log, pow, …): ir's FUSING_MATH, lazy when large, else ir's ops
  ...FUSING_MATH,
  add: (a, b) =>
    typeof a === "number" ? (typeof b === "number" ? ir.add(a, b) : addScalar(b, a)) : typeof b === "number" ? addScalar(a, b) : add(a, b),
  sub: (a, b) => (typeof a === "number" || typeof b === "number" ? FUSING_MATH.sub(a, b) : sub(a, b)),
  mul: (a, b) =>
    typeof a === "number" ? (typeof b === "number" ? ir.mul(a, b) : scale(b, a)) : typeof b === "number" ? scale(a, b) : mul(a, b),
  div: (a, b) => (typeof a === "number" || typeof b === "number" ? FUSING_MATH.div(a, b) : div(a, b)),
  neg,
  scale: mulNoNan,
  bind: (prim, args, params) => fuse(prim, args, params) ?? fastPrimal(prim, args, params) ?? ir.bind(prim, args, params),
  matmulNT: (a, b) => ir.backendMatmul(a, b, false, true) ?? matmulNT(a, b) ?? TENSOR_MATH.matmulNT(a, b),
  matmulTN: (a, b) => ir.backendMatmul(a, b, true, false) ?? matmulTN(a, b) ?? TENSOR_MATH.matmulTN(a, b),
};

/** Size of the axes after the first (a row of the leading axis). */
function rowSize(shape: Shape): number {
  let size = 1;
  for (let i = 1; i < shape.length; i++) size *= shape[i]!;
  return size;
}

/** x[begin:end] when only the leading axis is cut (one contiguous block), else undefined. */
export function fastSlice(x: Tensor, begin: readonly number[], end: readonly number[]): Tensor | undefined {
  if (x instanceof Tracer || !isFloat(x.dtype) || x.shape.length === 0) return undefined;
  for (let i = 1; i < x.shape.length; i++) if (begin[i] !== 0 || end[i] !== x.shape[i]) return undefined;
  const row = rowSize(x.shape);
  const shape = x.shape.slice();
  shape[0] = end[0]! - begin[0]!;
  const out = allocate(x.dtype, shape[0] * row, true);
  out.set((x.data as FloatArray).subarray(begin[0]! * row, end[0]! * row));
  return new Tensor(x.dtype, shape, out);
}

/** Zero padding when only the leading axis is padded (one contiguous copy), else undefined. */
export function fastPad(x: Tensor, low: readonly number[], high: readonly number[]): Tensor | undefined {
  if (x instanceof Tracer || !isFloat(x.dtype) || x.shape.length === 0) return undefined;
  for (let i = 1; i < x.shape.length; i++) if (low[i] !== 0 || high[i] !== 0) return undefined;
  const row = rowSize(x.shape);
  const shape = x.shape.slice();
  shape[0] = x.shape[0]! + low[0]! + high[0]!;
  const out = allocate(x.dtype, shape[0] * row, true);
  // a pooled buffer is not zeroed: write the padding too
  out.fill(0, 0, low[0]! * row);
  out.set(x.data as FloatArray, low[0]! * row);
  out.fill(0, (low[0]! + x.shape[0]!) * row);
  return new Tensor(x.dtype, shape, out);
}

/** Zeros shaped like a value, for inputs the backward pass did not reach. */
export function zerosLike(shape: Shape, dtype: DType): Tensor {
  return ir.zeros(shape as number[], dtype);
}

// ── matrix products ────────────────────────────────────────────────────────────────────────
// Rank-2 products of concrete float matrices of one dtype (anything else: undefined, and the
// caller uses ir's matmul). Each output element accumulates its products in the same order as
// ir's i-k-j kernel — with float32 rounding after every step, as the kernel's Float32Array
// stores do — so the results are bitwise those of ir's kernel; the loops are unrolled by four
// over the summed index, which saves loads and stores of the output.

function matrices(a: Tensor, b: Tensor): boolean {
  return (
    !(a instanceof Tracer) &&
    !(b instanceof Tracer) &&
    a.dtype === b.dtype &&
    isFloat(a.dtype) &&
    a.shape.length === 2 &&
    b.shape.length === 2
  );
}

/** A·B for A [m, k], B [k, n]. */
export function matmulNN(a: Tensor, b: Tensor): Tensor | undefined {
  if (!matrices(a, b) || a.shape[1] !== b.shape[0]) return undefined;
  const m = a.shape[0]!,
    k = a.shape[1]!,
    n = b.shape[1]!;
  const A = a.data,
    B = b.data;
  const C = allocate(a.dtype, m * n);
  const f32 = a.dtype === "float32";
  for (let i = 0; i < m; i++) {
    const c0 = i * n;
    let p = 0;
    for (; p + 3 < k; p += 4) {
      const a0 = A[i * k + p]!,
        a1 = A[i * k + p + 1]!,
        a2 = A[i * k + p + 2]!,
        a3 = A[i * k + p + 3]!;
      const r0 = p * n,
        r1 = r0 + n,
        r2 = r1 + n,
        r3 = r2 + n;
      if (f32) {
        for (let j = 0; j < n; j++) {
          let c = C[c0 + j]!;
          c = Math.fround(c + a0 * B[r0 + j]!);
          c = Math.fround(c + a1 * B[r1 + j]!);
          c = Math.fround(c + a2 * B[r2 + j]!);
          C[c0 + j] = Math.fround(c + a3 * B[r3 + j]!);
        }
      } else {
        for (let j = 0; j < n; j++) C[c0 + j] = C[c0 + j]! + a0 * B[r0 + j]! + a1 * B[r1 + j]! + a2 * B[r2 + j]! + a3 * B[r3 + j]!;
      }
    }
    for (; p < k; p++) {
      const ap = A[i * k + p]!;
      const r = p * n;
      for (let j = 0; j < n; j++) C[c0 + j] = C[c0 + j]! + ap * B[r + j]!;
    }
  }
  return new Tensor(a.dtype, [m, n], C);
}

/** A·Bᵀ for A [m, n], B [k, n] (the cotangent of matmul's first operand). */
export function matmulNT(a: Tensor, b: Tensor): Tensor | undefined {
  if (!matrices(a, b) || a.shape[1] !== b.shape[1]) return undefined;
  const m = a.shape[0]!,
    n = a.shape[1]!,
    k = b.shape[0]!;
  const A = a.data,
    B = b.data;
  const C = allocate(a.dtype, m * k);
  const f32 = a.dtype === "float32";
  for (let i = 0; i < m; i++) {
    const ai = i * n;
    let p = 0;
    // four outputs at once: independent sums, each in order over j
    for (; p + 3 < k; p += 4) {
      const b0 = p * n,
        b1 = b0 + n,
        b2 = b1 + n,
        b3 = b2 + n;
      let s0 = 0,
        s1 = 0,
        s2 = 0,
        s3 = 0;
      if (f32) {
        for (let j = 0; j < n; j++) {
          const x = A[ai + j]!;
          s0 = Math.fround(s0 + x * B[b0 + j]!);
          s1 = Math.fround(s1 + x * B[b1 + j]!);
          s2 = Math.fround(s2 + x * B[b2 + j]!);
          s3 = Math.fround(s3 + x * B[b3 + j]!);
        }
      } else {
        for (let j = 0; j < n; j++) {
          const x = A[ai + j]!;
          s0 += x * B[b0 + j]!;
          s1 += x * B[b1 + j]!;
          s2 += x * B[b2 + j]!;
          s3 += x * B[b3 + j]!;
        }
      }
      C[i * k + p] = s0;
      C[i * k + p + 1] = s1;
      C[i * k + p + 2] = s2;
      C[i * k + p + 3] = s3;
    }
    for (; p < k; p++) {
      const bp = p * n;
      let s = 0;
      if (f32) for (let j = 0; j < n; j++) s = Math.fround(s + A[ai + j]! * B[bp + j]!);
      else for (let j = 0; j < n; j++) s += A[ai + j]! * B[bp + j]!;
      C[i * k + p] = s;
    }
  }
  return new Tensor(a.dtype, [m, k], C);
}

/** Aᵀ·B for A [m, k], B [m, n] (the cotangent of matmul's second operand). */
export function matmulTN(a: Tensor, b: Tensor): Tensor | undefined {
  if (!matrices(a, b) || a.shape[0] !== b.shape[0]) return undefined;
  const m = a.shape[0]!,
    k = a.shape[1]!,
    n = b.shape[1]!;
  const A = a.data,
    B = b.data;
  const C = allocate(a.dtype, k * n);
  const f32 = a.dtype === "float32";
  let i = 0;
  for (; i + 3 < m; i += 4) {
    const r0 = i * n,
      r1 = r0 + n,
      r2 = r1 + n,
      r3 = r2 + n;
    for (let p = 0; p < k; p++) {
      const a0 = A[i * k + p]!,
        a1 = A[(i + 1) * k + p]!,
        a2 = A[(i + 2) * k + p]!,
        a3 = A[(i + 3) * k + p]!;
      const c0 = p * n;
      if (f32) {
        for (let j = 0; j < n; j++) {
          let c = C[c0 + j]!;
          c = Math.fround(c + a0 * B[r0 + j]!);
          c = Math.fround(c + a1 * B[r1 + j]!);
          c = Math.fround(c + a2 * B[r2 + j]!);
          C[c0 + j] = Math.fround(c + a3 * B[r3 + j]!);
        }
      } else {
        for (let j = 0; j < n; j++) C[c0 + j] = C[c0 + j]! + a0 * B[r0 + j]! + a1 * B[r1 + j]! + a2 * B[r2 + j]! + a3 * B[r3 + j]!;
      }
    }
  }
  for (; i < m; i++) {
    const r = i * n;
    for (let p = 0; p < k; p++) {
      const ap = A[i * k + p]!;
      const c0 = p * n;
      for (let j = 0; j < n; j++) C[c0 + j] = C[c0 + j]! + ap * B[r + j]!;
    }
  }
  return new Tensor(a.dtype, [k, n], C);
}
