/**
 * Fused elementwise kernels: a small DAG of float ops over operands broadcast in a 2-D
 * (outer × inner) iteration space, computed with f32x4/f64x2 and stored where asked.
 *
 * Operand kinds: "full" (contiguous outer × inner), "row" (one row of `inner`, broadcast over
 * outer: a bias), "col" (one value per outer index, broadcast along inner), "scalar". The inner
 * loop runs whole vectors; the last `inner % lanes` elements of each row are computed with the
 * same vector code on splatted scalars and stored lane by lane, so no buffer is overrun.
 *
 * f32 transcendentals use math32.ts; f64 kernels accept only IEEE-exact arithmetic (+ − × ÷,
 * sqrt, neg, abs, min, max): f64 exp/log/tanh stay in JavaScript for full accuracy.
 */
import { internalError } from "@chainrule/ir";
import type { KernelDtype } from "./gemm.js";
import { MATH32, type Math32 } from "./math32.js";
import type { FuncDef, Instr, ValType } from "./module.js";

export type EwUnary = "neg" | "abs" | "sqrt" | "exp" | "log" | "tanh" | "sigmoid";
export type EwBinary = "add" | "sub" | "mul" | "div" | "maximum" | "minimum" | "mulNoNan";
export type EwOp = EwUnary | EwBinary;
export type OperandKind = "full" | "row" | "col" | "scalar";

/** An argument: an operand (by index), an earlier node (by index) or a constant. */
export type EwRef = { readonly operand: number } | { readonly node: number } | { readonly constant: number };

export interface EwSpec {
  readonly dtype: KernelDtype;
  readonly outer: number;
  readonly inner: number;
  readonly operands: readonly OperandKind[];
  readonly nodes: readonly { readonly op: EwOp; readonly args: readonly EwRef[] }[];
  /** Node indices whose values are stored (one output address each, after the operands). */
  readonly stores: readonly number[];
}

const UNARY = new Set<string>(["neg", "abs", "sqrt", "exp", "log", "tanh", "sigmoid"]);

/** Ops the kernels compute exactly (IEEE-rounded) in both float dtypes. */
export const EW_EXACT: ReadonlySet<string> = new Set<EwOp>([
  "neg",
  "abs",
  "sqrt",
  "add",
  "sub",
  "mul",
  "div",
  "maximum",
  "minimum",
  "mulNoNan",
]);
/** Ops the kernels compute in float32 only (math32.ts polynomials, documented ulps). */
export const EW_F32: ReadonlySet<string> = new Set<EwOp>(["exp", "log", "tanh", "sigmoid"]);

/** Whether an op can run in a kernel of this dtype (sigmoid is a kernel-only op: no ir primitive). */
export function ewSupports(op: string, dtype: KernelDtype): op is EwOp {
  return EW_EXACT.has(op) || (dtype === "float32" && EW_F32.has(op));
}

export function ewKey(spec: EwSpec): string {
  const refs = (r: EwRef) =>
    "operand" in r ? `o${r.operand}` : "node" in r ? `n${r.node}` : `c${Object.is(r.constant, -0) ? "-0" : r.constant}`;
  const nodes = spec.nodes.map((n) => `${n.op}(${n.args.map(refs).join(",")})`).join(";");
  return `ew:${spec.dtype}:${spec.outer}x${spec.inner}:${spec.operands.join(",")}:${nodes}:${spec.stores.join(",")}`;
}

/** Temporary v128 locals, reused by each node (`reset` before a node). */
export interface Temporaries {
  v128(): number;
  reset(): void;
}

export function temporaries(allocate: () => number): Temporaries {
  const temps: number[] = [];
  let used = 0;
  return {
    v128: () => {
      if (used === temps.length) temps.push(allocate());
      return temps[used++]!;
    },
    reset: () => {
      used = 0;
    },
  };
}

/**
 * The vector code of `nodes`: operand values in `opVals` locals, results left in `nodeVals`
 * locals (shared by the elementwise kernels and GEMM epilogues).
 */
