/**
 * A tiny WebAssembly module builder: functions are lists of instructions in one internal form
 * that encodes to bytes (for `WebAssembly.Module`) and prints as WAT (for debugging). Only the
 * instructions the kernels use are known; an unknown one is a type error.
 */

export type ValType = "i32" | "i64" | "f32" | "f64" | "v128";

const VALTYPE: Record<ValType, number> = { i32: 0x7f, i64: 0x7e, f32: 0x7d, f64: 0x7c, v128: 0x7b };

/** Immediate kinds: none, a local/label index, a constant, a memory argument (offset, log2 align), a block type, a lane, both, 16 bytes. */
type Imm = "none" | "index" | "i32" | "f32" | "f64" | "mem" | "block" | "lane" | "memlane" | "v128" | "memidx1" | "memidx2";

interface OpInfo {
  readonly code: readonly number[];
  readonly imm: Imm;
}

/**
 * Opcodes (core; bulk memory under the `0xFC` prefix; SIMD under the `0xFD` prefix whose sub-opcode is
 * LEB128-encoded; relaxed SIMD from 0x100).
 */
const OPS = {
  unreachable: { code: [0x00], imm: "none" },
  block: { code: [0x02], imm: "block" },
  loop: { code: [0x03], imm: "block" },
  if: { code: [0x04], imm: "block" },
  else: { code: [0x05], imm: "none" },
  end: { code: [0x0b], imm: "none" },
  br: { code: [0x0c], imm: "index" },
  br_if: { code: [0x0d], imm: "index" },
  return: { code: [0x0f], imm: "none" },
  call: { code: [0x10], imm: "index" },
  drop: { code: [0x1a], imm: "none" },
  select: { code: [0x1b], imm: "none" },
  "local.get": { code: [0x20], imm: "index" },
  "local.set": { code: [0x21], imm: "index" },
  "local.tee": { code: [0x22], imm: "index" },
  "i32.load": { code: [0x28], imm: "mem" },
  "f32.load": { code: [0x2a], imm: "mem" },
  "f64.load": { code: [0x2b], imm: "mem" },
  "i32.store": { code: [0x36], imm: "mem" },
  "f32.store": { code: [0x38], imm: "mem" },
  "f64.store": { code: [0x39], imm: "mem" },
  "i32.const": { code: [0x41], imm: "i32" },
  // bulk memory (the conv kernels' padding and row copies): memory.copy(dst, src, n), memory.fill(dst, byte, n)
  "memory.copy": { code: [0xfc, 10], imm: "memidx2" },
  "memory.fill": { code: [0xfc, 11], imm: "memidx1" },
  "f32.const": { code: [0x43], imm: "f32" },
  "f64.const": { code: [0x44], imm: "f64" },
  "i32.eqz": { code: [0x45], imm: "none" },
  "i32.eq": { code: [0x46], imm: "none" },
  "i32.ne": { code: [0x47], imm: "none" },
  "i32.lt_s": { code: [0x48], imm: "none" },
  "i32.lt_u": { code: [0x49], imm: "none" },
  "i32.gt_s": { code: [0x4a], imm: "none" },
  "i32.gt_u": { code: [0x4b], imm: "none" },
  "i32.le_u": { code: [0x4d], imm: "none" },
  "i32.ge_s": { code: [0x4e], imm: "none" },
  "i32.ge_u": { code: [0x4f], imm: "none" },
  "f32.eq": { code: [0x5b], imm: "none" },
  "f32.gt": { code: [0x5e], imm: "none" },
  "f64.eq": { code: [0x61], imm: "none" },
  "f64.gt": { code: [0x64], imm: "none" },
  "i32.add": { code: [0x6a], imm: "none" },
  "i32.sub": { code: [0x6b], imm: "none" },
  "i32.mul": { code: [0x6c], imm: "none" },
  "i32.and": { code: [0x71], imm: "none" },
  "i32.or": { code: [0x72], imm: "none" },
  "i32.shl": { code: [0x74], imm: "none" },
  "i32.shr_u": { code: [0x76], imm: "none" },
  "f32.add": { code: [0x92], imm: "none" },
  "f32.sub": { code: [0x93], imm: "none" },
  "f32.mul": { code: [0x94], imm: "none" },
  "f32.div": { code: [0x95], imm: "none" },
  "f64.add": { code: [0xa0], imm: "none" },
  "f64.sub": { code: [0xa1], imm: "none" },
  "f64.mul": { code: [0xa2], imm: "none" },
  "f64.div": { code: [0xa3], imm: "none" },
  "v128.load": { code: [0xfd, 0], imm: "mem" },
  "v128.load32_splat": { code: [0xfd, 9], imm: "mem" },
  "v128.load64_splat": { code: [0xfd, 10], imm: "mem" },
  "v128.store": { code: [0xfd, 11], imm: "mem" },
  "v128.const": { code: [0xfd, 12], imm: "v128" },
  "i32x4.splat": { code: [0xfd, 17], imm: "none" },
  "f32x4.splat": { code: [0xfd, 19], imm: "none" },
  "f64x2.splat": { code: [0xfd, 20], imm: "none" },
  "f32x4.extract_lane": { code: [0xfd, 31], imm: "lane" },
  "f64x2.extract_lane": { code: [0xfd, 33], imm: "lane" },
  "f32x4.eq": { code: [0xfd, 65], imm: "none" },
  "f32x4.ne": { code: [0xfd, 66], imm: "none" },
  "f32x4.lt": { code: [0xfd, 67], imm: "none" },
  "f32x4.gt": { code: [0xfd, 68], imm: "none" },
  "f32x4.le": { code: [0xfd, 69], imm: "none" },
  "f32x4.ge": { code: [0xfd, 70], imm: "none" },
  "f64x2.eq": { code: [0xfd, 71], imm: "none" },
  "f64x2.ne": { code: [0xfd, 72], imm: "none" },
  "f64x2.lt": { code: [0xfd, 73], imm: "none" },
  "f64x2.gt": { code: [0xfd, 74], imm: "none" },
  "f64x2.le": { code: [0xfd, 75], imm: "none" },
  "f64x2.ge": { code: [0xfd, 76], imm: "none" },
  "v128.not": { code: [0xfd, 77], imm: "none" },
  "v128.and": { code: [0xfd, 78], imm: "none" },
  "v128.andnot": { code: [0xfd, 79], imm: "none" },
  "v128.or": { code: [0xfd, 80], imm: "none" },
  "v128.xor": { code: [0xfd, 81], imm: "none" },
  "v128.bitselect": { code: [0xfd, 82], imm: "none" },
  "v128.store32_lane": { code: [0xfd, 90], imm: "memlane" },
  "v128.store64_lane": { code: [0xfd, 91], imm: "memlane" },
  "f32x4.floor": { code: [0xfd, 104], imm: "none" },
  "f32x4.nearest": { code: [0xfd, 106], imm: "none" },
  "f64x2.floor": { code: [0xfd, 117], imm: "none" },
  "f64x2.nearest": { code: [0xfd, 148], imm: "none" },
  "i32x4.shl": { code: [0xfd, 171], imm: "none" },
  "i32x4.shr_s": { code: [0xfd, 172], imm: "none" },
  "i32x4.shr_u": { code: [0xfd, 173], imm: "none" },
  "i32x4.add": { code: [0xfd, 174], imm: "none" },
  "i32x4.sub": { code: [0xfd, 177], imm: "none" },
  "f32x4.abs": { code: [0xfd, 224], imm: "none" },
  "f32x4.neg": { code: [0xfd, 225], imm: "none" },
  "f32x4.sqrt": { code: [0xfd, 227], imm: "none" },
  "f32x4.add": { code: [0xfd, 228], imm: "none" },
  "f32x4.sub": { code: [0xfd, 229], imm: "none" },
  "f32x4.mul": { code: [0xfd, 230], imm: "none" },
  "f32x4.div": { code: [0xfd, 231], imm: "none" },
  "f32x4.min": { code: [0xfd, 232], imm: "none" },
  "f32x4.pmin": { code: [0xfd, 234], imm: "none" },
  "f32x4.pmax": { code: [0xfd, 235], imm: "none" },
  "f32x4.max": { code: [0xfd, 233], imm: "none" },
  "f64x2.abs": { code: [0xfd, 236], imm: "none" },
  "f64x2.neg": { code: [0xfd, 237], imm: "none" },
  "f64x2.sqrt": { code: [0xfd, 239], imm: "none" },
  "f64x2.add": { code: [0xfd, 240], imm: "none" },
  "f64x2.sub": { code: [0xfd, 241], imm: "none" },
  "f64x2.mul": { code: [0xfd, 242], imm: "none" },
  "f64x2.div": { code: [0xfd, 243], imm: "none" },
  "f64x2.min": { code: [0xfd, 244], imm: "none" },
  "f64x2.max": { code: [0xfd, 245], imm: "none" },
  "i32x4.trunc_sat_f32x4_s": { code: [0xfd, 248], imm: "none" },
  "f32x4.convert_i32x4_s": { code: [0xfd, 250], imm: "none" },
  "f32x4.relaxed_madd": { code: [0xfd, 0x105], imm: "none" },
  "f64x2.relaxed_madd": { code: [0xfd, 0x107], imm: "none" },
} as const satisfies Record<string, OpInfo>;

