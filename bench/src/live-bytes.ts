/**
 * Live-bytes measurement: the most bytes of ArrayBuffers alive at once while a function runs.
 *
 * `installLiveBytes()` replaces the global typed-array and ArrayBuffer constructors with Proxies
 * whose `construct` trap builds the object with the original constructor, then (while a measurement
 * is armed) runs a full garbage collection and reads `process.memoryUsage().arrayBuffers`: the bytes
 * of every ArrayBuffer still reachable, the new one included. Live bytes only rise at an allocation,
 * so the maximum of these readings is the peak of live array bytes (garbage never counts, and a
 * buffer a library keeps for reuse always counts). The V8 heap (`heapUsed`) is read at the same
 * moments and reported apart; it is live heap at allocation points, not a true peak of the heap.
 *
 * The prototypes' `constructor` points at the Proxy too, so `instanceof`, `x.constructor === Float64Array`
 * and species-created copies (`slice`, `map`, `filter`; `subarray` is a view) go through the trap.
 * Allocations that bypass the global constructors (Node Buffers, `structuredClone`, engines' internal
 * copies) are counted at the next reading only, and missed if freed before it.
 *
 * WebAssembly memory is not an ArrayBuffer allocation (it is reserved apart and not in
 * `arrayBuffers`): memories made by `new WebAssembly.Memory` or exported by an instance
 * (`new WebAssembly.Instance`, `WebAssembly.instantiate`) are recorded, and their summed
 * `buffer.byteLength` (the size they have grown to, used or not) is read at the same moments and
 * after each `Memory.prototype.grow` call; growth by the `memory.grow` instruction inside wasm code
 * is seen at the next reading.
 *
 * The measuring process must expose `gc` (`node --expose-gc`, or `exposeGc()`), and should install
 * the hooks before any module that captures a constructor (`const C = Float64Array`) is evaluated:
 * the bench's memory child is started with `--import` of this file and `CHAINRULE_LIVE_BYTES=1`.
 */
import { runInNewContext } from "node:vm";
import { setFlagsFromString } from "node:v8";

/** One reading, after a full garbage collection. */
export interface Reading {
  /** Bytes of live ArrayBuffers and SharedArrayBuffers (Node Buffers included; WebAssembly memory not). */
  readonly arrayBuffers: number;
  /** Bytes of the live V8 heap. */
  readonly heapUsed: number;
  /** Summed byte length of the WebAssembly memories seen so far. */
  readonly wasmMemory: number;
}

/** What one armed call did. */
export interface Window<R> {
  /** The level just before the call. */
  readonly before: Reading;
  /** The maximum of each field over the readings from `before` to `after`. */
  readonly peak: Reading;
  /** The level after the call, its result still held. */
  readonly after: Reading;
  /** Readings taken during the call (one per hooked allocation or memory growth). */
  readonly readings: number;
  readonly result: R;
}

export interface LiveBytesMeter {
  /** A garbage collection, then one reading (not folded into any window). */
  read(): Reading;
  /** Runs `f` with the hooks armed. */
  measure<R>(f: () => R | Promise<R>): Promise<Window<Awaited<R>>>;
  /** Puts the original constructors back. */
  uninstall(): void;
}

/** The constructors whose allocations are read. */
export const HOOKED = [
  "ArrayBuffer",
  "SharedArrayBuffer",
  "Float64Array",
  "Float32Array",
  "Int32Array",
  "Uint32Array",
  "Int16Array",
  "Uint16Array",
  "Int8Array",
  "Uint8Array",
  "Uint8ClampedArray",
  "BigInt64Array",
  "BigUint64Array",
] as const;

type AnyConstructor = new (...args: unknown[]) => object;
type Globals = Record<string, unknown>;

interface WasmMemoryLike {
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  grow(pages: number): number;
}
interface WasmNamespace {
  Memory: (new (descriptor: object) => WasmMemoryLike) & { prototype: WasmMemoryLike };
  Instance: new (module: unknown, imports?: object) => { exports: Record<string, unknown> };
  instantiate: (...args: unknown[]) => Promise<unknown>;
}

/** A `gc` function: the global one, or one made available now through V8's flags. */
export function exposeGc(): () => void {
  const existing = (globalThis as { gc?: () => void }).gc;
  if (existing !== undefined) return existing;
  setFlagsFromString("--expose-gc");
  return runInNewContext("gc") as () => void;
}

