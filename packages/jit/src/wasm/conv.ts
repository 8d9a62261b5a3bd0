/**
 * Convolution kernels in WebAssembly SIMD: ir's `conv` primitive (JAX's conv_general_dilated in
 * NC… layout: strides, padding, lhs and rhs dilation, feature groups; 1–3 spatial dimensions), as
 * im2col + the GEMM kernels of gemm.ts. The gradient convs (data: lhs dilation; filter: a conv of
 * the input with the cotangent) are convs too and run here as well.
 *
 * One call computes one image (`(w, x, out, scratch)`, byte addresses), so two threads split a
 * batch by images, each with its own scratch area:
 * 1. padding and lhs dilation are materialized once into a zero-filled copy XP of the image (rows
 *    copied with `memory.copy`), so no load of the im2col needs a bounds check;
 * 2. per group, per block of output columns, the block of the im2col matrix B (K × nb, K =
 *    C/groups · kernel size) is written into scratch and the GEMM computes W_g (O/g × K) · B;
 *    a block stays in L2 (≤ 256 KiB), and the GEMM packs each of its panels into L1;
 * 3. with unit strides ("contiguous" mode), B(p, j) = XP[offP(p) + j] over a virtual output grid
 *    laid out like XP (the columns past each output row are computed and dropped), so each row of
 *    B is one `memory.copy`; the valid outputs are then copied out row by row. Otherwise B(p, j) =
 *    XP[offP(p) + offJ(j)] is gathered through a table of column offsets, and the GEMM stores into
 *    the output directly.
 * The offset tables live at the start of each scratch area (`convScratchInit`), so a kernel's
 * bytes depend on its shapes only.
 */
import { internalError, sizeOf } from "@chainrule/ir";
import { defaultTile, gemmFunction, gemmScratchBytes, type GemmSpec, type KernelDtype } from "@chainrule/wasm";
import type { FuncDef, Instr, ValType } from "@chainrule/wasm";

export interface ConvSpec {
  readonly dtype: KernelDtype;
  /** x is [N, inChannels, ...inShape] (one image per call), w is [outChannels, inChannels / groups, ...kernel]. */
  readonly inChannels: number;
  readonly outChannels: number;
  readonly groups: number;
  readonly inShape: readonly number[];
  readonly kernel: readonly number[];
  readonly strides: readonly number[];
  /** lo0, hi0, lo1, hi1, … (negative values crop). */
  readonly padding: readonly number[];
  readonly lhsDilation: readonly number[];
  readonly rhsDilation: readonly number[];
  readonly fma?: boolean;
}

/** Largest im2col block (bytes): it stays in L2 while the GEMM sweeps it. */
const BLOCK_BYTES = 256 * 1024;
/** Unit strides use the virtual output grid when it is at most this much larger than the output. */
const MAX_VIRTUAL_RATIO = 1.5;

/** Everything about a conv's layout the kernel bakes in, and its scratch areas (byte offsets). */
export interface ConvGeometry {
  readonly size: number;
  readonly out: readonly number[];
  /** Output elements per channel, and columns computed per channel (the virtual grid in contiguous mode). */
  readonly P: number;
  readonly Q: number;
  readonly K: number;
  readonly Cg: number;
  readonly Og: number;
  /** Elements per channel of XP (the padded, dilated image), and its spatial strides. */
  readonly cs: number;
  readonly ps: readonly number[];
  readonly copy: boolean;
  readonly contiguous: boolean;
  readonly nb: number;
  readonly fullBlocks: number;
  readonly rest: number;
  readonly gemmFull: GemmSpec;
  readonly gemmRest: GemmSpec;
  /** Int32 table words: offP (K), offJ (Q, general mode), pad rows (src, dst pairs), output rows (src, dst pairs). */
  readonly table: Int32Array;
  readonly offPAt: number;
  readonly offJAt: number;
  readonly padAt: number;
  readonly padRows: number;
  readonly padLen: number;
  readonly compactAt: number;
  readonly compactRows: number;
  readonly xpAt: number;
  readonly bbAt: number;
  readonly panelAt: number;
  readonly cvAt: number;
  readonly scratchBytes: number;
}

