/**
 * Eager reference evaluation: the loops over typed arrays that primitive definitions
 * (primitives/*.ts) use as their kernels — elementwise primitives write their one-line loop in
 * their definition, the others name a kernel here. This is the semantics every engine is checked
 * against, so it favours clarity; scalar operands broadcast with stride 0, any other broadcast is
 * materialized first.
 */
import { allocate, INT32_MAX, INT32_MIN, type TypedArray } from "./dtype.js";
import { ArgumentError, DTypeError, formatValue } from "./errors.js";
import type { Aval, Params, Primitive } from "./primitives.js";
import { shapesEqual, sizeOf, stridesOf, type Shape } from "./shape.js";
import { indexSuffix, Tensor } from "./tensor.js";

/**
 * A float → int32 cast truncates toward zero (the documented cast), but a value whose truncation
 * is outside the int32 range (or NaN) has no int32: storing it would wrap silently. The first
 * such element is an error. `op` is the user-facing name (`astype`, or the primitive `cast`).
 */
export function checkInt32Cast(op: string, x: Tensor): void {
  if (x.dtype === "int32" || x.dtype === "bool") return;
  const input = x.data;
  for (let i = 0; i < input.length; i++) {
    const v = Math.trunc(input[i]!);
    if (!(v >= INT32_MIN && v <= INT32_MAX)) {
      throw new DTypeError(
        `${op}: expected values that truncate into the int32 range [${INT32_MIN}, ${INT32_MAX}], ` +
          `got ${formatValue(input[i]!)}${indexSuffix(i, x.shape)}`,
      );
    }
  }
}

/** An eager kernel: concrete inputs to the concrete output (of the aval the shape rule gave). */
export type Kernel<P extends Primitive> = (inputs: readonly Tensor[], params: Params<P>, out: Aval) => Tensor;

/**
 * Data of `x` laid out for `shape`, and its stride: 0 for a one-element operand, 1 otherwise.
 * A one-element or same-shape operand is used in place (no copy); only a genuine broadcast
 * (e.g. [3,1] against [3,4]) is materialized.
 */
export function broadcastOperand(x: Tensor, shape: Shape): [TypedArray, number] {
  if (x.shape === shape) return [x.data, 1];
  if (x.size === 1) return [x.data, 0];
  if (shapesEqual(x.shape, shape)) return [x.data, 1];
  return [broadcastData(x, shape), 1];
}