export type OpName = keyof typeof OPS;

/**
 * One instruction: the op and its immediates. Memory ops: [offset, log2 alignment] (lane stores
 * add the lane); `v128.const`: ["f32x4" | "f64x2" | "i32x4", value] (every lane the same value).
 */
export type Instr = readonly [OpName, ...(number | ValType | "f32x4" | "f64x2" | "i32x4" | undefined)[]];

export interface FuncDef {
  readonly name: string;
  readonly params: readonly ValType[];
  readonly results: readonly ValType[];
  readonly locals: readonly ValType[];
  readonly body: readonly Instr[];
}

export interface ModuleDef {
  /** Imported memory `env.memory`: initial and maximum pages, shared or not. */
  readonly memory: { readonly initial: number; readonly maximum?: number; readonly shared?: boolean };
  readonly funcs: readonly FuncDef[];
}

function uleb(value: number, out: number[]): void {
  let v = value >>> 0;
  do {
    let byte = v & 0x7f;
    v >>>= 7;
    if (v !== 0) byte |= 0x80;
    out.push(byte);
  } while (v !== 0);
}

function sleb(value: number, out: number[]): void {
  let v = value | 0;
  for (;;) {
    const byte = v & 0x7f;
    v >>= 7;
    if ((v === 0 && (byte & 0x40) === 0) || (v === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return;
    }
    out.push(byte | 0x80);
  }
}

function name(text: string, out: number[]): void {
  const bytes = new TextEncoder().encode(text);
  uleb(bytes.length, out);
  out.push(...bytes);
}

function section(id: number, content: number[], out: number[]): void {
  out.push(id);
  uleb(content.length, out);
  for (const byte of content) out.push(byte);
}

function encodeInstr(instr: Instr, out: number[]): void {
  const [op, a, b, c] = instr;
  const info: OpInfo = OPS[op];
  out.push(info.code[0]!);
  if (info.code.length > 1) uleb(info.code[1]!, out);
  switch (info.imm) {
    case "none":
      return;
    case "index":
      uleb(a as number, out);
      return;
    case "i32":
      sleb(a as number, out);
      return;
    case "f32": {
      const buffer = new DataView(new ArrayBuffer(4));
      buffer.setFloat32(0, a as number, true);
      for (let i = 0; i < 4; i++) out.push(buffer.getUint8(i));
      return;
    }
    case "f64": {
      const buffer = new DataView(new ArrayBuffer(8));
      buffer.setFloat64(0, a as number, true);
      for (let i = 0; i < 8; i++) out.push(buffer.getUint8(i));
      return;
    }
    case "mem":
      uleb((b as number | undefined) ?? 0, out); // alignment (log2)
      uleb((a as number | undefined) ?? 0, out); // offset
      return;
    case "block":
      out.push(a === undefined ? 0x40 : VALTYPE[a as ValType]);
      return;
    case "lane":
      out.push(a as number);
      return;
    case "memidx1":
      out.push(0);
      return;
    case "memidx2":
      out.push(0, 0);
      return;
    case "memlane":
      uleb((b as number | undefined) ?? 0, out);
      uleb((a as number | undefined) ?? 0, out);
      out.push(c as number);
      return;
    case "v128": {
      const view = new DataView(new ArrayBuffer(16));
      for (let i = 0; i < 4; i++) {
        if (a === "f64x2") {
          if (i < 2) view.setFloat64(i * 8, b as number, true);
        } else if (a === "f32x4") view.setFloat32(i * 4, b as number, true);
        else view.setInt32(i * 4, b as number, true);
      }
      for (let i = 0; i < 16; i++) out.push(view.getUint8(i));
      return;
    }
  }
}

/** The module as bytes for `new WebAssembly.Module`. */
export function encodeModule(module: ModuleDef): Uint8Array {
  const out = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
  const types: number[] = [];
  uleb(module.funcs.length, types);
  for (const f of module.funcs) {
    types.push(0x60);
    uleb(f.params.length, types);
    for (const p of f.params) types.push(VALTYPE[p]);
    uleb(f.results.length, types);
    for (const r of f.results) types.push(VALTYPE[r]);
  }
  section(1, types, out);
  const imports: number[] = [1];
  name("env", imports);
  name("memory", imports);
  imports.push(0x02);
  const { initial, maximum, shared } = module.memory;
  imports.push(maximum === undefined ? 0x00 : shared ? 0x03 : 0x01);
  uleb(initial, imports);
  if (maximum !== undefined) uleb(maximum, imports);
  section(2, imports, out);
  const funcs: number[] = [];
  uleb(module.funcs.length, funcs);
  module.funcs.forEach((_, i) => uleb(i, funcs));
  section(3, funcs, out);
  const exports: number[] = [];
  uleb(module.funcs.length, exports);
  module.funcs.forEach((f, i) => {
    name(f.name, exports);
    exports.push(0x00);
    uleb(i, exports);
  });
  section(7, exports, out);
  const code: number[] = [];
  uleb(module.funcs.length, code);
  for (const f of module.funcs) {
    const body: number[] = [];
    uleb(f.locals.length, body);
    for (const l of f.locals) {
      body.push(1, VALTYPE[l]);
    }
    for (const instr of f.body) encodeInstr(instr, body);
    body.push(0x0b);
    uleb(body.length, code);
    for (const byte of body) code.push(byte);
  }
  section(10, code, out);
  return Uint8Array.from(out);
}

/** The same module as WebAssembly text, indented by block structure. */
export function printWat(module: ModuleDef): string {
  const { initial, maximum, shared } = module.memory;
  const lines = [
    "(module",
    `  (import "env" "memory" (memory ${initial}${maximum === undefined ? "" : ` ${maximum}`}${shared ? " shared" : ""}))`,
  ];
  for (const f of module.funcs) {
    const params = f.params.map((p, i) => `(param $${i} ${p})`).join(" ");
    const results = f.results.length ? ` (result ${f.results.join(" ")})` : "";
    lines.push(`  (func $${f.name} (export "${f.name}") ${params}${results}`);
    f.locals.forEach((l, i) => lines.push(`    (local $${f.params.length + i} ${l})`));
    let depth = 2;
    for (const instr of f.body) {
      const [op, a, b, c] = instr;
      if (op === "end" || op === "else") depth--;
      const info: OpInfo = OPS[op];
      let text: string = op;
      if (info.imm === "index" || info.imm === "i32" || info.imm === "f32" || info.imm === "f64") text += ` ${a}`;
      else if (info.imm === "mem") text += `${a ? ` offset=${a}` : ""}${b !== undefined ? ` align=${2 ** (b as number)}` : ""}`;
      else if (info.imm === "block" && a !== undefined) text += ` (result ${a})`;
      else if (info.imm === "lane") text += ` ${a}`;
      else if (info.imm === "memlane") text += `${a ? ` offset=${a}` : ""}${b !== undefined ? ` align=${2 ** (b as number)}` : ""} ${c}`;
      else if (info.imm === "v128")
        text += ` ${a} ${Array(a === "f64x2" ? 2 : 4)
          .fill(b)
          .join(" ")}`;
      lines.push(`${"  ".repeat(depth)}${text}`);
      if (op === "block" || op === "loop" || op === "if" || op === "else") depth++;
    }
    lines.push("  )");
  }
  lines.push(")");
  return lines.join("\n");
}
