/**
 * Reduction kernels: sum or max over the middle axis of an (outer × mid × inner) array — any
 * contiguous block of reduced axes has this form. With inner ≥ 1 whole vectors run along inner
 * (bias gradients: sum over the batch); with inner = 1 a vector accumulates along mid and is
 * combined across lanes at the end (row sums, softmax maxima). Max propagates NaN; the empty sum
 * is 0 and the empty max −∞, like the JavaScript kernels.
 */
import type { KernelDtype } from "./gemm.js";
import type { FuncDef, Instr, ValType } from "./module.js";

export interface ReduceSpec {
  readonly dtype: KernelDtype;
  readonly op: "sum" | "max";
  readonly outer: number;
  readonly mid: number;
  readonly inner: number;
}

export function reduceKey(s: ReduceSpec): string {
  return `reduce:${s.dtype}:${s.op}:${s.outer}x${s.mid}x${s.inner}`;
}

/** The kernel `(x, out)` of byte addresses. */
export function reduceFunction(spec: ReduceSpec, name = "reduce"): FuncDef {
  const { dtype, op, outer, mid, inner } = spec;
  const f32 = dtype === "float32";
  const size = f32 ? 4 : 8;
  const lanes = 16 / size;
  const V = f32 ? "f32x4" : "f64x2";
  const align = f32 ? 2 : 3;
  const splat = f32 ? "v128.load32_splat" : "v128.load64_splat";
  const storeLane = f32 ? "v128.store32_lane" : "v128.store64_lane";
  const init = op === "sum" ? 0 : -Infinity;
  const vop: Instr = [`${V}.${op === "sum" ? "add" : "max"}`];
  const X = 0,
    OUT = 1,
    O = 2,
    P = 3,
    END = 4,
    I = 5,
    ACC = 6,
    T = 7;
  const locals: ValType[] = ["i32", "i32", "i32", "i32", "v128", "v128"];
  const body: Instr[] = [];
  const emit = (...xs: Instr[]) => body.push(...xs);
  if (outer === 0 || inner === 0) return { name, params: ["i32", "i32"], results: [], locals, body };

  emit(["i32.const", 0], ["local.set", O], ["loop"]);
  if (inner === 1) {
    // one output per outer index: vectors along mid, then across lanes, then the scalar tail
    const full = Math.floor(mid / lanes) * lanes;
    emit(["v128.const", V, init], ["local.set", ACC]);
    // P = x + o*mid*size
    emit(["local.get", X], ["local.get", O], ["i32.const", mid * size], ["i32.mul"], ["i32.add"], ["local.set", P]);
    if (full > 0) {
      emit(["local.get", P], ["i32.const", full * size], ["i32.add"], ["local.set", END], ["loop"]);
      emit(["local.get", ACC], ["local.get", P], ["v128.load", 0, 0], vop, ["local.set", ACC]);
      emit(["local.get", P], ["i32.const", 16], ["i32.add"], ["local.tee", P], ["local.get", END], ["i32.lt_u"], ["br_if", 0], ["end"]);
    }
    // lanes: acc = op(acc lane 0, lane 1, …) via splats of each lane
    const lane: Instr = [`${V}.extract_lane` as "f32x4.extract_lane", 0];
    emit(["local.get", ACC], lane, [`${V}.splat` as "f32x4.splat"], ["local.set", T]);
    for (let l = 1; l < lanes; l++)
      emit(["local.get", T], ["local.get", ACC], [`${V}.extract_lane` as "f32x4.extract_lane", l], [`${V}.splat` as "f32x4.splat"], vop, [
        "local.set",
        T,
      ]);
    for (let t = full; t < mid; t++) emit(["local.get", T], ["local.get", P], [splat, (t - full) * size, align], vop, ["local.set", T]);
    emit(["local.get", OUT], ["local.get", O], ["i32.const", size], ["i32.mul"], ["i32.add"], ["local.get", T], [storeLane, 0, align, 0]);
  } else {
    // whole vectors along inner; each accumulates down mid (stride inner)
    const full = Math.floor(inner / lanes) * lanes;
    const column = (whole: boolean) => {
      emit(["v128.const", V, init], ["local.set", ACC]);
      if (mid > 0) {
        emit(
          ["local.get", X],
          ["local.get", O],
          ["i32.const", mid * inner * size],
          ["i32.mul"],
          ["i32.add"],
          ["local.get", I],
          ["i32.add"],
          ["local.tee", P],
        );
        emit(["i32.const", mid * inner * size], ["i32.add"], ["local.set", END], ["loop"]);
        emit(["local.get", ACC], ["local.get", P], whole ? ["v128.load", 0, 0] : [splat, 0, align], vop, ["local.set", ACC]);
        emit(
          ["local.get", P],
          ["i32.const", inner * size],
          ["i32.add"],
          ["local.tee", P],
          ["local.get", END],
          ["i32.lt_u"],
          ["br_if", 0],
          ["end"],
        );
      }
      emit(
        ["local.get", OUT],
        ["local.get", O],
        ["i32.const", inner * size],
        ["i32.mul"],
        ["i32.add"],
        ["local.get", I],
        ["i32.add"],
        ["local.get", ACC],
      );
      emit(whole ? ["v128.store", 0, 0] : [storeLane, 0, align, 0]);
    };
    if (full > 0) {
      emit(["i32.const", 0], ["local.set", I], ["loop"]);
      column(true);
      emit(
        ["local.get", I],
        ["i32.const", 16],
        ["i32.add"],
        ["local.tee", I],
        ["i32.const", full * size],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    }
    for (let t = full; t < inner; t++) {
      emit(["i32.const", t * size], ["local.set", I]);
      column(false);
    }
  }
  emit(["local.get", O], ["i32.const", 1], ["i32.add"], ["local.tee", O], ["i32.const", outer], ["i32.lt_u"], ["br_if", 0], ["end"]);
  return { name, params: ["i32", "i32"], results: [], locals, body };
}