/** Iterates a strided view of `shape` and copies it into a dense array (the workhorse of layout ops). */
function stridedCopy(src: TypedArray, offset: number, strides: readonly number[], shape: Shape, dst: TypedArray): void {
  const rank = shape.length;
  const n = dst.length;
  if (n === 0) return;
  if (rank === 0) {
    dst[0] = src[offset]!;
    return;
  }
  const inner = shape[rank - 1]!;
  const innerStride = strides[rank - 1]!;
  const index = new Array<number>(rank).fill(0);
  let base = offset;
  for (let o = 0; o < n; o += inner) {
    for (let j = 0; j < inner; j++) dst[o + j] = src[base + j * innerStride]!;
    for (let axis = rank - 2; axis >= 0; axis--) {
      index[axis]!++;
      base += strides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      base -= strides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
}

function broadcastData(x: Tensor, shape: Shape): TypedArray {
  if (shapesEqual(x.shape, shape)) return x.data;
  const lead = shape.length - x.rank;
  const own = stridesOf(x.shape);
  const strides = shape.map((_, i) => (i < lead || x.shape[i - lead] === 1 ? 0 : own[i - lead]!));
  const data = allocate("broadcastTo", x.dtype, sizeOf(shape));
  stridedCopy(x.data, 0, strides, shape, data);
  return data;
}

export function reduceKernel(kind: "sum" | "max"): Kernel<"reduceSum" | "reduceMax"> {
  return ([x], { axes }, out) => {
    const input = x!.data;
    const size = sizeOf(out.shape);
    const data = allocate(kind === "sum" ? "reduceSum" : "reduceMax", out.dtype, size);
    // int32 storage cannot hold -Infinity (it would become 0)
    if (kind === "max") data.fill(out.dtype === "int32" ? -2147483648 : -Infinity);
    const shape = x!.shape;
    const rank = shape.length;
    // stride into the output for each input axis (0 on reduced axes)
    const outStrides = stridesOf(out.shape);
    const strideFor: number[] = [];
    let k = 0;
    for (let axis = 0; axis < rank; axis++) strideFor.push(axes.includes(axis) ? 0 : outStrides[k++]!);
    const index = new Array<number>(rank).fill(0);
    let o = 0;
    const n = input.length;
    for (let i = 0; i < n; i++) {
      const v = input[i]!;
      if (kind === "sum") data[o] = data[o]! + v;
      else if (v > data[o]! || v !== v) data[o] = v;
      for (let axis = rank - 1; axis >= 0; axis--) {
        index[axis]!++;
        o += strideFor[axis]!;
        if (index[axis]! < shape[axis]!) break;
        o -= strideFor[axis]! * shape[axis]!;
        index[axis] = 0;
      }
    }
    return new Tensor(out.dtype, out.shape, data);
  };
}

/** Splits a shape at `axis` into (outer, length of axis, inner). */
export function around(shape: Shape, axis: number, length = 1): [number, number, number] {
  return [sizeOf(shape.slice(0, axis)), sizeOf(shape.slice(axis, axis + length)), sizeOf(shape.slice(axis + length))];
}

export function checkIndex(op: string, index: number, size: number): number {
  const i = index < 0 ? index + size : index;
  if (!(i >= 0 && i < size)) {
    throw new ArgumentError(`${op}: expected indices in [${-size}, ${size - 1}], got ${index}`);
  }
  return i;
}

/** For each batch index of `batchShape` (row-major), the offset of the operand's matrix (broadcast batch axes repeat it). */
function batchOffsets(own: Shape, batchShape: Shape, matrixSize: number): number[] {
  const lead = batchShape.length - own.length;
  const ownStrides = stridesOf(own);
  const strides = batchShape.map((_, i) => (i < lead || own[i - lead] === 1 ? 0 : ownStrides[i - lead]! * matrixSize));
  const count = sizeOf(batchShape);
  const offsets = new Array<number>(count);
  const index = new Array<number>(batchShape.length).fill(0);
  let offset = 0;
  for (let t = 0; t < count; t++) {
    offsets[t] = offset;
    for (let axis = batchShape.length - 1; axis >= 0; axis--) {
      index[axis]!++;
      offset += strides[axis]!;
      if (index[axis]! < batchShape[axis]!) break;
      offset -= strides[axis]! * batchShape[axis]!;
      index[axis] = 0;
    }
  }
  return offsets;
}

export const whereKernel: Kernel<"where"> = ([cond, a, b], _params, out) => {
  const data = allocate("where", out.dtype, sizeOf(out.shape));
  const [dc, sc] = broadcastOperand(cond!, out.shape);
  const [da, sa] = broadcastOperand(a!, out.shape);
  const [db, sb] = broadcastOperand(b!, out.shape);
  for (let i = 0; i < data.length; i++) data[i] = dc[i * sc] ? da[i * sa]! : db[i * sb]!;
  return new Tensor(out.dtype, out.shape, data);
};

export const castKernel: Kernel<"cast"> = ([x], { dtype }, out) => {
  if (x!.dtype === dtype) return x!;
  const input = x!.data;
  const data = allocate("cast", dtype, input.length);
  if (dtype === "bool") for (let i = 0; i < input.length; i++) data[i] = input[i] !== 0 ? 1 : 0;
  else if (dtype === "int32") {
    checkInt32Cast("cast", x!);
    for (let i = 0; i < input.length; i++) data[i] = Math.trunc(input[i]!);
  } else data.set(input);
  return new Tensor(dtype, out.shape, data);
};

export const argmaxKernel: Kernel<"argmax"> = ([x], { axis }, out) => {
  const [outer, length, inner] = around(x!.shape, axis);
  const input = x!.data;
  const data = allocate("argmax", "int32", outer * inner);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      let bestValue = input[o * length * inner + j]!;
      for (let i = 1; i < length && bestValue === bestValue; i++) {
        const v = input[(o * length + i) * inner + j]!;
        if (v > bestValue || v !== v) {
          best = i;
          bestValue = v;
        }
      }
      data[o * inner + j] = best;
    }
  }
  return new Tensor("int32", out.shape, data);
};

// Tensors are immutable, so a reshape shares the buffer.
export const reshapeKernel: Kernel<"reshape"> = ([x], _params, out) => new Tensor(x!.dtype, out.shape, x!.data);

export const transposeKernel: Kernel<"transpose"> = ([x], { perm }, out) => {
  const own = stridesOf(x!.shape);
  const data = allocate("transpose", out.dtype, x!.size);
  stridedCopy(
    x!.data,
    0,
    perm.map((p) => own[p]!),
    out.shape,
    data,
  );
  return new Tensor(out.dtype, out.shape, data);
};

export const broadcastToKernel: Kernel<"broadcastTo"> = ([x], _params, out) => {
  if (shapesEqual(x!.shape, out.shape)) return x!;
  return new Tensor(out.dtype, out.shape, broadcastData(x!, out.shape));
};