export function ewNodes(
  nodes: EwSpec["nodes"],
  dtype: KernelDtype,
  opVals: readonly number[],
  nodeVals: readonly number[],
  scratch: Temporaries,
): Instr[] {
  const V = dtype === "float32" ? "f32x4" : "f64x2";
  const out: Instr[] = [];
  const ref = (r: EwRef): Instr[] => {
    if ("operand" in r) return [["local.get", opVals[r.operand]!]];
    if ("node" in r) return [["local.get", nodeVals[r.node]!]];
    return [["v128.const", V, r.constant]];
  };
  nodes.forEach((node, j) => {
    if (!ewSupports(node.op, dtype)) throw internalError(`elementwise kernel cannot compute ${node.op} in ${dtype}`);
    if (node.args.length !== (UNARY.has(node.op) ? 1 : 2))
      throw internalError(`elementwise ${node.op} expects ${UNARY.has(node.op) ? 1 : 2} arguments`);
    scratch.reset();
    const [a, b] = node.args;
    switch (node.op) {
      case "exp":
      case "log":
      case "tanh":
      case "sigmoid": {
        const x = scratch.v128();
        out.push(...ref(a!), ["local.set", x], ...MATH32[node.op as Math32](x, scratch));
        break;
      }
      case "neg":
      case "abs":
      case "sqrt":
        out.push(...ref(a!), [`${V}.${node.op}`]);
        break;
      case "maximum":
      case "minimum":
        // wasm min/max propagate NaN like the JavaScript kernels
        out.push(...ref(a!), ...ref(b!), [`${V}.${node.op === "maximum" ? "max" : "min"}`]);
        break;
      case "mulNoNan": {
        // a·b, with the lanes where it is NaN and a = 0 or b = 0 cleared (0 · ±∞ = 0 · NaN = 0)
        const zero: Instr = ["v128.const", V, 0];
        const product = scratch.v128();
        out.push(...ref(a!), ...ref(b!), [`${V}.mul`], ["local.tee", product]);
        out.push(...ref(a!), zero, [`${V}.eq`], ...ref(b!), zero, [`${V}.eq`], ["v128.or"]);
        out.push(["local.get", product], ["local.get", product], [`${V}.eq`], ["v128.andnot"], ["v128.andnot"]);
        break;
      }
      default:
        out.push(...ref(a!), ...ref(b!), [`${V}.${node.op}`]);
    }
    out.push(["local.set", nodeVals[j]!]);
  });
  return out;
}

/** The kernel as a function of byte addresses: operands first, then one per store. */
export function ewFunction(spec: EwSpec, name = "ew"): FuncDef {
  const { dtype, outer, inner } = spec;
  const f32 = dtype === "float32";
  const size = f32 ? 4 : 8;
  const lanes = 16 / size;
  const splat = f32 ? "v128.load32_splat" : "v128.load64_splat";
  const storeLane = f32 ? "v128.store32_lane" : "v128.store64_lane";
  const nOps = spec.operands.length;
  const params: ValType[] = Array<ValType>(nOps + spec.stores.length).fill("i32");
  const locals: ValType[] = [];
  const local = (t: ValType) => {
    locals.push(t);
    return params.length + locals.length - 1;
  };
  const O = local("i32"); // outer index
  const I = local("i32"); // inner byte offset
  const ROWOFF = local("i32"); // byte offset of the row start (outer * inner * size)
  const opVals = spec.operands.map(() => local("v128"));
  const nodeVals = spec.nodes.map(() => local("v128"));
  const scratch = temporaries(() => local("v128"));
  const body: Instr[] = [];
  const emit = (...xs: Instr[]) => body.push(...xs);

  const compute = () => emit(...ewNodes(spec.nodes, dtype, opVals, nodeVals, scratch));
  /** Loads operands of kind `kinds` for the current position (vector or one splatted element). */
  const load = (kinds: readonly OperandKind[], whole: boolean) => {
    spec.operands.forEach((kind, k) => {
      if (!kinds.includes(kind)) return;
      if (kind === "scalar") emit(["local.get", k], [splat, 0, f32 ? 2 : 3]);
      else if (kind === "col")
        emit(["local.get", k], ["local.get", O], ["i32.const", size], ["i32.mul"], ["i32.add"], [splat, 0, f32 ? 2 : 3]);
      else {
        emit(["local.get", k], ["local.get", I], ["i32.add"]);
        if (kind === "full") emit(["local.get", ROWOFF], ["i32.add"]);
        emit(whole ? ["v128.load", 0, 0] : [splat, 0, f32 ? 2 : 3]);
      }
      emit(["local.set", opVals[k]!]);
    });
  };
  const store = (whole: boolean) => {
    spec.stores.forEach((j, s) => {
      emit(["local.get", nOps + s], ["local.get", I], ["i32.add"], ["local.get", ROWOFF], ["i32.add"], ["local.get", nodeVals[j]!]);
      emit(whole ? ["v128.store", 0, 0] : [storeLane, 0, f32 ? 2 : 3, 0]);
    });
  };

  const total = outer * inner;
  if (total > 0) {
    const full = Math.floor(inner / lanes) * lanes;
    load(["scalar"], true);
    emit(["i32.const", 0], ["local.set", O], ["i32.const", 0], ["local.set", ROWOFF], ["loop"]);
    load(["col"], true);
    if (full > 0) {
      emit(["i32.const", 0], ["local.set", I], ["loop"]);
      load(["full", "row"], true);
      compute();
      store(true);
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
      load(["full", "row"], false);
      compute();
      store(false);
    }
    emit(["local.get", ROWOFF], ["i32.const", inner * size], ["i32.add"], ["local.set", ROWOFF]);
    emit(["local.get", O], ["i32.const", 1], ["i32.add"], ["local.tee", O], ["i32.const", outer], ["i32.lt_u"], ["br_if", 0], ["end"]);
  }
  return { name, params, results: [], locals, body };
}
