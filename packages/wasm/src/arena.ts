/**
 * A WebAssembly memory with a bump allocator: the buffers one compiled function works on live
 * here (resident across calls), so kernels read and write them in place and JavaScript reads them
 * through typed-array views. Every allocation starts on a 64-byte cache line and is padded to 16
 * bytes, so a vector loop may run over the last partial vector of a buffer without touching its
 * neighbour, and two threads writing different buffers (or column blocks of one) never share a
 * line.
 *
 * Sizes are fixed before the memory is created (views stay valid: the memory never grows).
 */
import { internalError } from "@chainrule/ir";
import { wasmApi, type WasmMemory } from "./api.js";
import { MAX_PAGES } from "./kernels.js";

export type ArenaDtype = "float32" | "float64" | "int32" | "bool";

/** Bytes of a cache line: every allocation starts on one. */
const LINE = 64;

const BYTES: Record<ArenaDtype, number> = { float64: 8, float32: 4, int32: 4, bool: 1 };

export function bytesOf(dtype: ArenaDtype, count: number): number {
  return BYTES[dtype] * count;
}

/** Planning: reserve byte ranges, then `create` the memory. */
export class ArenaPlan {
  private end = LINE; // address 0 is never handed out
  /**
   * Reserves `bytes` (rounded up to 16, plus `pad` spare bytes) at the next cache line; returns
   * the byte address. `gap` keeps that many bytes free before it (two threads' scratch areas are
   * kept 128 bytes apart: x86 cores fetch lines in adjacent pairs).
   */
  reserve(bytes: number, pad = 0, gap = 0): number {
    const at = Math.ceil((this.end + gap) / LINE) * LINE;
    this.end = at + Math.ceil((bytes + pad) / 16) * 16 + (bytes === 0 ? 16 : 0);
    return at;
  }
  get bytes(): number {
    return this.end;
  }
  /** Whether the reserved bytes fit one memory. */
  get fits(): boolean {
    return this.end <= MAX_PAGES * 65536;
  }
  /** Creates the memory (shared when asked and possible). */
  create(shared: boolean): Arena {
    const pages = Math.max(1, Math.ceil(this.end / 65536));
    if (pages > MAX_PAGES)
      throw new RangeError(`jit: expected at most ${MAX_PAGES * 64} KiB of WebAssembly memory, got ${Math.ceil(this.end / 1024)} KiB`);
    if (wasmApi === undefined) throw internalError("WebAssembly is unavailable");
    const memory = shared ? new wasmApi.Memory({ initial: pages, maximum: pages, shared: true }) : new wasmApi.Memory({ initial: pages });
    return new Arena(memory, shared);
  }
}

export class Arena {
  constructor(
    readonly memory: WasmMemory,
    readonly shared: boolean,
  ) {}
  f32(at: number, count: number): Float32Array {
    return new Float32Array(this.memory.buffer, at, count);
  }
  f64(at: number, count: number): Float64Array {
    return new Float64Array(this.memory.buffer, at, count);
  }
  i32(at: number, count: number): Int32Array {
    return new Int32Array(this.memory.buffer, at, count);
  }
  u8(at: number, count: number): Uint8Array {
    return new Uint8Array(this.memory.buffer, at, count);
  }
  view(dtype: ArenaDtype, at: number, count: number): Float32Array | Float64Array | Int32Array | Uint8Array {
    return dtype === "float32"
      ? this.f32(at, count)
      : dtype === "float64"
        ? this.f64(at, count)
        : dtype === "int32"
          ? this.i32(at, count)
          : this.u8(at, count);
  }
}