const align64 = (n: number) => Math.ceil(n / 64) * 64;

/** Row-major strides of `shape`. */
function stridesOf(shape: readonly number[]): number[] {
  const s = Array<number>(shape.length).fill(1);
  for (let d = shape.length - 2; d >= 0; d--) s[d] = s[d + 1]! * shape[d + 1]!;
  return s;
}

/** Every multi-index of `shape` in row-major order. */
function* indices(shape: readonly number[]): Generator<number[]> {
  const total = sizeOf(shape);
  const idx = Array<number>(shape.length).fill(0);
  for (let t = 0; t < total; t++) {
    yield idx.slice();
    for (let d = shape.length - 1; d >= 0; d--) {
      if (++idx[d]! < shape[d]!) break;
      idx[d] = 0;
    }
  }
}

/** The output's spatial shape (JAX's rule: the padded, dilated input against the dilated kernel). */
export function convOutShape(spec: ConvSpec): number[] {
  return spec.inShape.map((n, d) => {
    const dilated = n === 0 ? 0 : (n - 1) * spec.lhsDilation[d]! + 1;
    const padded = dilated + spec.padding[2 * d]! + spec.padding[2 * d + 1]!;
    const window = (spec.kernel[d]! - 1) * spec.rhsDilation[d]! + 1;
    return padded < window ? 0 : Math.floor((padded - window) / spec.strides[d]!) + 1;
  });
}