export const sliceKernel: Kernel<"slice"> = ([x], { begin }, out) => {
  const own = stridesOf(x!.shape);
  let offset = 0;
  for (let i = 0; i < begin.length; i++) offset += begin[i]! * own[i]!;
  const data = allocate("slice", out.dtype, sizeOf(out.shape));
  stridedCopy(x!.data, offset, own, out.shape, data);
  return new Tensor(out.dtype, out.shape, data);
};

export const padKernel: Kernel<"pad"> = ([x], { low }, out) => {
  const data = allocate("pad", out.dtype, sizeOf(out.shape));
  const outStrides = stridesOf(out.shape);
  const shape = x!.shape;
  const rank = shape.length;
  const input = x!.data;
  let base = 0;
  for (let i = 0; i < rank; i++) base += low[i]! * outStrides[i]!;
  if (rank === 0) {
    data[0] = input[0]!;
    return new Tensor(out.dtype, out.shape, data);
  }
  // walk the input in order, writing at the matching padded position
  const index = new Array<number>(rank).fill(0);
  let o = base;
  for (let i = 0; i < input.length; i++) {
    data[o] = input[i]!;
    for (let axis = rank - 1; axis >= 0; axis--) {
      index[axis]!++;
      o += outStrides[axis]!;
      if (index[axis]! < shape[axis]!) break;
      o -= outStrides[axis]! * shape[axis]!;
      index[axis] = 0;
    }
  }
  return new Tensor(out.dtype, out.shape, data);
};

export const concatKernel: Kernel<"concat"> = (inputs, { axis }, out) => {
  const data = allocate("concat", out.dtype, sizeOf(out.shape));
  const [outer, , inner] = around(out.shape, axis);
  const rowLength = out.shape[axis]! * inner;
  let column = 0;
  for (const x of inputs) {
    const block = x.shape[axis]! * inner;
    const input = x.data;
    for (let o = 0; o < outer; o++) {
      data.set(input.subarray(o * block, (o + 1) * block), o * rowLength + column);
    }
    column += block;
  }
  return new Tensor(out.dtype, out.shape, data);
};

export const gatherKernel: Kernel<"gather"> = ([x, indices], { axis }, out) => {
  const [outer, length, inner] = around(x!.shape, axis);
  const idx = indices!.data;
  const input = x!.data;
  const m = idx.length;
  const data = allocate("gather", out.dtype, outer * m * inner);
  for (let j = 0; j < m; j++) {
    const source = checkIndex("take", idx[j]!, length);
    for (let o = 0; o < outer; o++) {
      const from = (o * length + source) * inner;
      const to = (o * m + j) * inner;
      for (let k = 0; k < inner; k++) data[to + k] = input[from + k]!;
    }
  }
  return new Tensor(out.dtype, out.shape, data);
};

export const scatterAddKernel: Kernel<"scatterAdd"> = ([updates, indices], { axis, size }, out) => {
  const idx = indices!.data;
  const m = idx.length;
  const [outer, , inner] = around(updates!.shape, axis, indices!.rank);
  const input = updates!.data;
  const data = allocate("scatterAdd", out.dtype, outer * size * inner);
  for (let j = 0; j < m; j++) {
    const target = checkIndex("scatterAdd", idx[j]!, size);
    for (let o = 0; o < outer; o++) {
      const from = (o * m + j) * inner;
      const to = (o * size + target) * inner;
      for (let k = 0; k < inner; k++) data[to + k] = data[to + k]! + input[from + k]!;
    }
  }
  return new Tensor(out.dtype, out.shape, data);
};

// i-k-j loop order: the inner loop runs along contiguous rows of b and of the output.
export const matmulKernel: Kernel<"matmul"> = ([a, b], _params, out) => {
  const rank = out.shape.length;
  const m = out.shape[rank - 2]!;
  const n = out.shape[rank - 1]!;
  const k = a!.shape[a!.rank - 1]!;
  const batchShape = out.shape.slice(0, -2);
  const aOffsets = batchOffsets(a!.shape.slice(0, -2), batchShape, m * k);
  const bOffsets = batchOffsets(b!.shape.slice(0, -2), batchShape, k * n);
  const da = a!.data;
  const db = b!.data;
  const data = allocate("matmul", out.dtype, sizeOf(out.shape));
  for (let t = 0; t < aOffsets.length; t++) {
    const aBase = aOffsets[t]!;
    const bBase = bOffsets[t]!;
    const cBase = t * m * n;
    for (let i = 0; i < m; i++) {
      const cRow = cBase + i * n;
      for (let p = 0; p < k; p++) {
        const aip = da[aBase + i * k + p]!;
        const bRow = bBase + p * n;
        for (let j = 0; j < n; j++) data[cRow + j] = data[cRow + j]! + aip * db[bRow + j]!;
      }
    }
  }
  return new Tensor(out.dtype, out.shape, data);
};

export const stopGradientKernel: Kernel<"stopGradient"> = ([x]) => x!;
