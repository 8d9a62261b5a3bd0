/**
 * Shape-specialised GEMM kernels in WebAssembly SIMD: C = op(A)·op(B) with op = identity or
 * transpose, row-major, batched, strides baked in as constants.
 *
 * Register-blocked micro-tiles of `rows` rows × 2 vectors (4×8 for f32x4, 4×4 for f64x2): 8
 * accumulators, 2 B vectors and 1 splatted A value — 11 of V8's 16 vector registers. Column
 * remainders use a 1-vector tile, then scalar code; row remainders reuse the tiles with fewer rows.
 * The k loop is not unrolled by hand (V8 does better). Each column panel of B (k × 2 vectors) is
 * packed contiguously into a 16-byte-aligned scratch area first, so its reads are sequential and
 * stay in L1 across all row tiles (row strides of 2–4 KiB otherwise map a panel onto a few cache
 * sets). Aᵀ·B only changes A's strides; A·Bᵀ packs from the transposed layout.
 * With `fma`, multiply-add uses relaxed SIMD `relaxed_madd` (only where the host validates it).
 */
import { internalError } from "@chainrule/ir";
import { ewKey, ewNodes, temporaries, type EwSpec, type OperandKind } from "./elementwise.js";
import type { FuncDef, Instr, ValType } from "./module.js";

/**
 * Elementwise work fused into the GEMM's stores (bias + activation, an optimizer update): the
 * product is operand kind "product"; other operands are read at baked byte addresses laid out
 * like C ("full", row stride ldc), as a row of n ("row"), one value per row ("col") or a
 * "scalar". The product itself is not stored; `stores` are written laid out like C.
 */
export interface GemmEpilogue {
  /** Byte address of the whole C (column blocks pass C shifted by whole columns). */
  readonly cBase: number;
  readonly operands: readonly { readonly kind: OperandKind | "product"; readonly at: number }[];
  readonly nodes: EwSpec["nodes"];
  readonly stores: readonly { readonly node: number; readonly at: number }[];
}

export type KernelDtype = "float32" | "float64";

export interface GemmSpec {
  readonly dtype: KernelDtype;
  /** C is m × n; the inner dimension is k. */
  readonly m: number;
  readonly n: number;
  readonly k: number;
  /** A is stored as [k, m] (Aᵀ·B). */
  readonly transA?: boolean;
  /** B is stored as [n, k] (A·Bᵀ): packed into the scratch area first. */
  readonly transB?: boolean;
  /** Row strides in elements (defaults: contiguous). */
  readonly lda?: number;
  readonly ldb?: number;
  readonly ldc?: number;
  /** Matrices in the batch and the element stride between them (0 broadcasts one matrix). */
  readonly batch?: number;
  readonly batchA?: number;
  readonly batchB?: number;
  readonly batchC?: number;
  /** Add into C instead of overwriting it. */
  readonly accumulate?: boolean;
  /** Use relaxed-SIMD fused multiply-add. */
  readonly fma?: boolean;
  /** Pack A into row blocks first (default: when A is transposed). */
  readonly packA?: boolean;
  /** Rows per micro-tile (default 4). */
  readonly rows?: number;
  /** Vectors per micro-tile row (default 2). */
  readonly vecs?: number;
  /** Elementwise epilogue instead of storing C (batch 1, not accumulating). */
  readonly epilogue?: GemmEpilogue;
}

/**
 * Bytes of scratch (16-byte aligned) a spec needs: one packed panel of B (k × 2 vectors), then,
 * when A is packed, A as blocks of `rows` rows.
 */
export function gemmScratchBytes(input: GemmSpec): number {
  const spec = normalize(input);
  const packA = spec.packA ?? spec.transA;
  const size = spec.dtype === "float32" ? 4 : 8;
  return panelBytes(spec) + (packA ? Math.ceil(spec.m / spec.rows) * spec.rows * spec.k * size : 0);
}

function epilogueKey(e: GemmEpilogue, dtype: KernelDtype): string {
  const ops = e.operands.map((o) => `${o.kind}@${o.at}`).join(",");
  const spec: EwSpec = { dtype, outer: 0, inner: 0, operands: [], nodes: e.nodes, stores: [] };
  return `${e.cBase}|${ops}|${ewKey(spec)}|${e.stores.map((t) => `${t.node}@${t.at}`).join(",")}`;
}