export function convGeometry(spec: ConvSpec): ConvGeometry {
  const r = spec.inShape.length;
  if (r < 1 || spec.kernel.length !== r || spec.strides.length !== r || spec.padding.length !== 2 * r)
    throw internalError(`conv kernel expected 1+ spatial dims with matching params, got ${JSON.stringify(spec)}`);
  const size = spec.dtype === "float32" ? 4 : 8;
  const { inShape, kernel, padding, lhsDilation, rhsDilation, strides, groups } = spec;
  const out = convOutShape(spec);
  const P = sizeOf(out);
  const Cg = spec.inChannels / groups;
  const Og = spec.outChannels / groups;
  const K = Cg * sizeOf(kernel);
  const copy = padding.some((p) => p !== 0) || lhsDilation.some((l) => l !== 1);
  const padded = inShape.map((n, d) => (n === 0 ? 0 : (n - 1) * lhsDilation[d]! + 1) + padding[2 * d]! + padding[2 * d + 1]!);
  const grid = copy ? padded : inShape;
  const ps = stridesOf(grid);
  const cs = sizeOf(grid);
  const virtual = P === 0 ? 0 : out.reduce((s, o, d) => s + (o - 1) * ps[d]!, 0) + 1;
  const contiguous = P > 0 && strides.every((s) => s === 1) && virtual <= MAX_VIRTUAL_RATIO * P;
  const Q = contiguous ? virtual : P;
  const fma = spec.fma ?? false;
  const tile = defaultTile(spec.dtype, fma);
  const W = tile.vecs * (16 / size);
  // columns per block: a multiple of the GEMM's panel width whose block fits BLOCK_BYTES; all of
  // them when they fit twice that (a filter gradient's few columns: no tiny rest block)
  const fitting = Math.max(W, Math.floor(BLOCK_BYTES / Math.max(1, K * size) / W) * W);
  const nb = Q === 0 ? 0 : K * Q * size <= 2 * BLOCK_BYTES ? Q : Math.min(Q, fitting);
  const fullBlocks = nb === 0 ? 0 : Math.floor(Q / nb);
  const rest = Q - fullBlocks * nb;
  const gemmFull: GemmSpec = { dtype: spec.dtype, m: Og, n: nb, k: K, lda: K, ldb: nb, ldc: Q, fma };
  const gemmRest: GemmSpec = { ...gemmFull, n: rest, ldb: rest };

  // offP: XP offset (bytes) of im2col row p = (c, kernel index)
  const words: number[] = [];
  const offPAt = 0;
  const kernelOffsets = [...indices(kernel)].map((kk) => kk.reduce((s, k, d) => s + k * rhsDilation[d]! * ps[d]!, 0));
  for (let c = 0; c < Cg; c++) for (const o of kernelOffsets) words.push((c * cs + o) * size);
  // offJ: XP offset (bytes) of output column j (general mode)
  const offJAt = words.length * 4;
  if (!contiguous) for (const o of indices(out)) words.push(o.reduce((s, v, d) => s + v * strides[d]! * ps[d]!, 0) * size);
  // pad rows: each row of the image (all channels, leading spatial indices) into XP
  const padAt = words.length * 4;
  const last = r - 1;
  const lo = padding[2 * last]!,
    lhsL = lhsDilation[last]!;
  const iStart = Math.max(0, Math.ceil(-lo / lhsL));
  const iEnd = Math.min(inShape[last]!, Math.floor((padded[last]! - 1 - lo) / lhsL) + 1);
  const padLen = Math.max(0, iEnd - iStart);
  let padRows = 0;
  if (copy && padLen > 0) {
    const inStrides = stridesOf(inShape);
    const inSize = sizeOf(inShape);
    for (let c = 0; c < spec.inChannels; c++) {
      for (const lead of indices(inShape.slice(0, last))) {
        const q = lead.map((i, d) => padding[2 * d]! + i * lhsDilation[d]!);
        if (q.some((v, d) => v < 0 || v >= padded[d]!)) continue;
        const src = c * inSize + lead.reduce((s, i, d) => s + i * inStrides[d]!, 0) + iStart;
        const dst = c * cs + q.reduce((s, v, d) => s + v * ps[d]!, 0) + lo + iStart * lhsL;
        words.push(src * size, dst * size);
        padRows++;
      }
    }
  }
  // output rows (contiguous mode): from the virtual grid to the output, per channel
  const compactAt = words.length * 4;
  let compactRows = 0;
  if (contiguous) {
    for (const lead of indices(out.slice(0, last))) {
      words.push(lead.reduce((s, v, d) => s + v * ps[d]!, 0) * size, compactRows * out[last]! * size);
      compactRows++;
    }
  }
  const table = Int32Array.from(words);
  const xpAt = align64(table.length * 4);
  const bbAt = xpAt + align64(copy ? spec.inChannels * cs * size + 16 : 0);
  const panelAt = bbAt + align64(K * nb * size + 16);
  const cvAt = panelAt + align64(Math.max(gemmScratchBytes(gemmFull), rest > 0 ? gemmScratchBytes(gemmRest) : 0));
  const scratchBytes = cvAt + align64(contiguous ? spec.outChannels * Q * size : 0);
  return {
    size,
    out,
    P,
    Q,
    K,
    Cg,
    Og,
    cs,
    ps,
    copy,
    contiguous,
    nb,
    fullBlocks,
    rest,
    gemmFull,
    gemmRest,
    table,
    offPAt,
    offJAt,
    padAt,
    padRows,
    padLen,
    compactAt,
    compactRows,
    xpAt,
    bbAt,
    panelAt,
    cvAt,
    scratchBytes,
  };
}

/** Bytes of scratch one thread needs (tables included). */
export function convScratchBytes(spec: ConvSpec): number {
  return convGeometry(spec).scratchBytes;
}

/** Writes the offset tables at the start of a scratch area (once, before the first call). */
export function convScratchInit(spec: ConvSpec, memory: ArrayBuffer | SharedArrayBuffer, scratchAt: number): void {
  const { table } = convGeometry(spec);
  new Int32Array(memory, scratchAt, table.length).set(table);
}

/** A stable key for caching compiled kernels. */
export function convKey(spec: ConvSpec): string {
  const s = spec;
  return (
    `conv:${s.dtype}:${s.inChannels}>${s.outChannels}/${s.groups}:${s.inShape.join("x")}:k${s.kernel.join("x")}:` +
    `s${s.strides.join(",")}:p${s.padding.join(",")}:l${s.lhsDilation.join(",")}:r${s.rhsDilation.join(",")}:${s.fma ? "fma" : ""}`
  );
}