/** Replaces the global constructors with counting Proxies; one meter at a time. */
export function installLiveBytes(gc: () => void = exposeGc()): LiveBytesMeter {
  if (active !== undefined) throw new Error("installLiveBytes: already installed (uninstall the other meter first)");
  const globals = globalThis as unknown as Globals;
  const restore: (() => void)[] = [];
  let armed = false;
  let readings = 0;
  let peak: Reading | undefined;

  const memories = new Set<WeakRef<WasmMemoryLike>>();
  const wasmBytes = (): number => {
    let total = 0;
    for (const ref of memories) {
      const memory = ref.deref();
      if (memory === undefined) memories.delete(ref);
      else total += memory.buffer.byteLength;
    }
    return total;
  };
  const read = (): Reading => {
    gc();
    gc();
    const usage = process.memoryUsage();
    return { arrayBuffers: usage.arrayBuffers, heapUsed: usage.heapUsed, wasmMemory: wasmBytes() };
  };
  /** A reading folded into the window's peak; `_held` keeps the new object alive across it. */
  const sample = (_held?: unknown): void => {
    if (!armed) return;
    readings++;
    peak = maxReading(peak, read());
  };

  for (const name of HOOKED) {
    const original = globals[name] as AnyConstructor | undefined;
    if (original === undefined) continue;
    const proxy = new Proxy(original, {
      construct(target, args, newTarget) {
        const made = Reflect.construct(target, args, newTarget === proxy ? target : newTarget) as object;
        sample(made);
        return made;
      },
    });
    const prototype = original.prototype as { constructor: unknown };
    globals[name] = proxy;
    prototype.constructor = proxy;
    restore.push(() => {
      globals[name] = original;
      prototype.constructor = original;
    });
  }
  const wasm = globals["WebAssembly"] as WasmNamespace | undefined;
  if (wasm !== undefined) hookWasm(wasm, memories, sample, restore);

  const meter: LiveBytesMeter = {
    read,
    async measure(f) {
      const before = read();
      peak = before;
      readings = 0;
      armed = true;
      let result: Awaited<ReturnType<typeof f>>;
      try {
        result = await f();
      } finally {
        armed = false;
      }
      const after = read();
      const window = { before, peak: maxReading(peak, after), after, readings, result };
      peak = undefined;
      return window;
    },
    uninstall() {
      for (const undo of restore.reverse()) undo();
      restore.length = 0;
      active = undefined;
    },
  };
  active = meter;
  return meter;
}

let active: LiveBytesMeter | undefined;

/** The meter installed in this process (by the preload, or `installLiveBytes`), if any. */
export function liveBytesMeter(): LiveBytesMeter | undefined {
  return active;
}

function maxReading(a: Reading | undefined, b: Reading): Reading {
  if (a === undefined) return b;
  return {
    arrayBuffers: Math.max(a.arrayBuffers, b.arrayBuffers),
    heapUsed: Math.max(a.heapUsed, b.heapUsed),
    wasmMemory: Math.max(a.wasmMemory, b.wasmMemory),
  };
}

/** Records every WebAssembly memory made or exported, and reads after each `grow` call. */
function hookWasm(wasm: WasmNamespace, memories: Set<WeakRef<WasmMemoryLike>>, sample: (held?: unknown) => void, restore: (() => void)[]) {
  const known = new WeakSet<object>();
  const record = (memory: unknown): void => {
    if (memory instanceof wasm.Memory && !known.has(memory)) {
      known.add(memory);
      memories.add(new WeakRef(memory));
    }
  };
  const recordExports = (instance: unknown): void => {
    const exports = (instance as { exports?: Record<string, unknown> } | undefined)?.exports;
    if (exports !== undefined) for (const value of Object.values(exports)) record(value);
  };
  const { Memory, Instance, instantiate } = wasm;
  const grow = Memory.prototype.grow;
  wasm.Memory = new Proxy(Memory, {
    construct(target, args, newTarget) {
      const memory = Reflect.construct(target, args, newTarget) as WasmMemoryLike;
      record(memory);
      sample(memory);
      return memory;
    },
  });
  wasm.Instance = new Proxy(Instance, {
    construct(target, args, newTarget) {
      const instance = Reflect.construct(target, args, newTarget) as { exports: Record<string, unknown> };
      recordExports(instance);
      return instance;
    },
  });
  wasm.instantiate = async (...args: unknown[]) => {
    const made = (await instantiate.apply(wasm, args)) as { instance?: unknown };
    recordExports(made.instance ?? made);
    return made;
  };
  Memory.prototype.grow = function (this: WasmMemoryLike, pages: number): number {
    const previous = grow.call(this, pages);
    record(this);
    sample(this);
    return previous;
  };
  restore.push(() => {
    wasm.Memory = Memory;
    wasm.Instance = Instance;
    wasm.instantiate = instantiate;
    Memory.prototype.grow = grow;
  });
}

/** The environment and Node flags of a process measured by the bench (child.ts memory): the hooks installed first. */
export const LIVE_BYTES_ENV: Readonly<Record<string, string>> = { CHAINRULE_LIVE_BYTES: "1" };
export const LIVE_BYTES_NODE_FLAGS: readonly string[] = ["--import", import.meta.url];
export const LIVE_BYTES_HOW = "start Node with --expose-gc --import bench/src/live-bytes.ts and CHAINRULE_LIVE_BYTES=1";

// the bench's memory child preloads this file (`--import`) with CHAINRULE_LIVE_BYTES=1
if (process.env["CHAINRULE_LIVE_BYTES"] === "1" && active === undefined) installLiveBytes();
