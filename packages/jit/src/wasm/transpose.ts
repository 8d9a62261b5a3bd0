/**
 * Transposes (any permutation) as WebAssembly kernels, for the transposes the kernels cannot fold
 * into a consumer (the conv gradients' [N, C, …] ↔ [C, N, …] swaps, mostly). Axes of size 1 are
 * dropped and axes adjacent in both layouts merged first; the output is then written in order, the
 * input read with its strides. When the last output axis is contiguous in the input too (the
 * spatial rows of a conv gradient's swap), each run is one `memory.copy`; otherwise a scalar loop.
 * Elements of 4 and 8 bytes (loads and stores move bits: NaN payloads are kept).
 */
import { internalError } from "@chainrule/ir";
import type { FuncDef, Instr, ValType } from "./module.js";

export interface TransposeSpec {
  /** Bytes per element: 4 or 8. */
  readonly size: 4 | 8;
  readonly shape: readonly number[];
  readonly perm: readonly number[];
}

/** The output's axes after simplification: sizes and input strides (elements). */
export function transposeAxes(spec: TransposeSpec): { sizes: number[]; strides: number[] } {
  const { shape, perm } = spec;
  const inStrides = Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) inStrides[d] = inStrides[d + 1]! * shape[d + 1]!;
  const sizes: number[] = [];
  const strides: number[] = [];
  for (const axis of perm) {
    const n = shape[axis]!;
    if (n === 1) continue;
    const last = sizes.length - 1;
    // merge with the previous output axis when it steps over exactly this axis's extent in the input
    if (last >= 0 && strides[last] === inStrides[axis]! * n) {
      sizes[last] = sizes[last]! * n;
      strides[last] = inStrides[axis]!;
    } else {
      sizes.push(n);
      strides.push(inStrides[axis]!);
    }
  }
  return { sizes, strides };
}

export function transposeKey(spec: TransposeSpec): string {
  const { sizes, strides } = transposeAxes(spec);
  return `transpose:${spec.size}:${sizes.join("x")}:${strides.join(",")}`;
}

/** The kernel `(src, dst)` (byte addresses). */
export function transposeFunction(spec: TransposeSpec, name = "transpose"): FuncDef {
  if (spec.size !== 4 && spec.size !== 8) throw internalError(`transpose kernel expected 4- or 8-byte elements, got ${spec.size}`);
  const { sizes, strides } = transposeAxes(spec);
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
  /** The innermost run from the input pointer `from`: a copy, or a strided scalar loop; DST advances. */
  const run = (from: number) => {
    if (innerStride === 1) {
      emit(["local.get", DST], ["local.get", from], ["i32.const", inner * size], ["memory.copy"]);
      emit(["local.get", DST], ["i32.const", inner * size], ["i32.add"], ["local.set", DST]);
      return;
    }
    const p = local(),
      end = local();
    emit(["local.get", from], ["local.tee", p], ["i32.const", inner * innerStride * size], ["i32.add"], ["local.set", end]);
    emit(["loop"], ["local.get", DST], ["local.get", p], [load, 0, align], [store, 0, align]);
    emit(["local.get", DST], ["i32.const", size], ["i32.add"], ["local.set", DST]);
    emit(["local.get", p], ["i32.const", innerStride * size], ["i32.add"], ["local.tee", p], ["local.get", end], ["i32.lt_u"]);
    emit(["br_if", 0], ["end"]);
  };
  /** Loops over output axis d (< r − 1) from the input pointer `from`. */
  const level = (d: number, from: number) => {
    if (d === r - 1) return run(from);
    const p = local(),
      end = local();
    emit(["local.get", from], ["local.tee", p], ["i32.const", sizes[d]! * strides[d]! * size], ["i32.add"], ["local.set", end]);
    emit(["loop"]);
    level(d + 1, p);
    emit(["local.get", p], ["i32.const", strides[d]! * size], ["i32.add"], ["local.tee", p], ["local.get", end], ["i32.lt_u"]);
    emit(["br_if", 0], ["end"]);
  };
  level(0, SRC);
  return { name, params: ["i32", "i32"], results: [], locals, body };
}