function panelBytes(spec: Normal): number {
  return spec.k * 16 * spec.vecs;
}

/** A stable key for caching compiled kernels. */
export function gemmKey(spec: GemmSpec): string {
  const s = normalize(spec);
  const trans = `${s.transA ? "T" : "N"}${s.transB ? "T" : "N"}`;
  const batch = `${s.batch}/${s.batchA},${s.batchB},${s.batchC}`;
  const epilogue = s.epilogue ? `:epilogue ${epilogueKey(s.epilogue, s.dtype)}` : "";
  return (
    `gemm:${s.dtype}:${s.m}x${s.n}x${s.k}:${trans}:${s.lda},${s.ldb},${s.ldc}:${batch}:` +
    `${s.accumulate ? "acc" : ""}:${s.fma ? "fma" : ""}:${s.rows}x${s.vecs}:${s.packA ?? ""}${epilogue}`
  );
}

/**
 * The micro-tile a spec gets by default: 4 rows × 2 vectors, except float64 with FMA, where 3 × 3
 * (9 accumulators) measured 20.8 GFLOP/s against 20.2 at 256³ (bench/wasm-gemm.ts --fma); without
 * FMA, or in float32, 3 × 3 was no faster (f32 without FMA slower, 32.5 against 33.7).
 */
export function defaultTile(dtype: KernelDtype, fma: boolean): { rows: number; vecs: number } {
  return dtype === "float64" && fma ? { rows: 3, vecs: 3 } : { rows: 4, vecs: 2 };
}

type Normal = Required<Omit<GemmSpec, "packA" | "epilogue">> & { packA?: boolean; epilogue?: GemmEpilogue };

function normalize(spec: GemmSpec): Normal {
  const { m, n, k } = spec;
  for (const [what, v] of [
    ["m", m],
    ["n", n],
    ["k", k],
  ] as const) {
    if (!Number.isSafeInteger(v) || v < 0) throw internalError(`gemm expected a size ${what} ≥ 0, got ${v}`);
  }
  const transA = spec.transA ?? false;
  const transB = spec.transB ?? false;
  return {
    dtype: spec.dtype,
    m,
    n,
    k,
    transA,
    transB,
    lda: spec.lda ?? (transA ? m : k),
    ldb: spec.ldb ?? (transB ? k : n),
    ldc: spec.ldc ?? n,
    batch: spec.batch ?? 1,
    batchA: spec.batchA ?? m * k,
    batchB: spec.batchB ?? k * n,
    batchC: spec.batchC ?? m * n,
    accumulate: spec.accumulate ?? false,
    fma: spec.fma ?? false,
    rows: spec.rows ?? defaultTile(spec.dtype, spec.fma ?? false).rows,
    vecs: spec.vecs ?? defaultTile(spec.dtype, spec.fma ?? false).vecs,
    ...(spec.packA === undefined ? {} : { packA: spec.packA }),
    ...(spec.epilogue === undefined ? {} : { epilogue: spec.epilogue }),
  };
}

