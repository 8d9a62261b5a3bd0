/**
 * Strided copies as WebAssembly kernels: transposes (any permutation) the kernels cannot fold into
 * a consumer (the conv gradients' [N, C, …] ↔ [C, N, …] swaps, mostly) and broadcasts a fused
 * kernel cannot read as a row, column or scalar (a channel bias [1, C, 1, 1] on [N, C, H, W]):
 * the input read with a stride per output axis (0 repeats it). Axes of size 1 are dropped and
 * axes adjacent in both layouts merged first; the output is then written in order. When the last
 * output axis is contiguous in the input too (the spatial rows of a conv gradient's swap), each run
 * is one `memory.copy`; otherwise a scalar loop.
 * Elements of 4 and 8 bytes (loads and stores move bits: NaN payloads are kept).
 */
import { internalError } from "@chainrule/ir";
import type { FuncDef, Instr, ValType } from "@chainrule/wasm";

export interface TransposeSpec {
  /** Bytes per element: 4 or 8. */
  readonly size: 4 | 8;
  readonly shape: readonly number[];
  readonly perm: readonly number[];
}

/** A copy of `sizes` (output axes, row-major) reading the input at `strides` (elements) per axis. */
export interface CopySpec {
  readonly size: 4 | 8;
  readonly sizes: readonly number[];
  readonly strides: readonly number[];
}

function rowMajorStrides(shape: readonly number[]): number[] {
  const strides = Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) strides[d] = strides[d + 1]! * shape[d + 1]!;
  return strides;
}

/** Drops axes of size 1 and merges an axis into the previous one when it steps over exactly its extent. */
function simplify(sizes: readonly number[], strides: readonly number[]): { sizes: number[]; strides: number[] } {
  const outSizes: number[] = [];
  const outStrides: number[] = [];
  sizes.forEach((n, d) => {
    if (n === 1) return;
    const last = outSizes.length - 1;
    if (last >= 0 && outStrides[last] === strides[d]! * n) {
      outSizes[last] = outSizes[last]! * n;
      outStrides[last] = strides[d]!;
    } else {
      outSizes.push(n);
      outStrides.push(strides[d]!);
    }
  });
  return { sizes: outSizes, strides: outStrides };
}

/** The output's axes after simplification: sizes and input strides (elements). */
export function transposeAxes(spec: TransposeSpec): { sizes: number[]; strides: number[] } {
  const inStrides = rowMajorStrides(spec.shape);
  return simplify(
    spec.perm.map((a) => spec.shape[a]!),
    spec.perm.map((a) => inStrides[a]!),
  );
}

/** The copy that broadcasts `from` to `to` (NumPy's rule: `from` aligned right; its size-1 axes read with stride 0). */
export function broadcastCopy(size: 4 | 8, from: readonly number[], to: readonly number[]): CopySpec {
  const inStrides = rowMajorStrides(from);
  const offset = to.length - from.length;
  const strides = to.map((_, d) => (d < offset || from[d - offset] === 1 ? 0 : inStrides[d - offset]!));
  return { size, ...simplify(to, strides) };
}

export function transposeCopy(spec: TransposeSpec): CopySpec {
  return { size: spec.size, ...transposeAxes(spec) };
}

export function copyKey(spec: CopySpec): string {
  return `copy:${spec.size}:${spec.sizes.join("x")}:${spec.strides.join(",")}`;
}

/** The kernel `(src, dst)` (byte addresses). */
export function copyFunction(spec: CopySpec, name = "copy"): FuncDef {
  if (spec.size !== 4 && spec.size !== 8) throw internalError(`copy kernel expected 4- or 8-byte elements, got ${spec.size}`);
  const { sizes, strides } = spec;
  const size = spec.size;
  const [load, store, align] = size === 4 ? (["i32.load", "i32.store", 2] as const) : (["f64.load", "f64.store", 3] as const);
  const SRC = 0,
    DST = 1;
  const locals: ValType[] = [];
  const local = () => 2 + locals.push("i32") - 1;
  const body: Instr[] = [];
  const emit = (...instrs: Instr[]) => body.push(...instrs);
  const r = sizes.length;
  if (sizes.includes(0)) return { name, params: ["i32", "i32"], results: [], locals, body };
  if (r === 0) {
    emit(["local.get", DST], ["local.get", SRC], [load, 0, align], [store, 0, align]);
    return { name, params: ["i32", "i32"], results: [], locals, body };
  }
  const inner = sizes[r - 1]!;
  const innerStride = strides[r - 1]!;
  /** `for (count = n; count > 0; count--) { body }` (n ≥ 1: sizes of 0 returned above). */
  const repeat = (n: number, inner: () => void) => {
    const count = local();
    emit(["i32.const", n], ["local.set", count], ["loop"]);
    inner();
    emit(["local.get", count], ["i32.const", 1], ["i32.sub"], ["local.tee", count], ["br_if", 0], ["end"]);
  };
  /** The innermost run from the input pointer `from`: a copy, or a strided scalar loop; DST advances. */
  const run = (from: number) => {
    if (innerStride === 1) {
      emit(["local.get", DST], ["local.get", from], ["i32.const", inner * size], ["memory.copy"]);
      emit(["local.get", DST], ["i32.const", inner * size], ["i32.add"], ["local.set", DST]);
      return;
    }
    const p = local();
    emit(["local.get", from], ["local.set", p]);
    repeat(inner, () => {
      emit(["local.get", DST], ["local.get", p], [load, 0, align], [store, 0, align]);
      emit(["local.get", DST], ["i32.const", size], ["i32.add"], ["local.set", DST]);
      if (innerStride !== 0) emit(["local.get", p], ["i32.const", innerStride * size], ["i32.add"], ["local.set", p]);
    });
  };
  /** Loops over output axis d (< r − 1) from the input pointer `from`. */
  const level = (d: number, from: number) => {
    if (d === r - 1) return run(from);
    const p = local();
    emit(["local.get", from], ["local.set", p]);
    repeat(sizes[d]!, () => {
      level(d + 1, p);
      if (strides[d] !== 0) emit(["local.get", p], ["i32.const", strides[d]! * size], ["i32.add"], ["local.set", p]);
    });
  };
  level(0, SRC);
  return { name, params: ["i32", "i32"], results: [], locals, body };
}