/**
 * The kernel's functions: `name` (w, x, out, scratch) computes one image; it calls the GEMMs
 * that follow it in the module (functions 1 and 2).
 */
export function convFunctions(spec: ConvSpec, name = "conv"): FuncDef[] {
  const geo = convGeometry(spec);
  const gemms = [gemmFunction(geo.gemmFull, "gemm_block"), gemmFunction(geo.gemmRest.n > 0 ? geo.gemmRest : geo.gemmFull, "gemm_rest")];
  return [mainFunction(spec, geo, name), ...gemms];
}

/** Locals and structured-loop helpers for the main function. */
function mainFunction(spec: ConvSpec, geo: ConvGeometry, name: string): FuncDef {
  const { size } = geo;
  const f32 = spec.dtype === "float32";
  const load = f32 ? "f32.load" : "f64.load";
  const store = f32 ? "f32.store" : "f64.store";
  const align = f32 ? 2 : 3;
  // params
  const W = 0,
    X = 1,
    OUT = 2,
    S = 3;
  const locals: ValType[] = [];
  const local = () => 4 + locals.push("i32") - 1;
  const XPB = local(),
    T = local(),
    TEND = local(),
    G = local(),
    J0 = local(),
    DST = local(),
    SRC = local(),
    I = local(),
    XPG = local(),
    AG = local(),
    CG = local(),
    J = local(),
    JEND = local(),
    O = local();
  const body: Instr[] = [];
  const emit = (...instrs: Instr[]) => body.push(...instrs);
  const set = (l: number, ...value: Instr[]) => emit(...value, ["local.set", l]);
  const add = (l: number, bytes: number) => emit(["local.get", l], ["i32.const", bytes], ["i32.add"], ["local.set", l]);
  /** `do { body } while ((l += step) < end)` — the caller guarantees at least one iteration. */
  const loopUntil = (l: number, step: number, end: Instr[], inner: () => void) => {
    emit(["loop"]);
    inner();
    emit(["local.get", l], ["i32.const", step], ["i32.add"], ["local.tee", l], ...end, ["i32.lt_u"], ["br_if", 0], ["end"]);
  };
  const scratch = (offset: number): Instr[] => [["local.get", S], ["i32.const", offset], ["i32.add"]];

  // 1. XP: the padded, dilated image
  if (geo.copy) {
    emit(...scratch(geo.xpAt), ["i32.const", 0], ["i32.const", spec.inChannels * geo.cs * size], ["memory.fill"]);
    if (geo.padRows > 0) {
      set(T, ...scratch(geo.padAt));
      set(TEND, ...scratch(geo.padAt + geo.padRows * 8));
      loopUntil(T, 8, [["local.get", TEND]], () => {
        set(SRC, ["local.get", X], ["local.get", T], ["i32.load", 0, 2], ["i32.add"]);
        set(DST, ...scratch(geo.xpAt), ["local.get", T], ["i32.load", 4, 2], ["i32.add"]);
        const lhsL = spec.lhsDilation[spec.lhsDilation.length - 1]!;
        if (lhsL === 1) emit(["local.get", DST], ["local.get", SRC], ["i32.const", geo.padLen * size], ["memory.copy"]);
        else {
          set(I, ["i32.const", 0]);
          loopUntil(I, 1, [["i32.const", geo.padLen]], () => {
            emit(["local.get", DST], ["local.get", SRC], [load, 0, align], [store, 0, align]);
            add(DST, lhsL * size);
            add(SRC, size);
          });
        }
      });
    }
    set(XPB, ...scratch(geo.xpAt));
  } else set(XPB, ["local.get", X]);

  // 2. per group, per block of columns: im2col into BB, then the GEMM
  const im2col = (width: number) => {
    if (geo.K === 0) return;
    set(T, ...scratch(geo.offPAt));
    set(TEND, ...scratch(geo.offPAt + geo.K * 4));
    set(DST, ...scratch(geo.bbAt));
    loopUntil(T, 4, [["local.get", TEND]], () => {
      if (geo.contiguous) {
        emit(["local.get", DST], ["local.get", XPG], ["local.get", T], ["i32.load", 0, 2], ["i32.add"]);
        emit(["local.get", J0], ["i32.const", size], ["i32.mul"], ["i32.add"], ["i32.const", width * size], ["memory.copy"]);
        add(DST, width * size);
      } else {
        set(SRC, ["local.get", XPG], ["local.get", T], ["i32.load", 0, 2], ["i32.add"]);
        set(J, ...scratch(geo.offJAt), ["local.get", J0], ["i32.const", 4], ["i32.mul"], ["i32.add"]);
        set(JEND, ["local.get", J], ["i32.const", width * 4], ["i32.add"]);
        loopUntil(J, 4, [["local.get", JEND]], () => {
          emit(
            ["local.get", DST],
            ["local.get", SRC],
            ["local.get", J],
            ["i32.load", 0, 2],
            ["i32.add"],
            [load, 0, align],
            [store, 0, align],
          );
          add(DST, size);
        });
      }
    });
  };
  const gemm = (index: number) =>
    emit(
      ["local.get", AG],
      ...scratch(geo.bbAt),
      ["local.get", CG],
      ["local.get", J0],
      ["i32.const", size],
      ["i32.mul"],
      ["i32.add"],
      ...scratch(geo.panelAt),
      ["call", index],
    );
  if (geo.Q > 0 && geo.Og > 0) {
    set(G, ["i32.const", 0]);
    loopUntil(G, 1, [["i32.const", spec.groups]], () => {
      set(XPG, ["local.get", XPB], ["local.get", G], ["i32.const", geo.Cg * geo.cs * size], ["i32.mul"], ["i32.add"]);
      set(AG, ["local.get", W], ["local.get", G], ["i32.const", geo.Og * geo.K * size], ["i32.mul"], ["i32.add"]);
      const cBase: Instr[] = geo.contiguous ? scratch(geo.cvAt) : [["local.get", OUT]];
      set(CG, ...cBase, ["local.get", G], ["i32.const", geo.Og * geo.Q * size], ["i32.mul"], ["i32.add"]);
      set(J0, ["i32.const", 0]);
      if (geo.fullBlocks > 0) {
        loopUntil(J0, geo.nb, [["i32.const", geo.fullBlocks * geo.nb]], () => {
          im2col(geo.nb);
          gemm(1);
        });
      }
      if (geo.rest > 0) {
        set(J0, ["i32.const", geo.fullBlocks * geo.nb]);
        im2col(geo.rest);
        gemm(2);
      }
    });
  }

  // 3. contiguous mode: the valid outputs, row by row, out of the virtual grid
  if (geo.contiguous && geo.Og > 0) {
    const rowBytes = geo.out[geo.out.length - 1]! * size;
    set(O, ["i32.const", 0]);
    loopUntil(O, 1, [["i32.const", spec.outChannels]], () => {
      set(T, ...scratch(geo.compactAt));
      set(TEND, ...scratch(geo.compactAt + geo.compactRows * 8));
      loopUntil(T, 8, [["local.get", TEND]], () => {
        emit(["local.get", OUT], ["local.get", O], ["i32.const", geo.P * size], ["i32.mul"], ["i32.add"]);
        emit(["local.get", T], ["i32.load", 4, 2], ["i32.add"]);
        emit(...scratch(geo.cvAt), ["local.get", O], ["i32.const", geo.Q * size], ["i32.mul"], ["i32.add"]);
        emit(["local.get", T], ["i32.load", 0, 2], ["i32.add"], ["i32.const", rowBytes], ["memory.copy"]);
      });
    });
  }
  return { name, params: ["i32", "i32", "i32", "i32"], results: [], locals, body };
}