/** The kernel as a function `(a, b, c, scratch)` of byte addresses. */
export function gemmFunction(input: GemmSpec, name = "gemm"): FuncDef {
  const spec = normalize(input);
  const { dtype, m, n, k } = spec;
  const f32 = dtype === "float32";
  const size = f32 ? 4 : 8;
  const lanes = 16 / size;
  const vecOp = f32 ? "f32x4" : "f64x2";
  const scalarType: ValType = f32 ? "f32" : "f64";
  const splat = f32 ? "v128.load32_splat" : "v128.load64_splat";
  const scalarLoad = f32 ? "f32.load" : "f64.load";
  const scalarStore = f32 ? "f32.store" : "f64.store";
  const sAdd = f32 ? "f32.add" : "f64.add";
  const sMul = f32 ? "f32.mul" : "f64.mul";
  const align = f32 ? 2 : 3;
  const ROWS = spec.rows;
  if (!(ROWS >= 1 && ROWS <= 6)) throw internalError("gemm rows per tile must be 1..6");
  // element strides of A(i, p), and of B's rows (after packing when transposed)
  const packA = spec.packA ?? spec.transA;
  // element strides of A(i, p) as the tiles read it (packed: blocks of ROWS rows, [k][ROWS] each)
  const aRow = packA ? 1 : spec.transA ? 1 : spec.lda;
  const aCol = packA ? ROWS : spec.transA ? spec.lda : 1;
  const ldc = spec.ldc;

  // params: a=0, b=1, c=2, scratch=3; i32 locals 4..10; v128 acc 11..(13+2*ROWS), b ×2, a ×1; scalars after
  const A = 0,
    B = 1,
    C = 2,
    SCRATCH = 3,
    I0 = 4,
    J0 = 5,
    END = 6,
    APTR = 7,
    BPTR = 8,
    CPTR = 9,
    BATCH = 10;
  const ACC = 11;
  const VECS = spec.vecs;
  if (!(VECS >= 1 && VECS <= 4 && ROWS * VECS <= 12)) throw internalError("gemm tiles hold at most 12 accumulators");
  const BV = ACC + VECS * ROWS;
  const AV = BV + VECS;
  const SACC = AV + 1;
  const SA = SACC + 3 * ROWS;
  const locals: ValType[] = [
    ...Array<ValType>(7).fill("i32"),
    ...Array<ValType>(VECS * ROWS + VECS + 1).fill("v128"),
    ...Array<ValType>(3 * ROWS + 1).fill(scalarType),
  ];
  const epi = spec.epilogue;
  if (epi !== undefined && (spec.accumulate || spec.batch !== 1)) throw internalError("a GEMM epilogue needs batch 1 and no accumulation");
  const local = () => {
    locals.push("v128");
    return 4 + locals.length - 1;
  };
  const epiOps = epi ? epi.operands.map(() => local()) : [];
  const epiNodes = epi ? epi.nodes.map(() => local()) : [];
  const epiTemps = temporaries(local);
  const epiCode = epi ? ewNodes(epi.nodes, dtype, epiOps, epiNodes, epiTemps) : [];
  const body: Instr[] = [];
  const emit = (...instrs: Instr[]) => body.push(...instrs);
  const madd = (acc: number, x: Instr[], y: Instr[]) => {
    if (spec.fma) emit(...x, ...y, ["local.get", acc], [`${vecOp}.relaxed_madd`], ["local.set", acc]);
    else emit(["local.get", acc], ...x, ...y, [`${vecOp}.mul`], [`${vecOp}.add`], ["local.set", acc]);
  };

  /** The epilogue for accumulator (r, v) of the tile at (I0, J0); C element address in CPTR + offset. */
  const epilogueStore = (r: number, v: number, vecs: number, offset: number, valid: number) => {
    epi!.operands.forEach((o, k) => {
      switch (o.kind) {
        case "product":
          emit(["local.get", ACC + r * vecs + v]);
          break;
        case "full":
          emit(["local.get", CPTR], ["i32.const", o.at - epi!.cBase], ["i32.add"], ["v128.load", offset, 0]);
          break;
        case "row":
          emit(
            ["local.get", C],
            ["i32.const", o.at - epi!.cBase],
            ["i32.add"],
            ["local.get", J0],
            ["i32.const", size],
            ["i32.mul"],
            ["i32.add"],
            ["v128.load", v * 16, 0],
          );
          break;
        case "col":
          emit(["local.get", I0], ["i32.const", size], ["i32.mul"], ["i32.const", o.at], ["i32.add"], [splat, r * size, align]);
          break;
        case "scalar":
          emit(["i32.const", o.at], [splat, 0, align]);
          break;
      }
      emit(["local.set", epiOps[k]!]);
    });
    emit(...epiCode);
    for (const t of epi!.stores) {
      const delta: Instr[] = [["local.get", CPTR], ["i32.const", t.at - epi!.cBase], ["i32.add"]];
      if (valid === lanes) emit(...delta, ["local.get", epiNodes[t.node]!], ["v128.store", offset, 0]);
      else
        for (let l = 0; l < valid; l++)
          emit(...delta, ["local.get", epiNodes[t.node]!], [f32 ? "v128.store32_lane" : "v128.store64_lane", offset + l * size, align, l]);
    }
  };

  const W = VECS * lanes; // panel width (columns)
  const PANEL = panelBytes(spec);
  /**
   * One tile at rows i0..i0+rows (I0), columns j0.. (J0): `vecs` vectors of `lanes` columns read
   * from the packed panel at SCRATCH (row stride `vecs * 16` bytes), or (vecs = 0) `scalars`
   * single columns read from B itself.
   */
  const tile = (rows: number, vecs: number, scalars: number, valid = lanes) => {
    const vector = vecs > 0;
    const count = rows * (vector ? vecs : scalars);
    const bStep = vector ? vecs * 16 : (spec.transB ? 1 : spec.ldb) * size;
    const bCol = (spec.transB ? spec.ldb : 1) * size;
    for (let t = 0; t < count; t++) {
      if (vector) emit(["v128.const", vecOp, 0], ["local.set", ACC + t]);
      else emit([f32 ? "f32.const" : "f64.const", 0], ["local.set", SACC + t]);
    }
    if (k > 0) {
      if (packA)
        emit(
          ["local.get", SCRATCH],
          ["i32.const", PANEL],
          ["i32.add"],
          ["local.get", I0],
          ["i32.const", k * size],
          ["i32.mul"],
          ["i32.add"],
          ["local.set", APTR],
        );
      else emit(["local.get", A], ["local.get", I0], ["i32.const", aRow * size], ["i32.mul"], ["i32.add"], ["local.set", APTR]);
      if (vector) emit(["local.get", SCRATCH], ["local.tee", BPTR]);
      else emit(["local.get", B], ["local.get", J0], ["i32.const", bCol], ["i32.mul"], ["i32.add"], ["local.tee", BPTR]);
      emit(["i32.const", k * bStep], ["i32.add"], ["local.set", END]);
      emit(["loop"]);
      if (vector) {
        for (let v = 0; v < vecs; v++) emit(["local.get", BPTR], ["v128.load", v * 16, 4], ["local.set", BV + v]);
        for (let r = 0; r < rows; r++) {
          emit(["local.get", APTR], [splat, r * aRow * size, align], ["local.set", AV]);
          for (let v = 0; v < vecs; v++) madd(ACC + r * vecs + v, [["local.get", AV]], [["local.get", BV + v]]);
        }
      } else {
        for (let r = 0; r < rows; r++) {
          emit(["local.get", APTR], [scalarLoad, r * aRow * size, align], ["local.set", SA]);
          for (let s = 0; s < scalars; s++) {
            const acc = SACC + r * scalars + s;
            emit(
              ["local.get", acc],
              ["local.get", SA],
              ["local.get", BPTR],
              [scalarLoad, s * bCol, align],
              [sMul],
              [sAdd],
              ["local.set", acc],
            );
          }
        }
      }
      if (aCol !== 0) emit(["local.get", APTR], ["i32.const", aCol * size], ["i32.add"], ["local.set", APTR]);
      emit(
        ["local.get", BPTR],
        ["i32.const", bStep],
        ["i32.add"],
        ["local.tee", BPTR],
        ["local.get", END],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    }
    emit(
      ["local.get", C],
      ["local.get", I0],
      ["i32.const", ldc],
      ["i32.mul"],
      ["local.get", J0],
      ["i32.add"],
      ["i32.const", size],
      ["i32.mul"],
      ["i32.add"],
      ["local.set", CPTR],
    );
    for (let r = 0; r < rows; r++) {
      if (vector) {
        for (let v = 0; v < vecs; v++) {
          const offset = (r * ldc + v * lanes) * size;
          if (epi !== undefined) {
            epilogueStore(r, v, vecs, offset, v === vecs - 1 ? valid : lanes);
            continue;
          }
          if (v === vecs - 1 && valid < lanes) {
            // a zero-padded partial vector: store only its valid lanes
            for (let l = 0; l < valid; l++)
              emit(
                ["local.get", CPTR],
                ["local.get", ACC + r * vecs + v],
                [f32 ? "v128.store32_lane" : "v128.store64_lane", offset + l * size, align, l],
              );
            continue;
          }
          emit(["local.get", CPTR]);
          if (spec.accumulate) emit(["local.get", CPTR], ["v128.load", offset, 0], ["local.get", ACC + r * vecs + v], [`${vecOp}.add`]);
          else emit(["local.get", ACC + r * vecs + v]);
          emit(["v128.store", offset, 0]);
        }
      } else {
        for (let s = 0; s < scalars; s++) {
          const offset = (r * ldc + s) * size;
          emit(["local.get", CPTR]);
          if (spec.accumulate) emit(["local.get", CPTR], [scalarLoad, offset, align], ["local.get", SACC + r * scalars + s], [sAdd]);
          else emit(["local.get", SACC + r * scalars + s]);
          emit([scalarStore, offset, align]);
        }
      }
    }
  };

  /** Packs B's columns J0..J0+width into the panel at SCRATCH: panel[p*width + jj] = B(p, J0+jj). */
  const pack = (width: number, valid = width) => {
    if (k === 0) return;
    emit(["local.get", SCRATCH], ["local.set", BPTR]);
    if (valid < width) {
      // partial panel: zero padding, then the valid columns one by one
      const colStep = (spec.transB ? spec.ldb : 1) * size,
        pStep = (spec.transB ? 1 : spec.ldb) * size;
      emit(["local.get", B], ["local.get", J0], ["i32.const", colStep], ["i32.mul"], ["i32.add"], ["local.tee", APTR]);
      emit(["i32.const", k * pStep], ["i32.add"], ["local.set", END], ["loop"]);
      for (let v = 0; v < width / lanes; v++) emit(["local.get", BPTR], ["v128.const", vecOp, 0], ["v128.store", v * 16, 4]);
      for (let jj = 0; jj < valid; jj++)
        emit(["local.get", BPTR], ["local.get", APTR], [scalarLoad, jj * colStep, align], [scalarStore, jj * size, align]);
      emit(["local.get", BPTR], ["i32.const", width * size], ["i32.add"], ["local.set", BPTR]);
      emit(
        ["local.get", APTR],
        ["i32.const", pStep],
        ["i32.add"],
        ["local.tee", APTR],
        ["local.get", END],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    } else if (!spec.transB) {
      // rows of B are contiguous: one or two vector copies per p
      emit(["local.get", B], ["local.get", J0], ["i32.const", size], ["i32.mul"], ["i32.add"], ["local.tee", APTR]);
      emit(["i32.const", k * spec.ldb * size], ["i32.add"], ["local.set", END], ["loop"]);
      for (let v = 0; v < width / lanes; v++)
        emit(["local.get", BPTR], ["local.get", APTR], ["v128.load", v * 16, 0], ["v128.store", v * 16, 4]);
      emit(["local.get", BPTR], ["i32.const", width * size], ["i32.add"], ["local.set", BPTR]);
      emit(
        ["local.get", APTR],
        ["i32.const", spec.ldb * size],
        ["i32.add"],
        ["local.tee", APTR],
        ["local.get", END],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    } else {
      // B stored [n, k]: B(p, j) = b[j*ldb + p]; walk p, gather `width` columns
      emit(["local.get", B], ["local.get", J0], ["i32.const", spec.ldb * size], ["i32.mul"], ["i32.add"], ["local.tee", APTR]);
      emit(["i32.const", k * size], ["i32.add"], ["local.set", END], ["loop"]);
      for (let jj = 0; jj < width; jj++)
        emit(["local.get", BPTR], ["local.get", APTR], [scalarLoad, jj * spec.ldb * size, align], [scalarStore, jj * size, align]);
      emit(["local.get", BPTR], ["i32.const", width * size], ["i32.add"], ["local.set", BPTR]);
      emit(
        ["local.get", APTR],
        ["i32.const", size],
        ["i32.add"],
        ["local.tee", APTR],
        ["local.get", END],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    }
  };

  const fullCols = Math.floor(n / W) * W;
  const restVecs = Math.floor((n - fullCols) / lanes);
  const restScalar = n - fullCols - restVecs * lanes;
  // the last < lanes columns: a zero-padded vector tile (scalar code when accumulating)
  const padded = restScalar > 0 && !spec.accumulate;
  const fullRows = Math.floor(m / ROWS) * ROWS;
  const restRows = m - fullRows;
  /** Every row tile for the column panel at J0: the packed panel stays in L1 across rows. */
  const column = (vecs: number, scalars: number, valid = lanes) => {
    if (vecs > 0) pack(vecs * lanes, (vecs - 1) * lanes + valid);
    if (fullRows > 0) {
      emit(["i32.const", 0], ["local.set", I0], ["loop"]);
      tile(ROWS, vecs, scalars, valid);
      emit(
        ["local.get", I0],
        ["i32.const", ROWS],
        ["i32.add"],
        ["local.tee", I0],
        ["i32.const", fullRows],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    }
    if (restRows > 0) {
      emit(["i32.const", fullRows], ["local.set", I0]);
      tile(restRows, vecs, scalars, valid);
    }
  };
  /** Packs A's rows I0..I0+rows as [k][ROWS] at SCRATCH + k*32 + I0*k*size. */
  const packBlock = (rows: number) => {
    emit(
      ["local.get", SCRATCH],
      ["i32.const", PANEL],
      ["i32.add"],
      ["local.get", I0],
      ["i32.const", k * size],
      ["i32.mul"],
      ["i32.add"],
      ["local.set", CPTR],
    );
    if (spec.transA) emit(["local.get", A], ["local.get", I0], ["i32.const", size], ["i32.mul"], ["i32.add"], ["local.tee", APTR]);
    else emit(["local.get", A], ["local.get", I0], ["i32.const", spec.lda * size], ["i32.mul"], ["i32.add"], ["local.tee", APTR]);
    const pStep = (spec.transA ? spec.lda : 1) * size;
    const rStep = (spec.transA ? 1 : spec.lda) * size;
    emit(["i32.const", k * pStep], ["i32.add"], ["local.set", END], ["loop"]);
    let r = 0;
    if (spec.transA) {
      for (; r + lanes <= rows; r += lanes)
        emit(["local.get", CPTR], ["local.get", APTR], ["v128.load", r * size, 0], ["v128.store", r * size, 0]);
    }
    for (; r < rows; r++) emit(["local.get", CPTR], ["local.get", APTR], [scalarLoad, r * rStep, align], [scalarStore, r * size, align]);
    emit(["local.get", CPTR], ["i32.const", ROWS * size], ["i32.add"], ["local.set", CPTR]);
    emit(
      ["local.get", APTR],
      ["i32.const", pStep],
      ["i32.add"],
      ["local.tee", APTR],
      ["local.get", END],
      ["i32.lt_u"],
      ["br_if", 0],
      ["end"],
    );
  };
  const batch = spec.batch;
  if (m > 0 && n > 0 && batch > 0) {
    emit(["i32.const", 0], ["local.set", BATCH], ["loop"]);
    if (packA && k > 0) {
      if (fullRows > 0) {
        emit(["i32.const", 0], ["local.set", I0], ["loop"]);
        packBlock(ROWS);
        emit(
          ["local.get", I0],
          ["i32.const", ROWS],
          ["i32.add"],
          ["local.tee", I0],
          ["i32.const", fullRows],
          ["i32.lt_u"],
          ["br_if", 0],
          ["end"],
        );
      }
      if (restRows > 0) {
        emit(["i32.const", fullRows], ["local.set", I0]);
        packBlock(restRows);
      }
    }
    if (fullCols > 0) {
      emit(["i32.const", 0], ["local.set", J0], ["loop"]);
      column(VECS, 0);
      emit(
        ["local.get", J0],
        ["i32.const", W],
        ["i32.add"],
        ["local.tee", J0],
        ["i32.const", fullCols],
        ["i32.lt_u"],
        ["br_if", 0],
        ["end"],
      );
    }
    if (restVecs > 0) {
      emit(["i32.const", fullCols], ["local.set", J0]);
      column(restVecs, 0);
    }
    if (restScalar > 0) {
      emit(["i32.const", fullCols + restVecs * lanes], ["local.set", J0]);
      if (padded) column(1, 0, restScalar);
      else column(0, restScalar);
    }
    const bump = (local: number, stride: number) => {
      if (stride !== 0) emit(["local.get", local], ["i32.const", stride * size], ["i32.add"], ["local.set", local]);
    };
    bump(A, spec.batchA);
    bump(B, spec.batchB);
    bump(C, spec.batchC);
    emit(
      ["local.get", BATCH],
      ["i32.const", 1],
      ["i32.add"],
      ["local.tee", BATCH],
      ["i32.const", batch],
      ["i32.lt_u"],
      ["br_if", 0],
      ["end"],
    );
  }
  return { name, params: ["i32", "i32", "i32", "i32"], results: [], locals, body };
}
