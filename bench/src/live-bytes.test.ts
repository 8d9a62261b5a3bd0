import { afterEach, describe, expect, it } from "vitest";
import { runChild } from "./children.js";
import { installLiveBytes, LIVE_BYTES_ENV, LIVE_BYTES_NODE_FLAGS, type LiveBytesMeter } from "./live-bytes.js";

const n = 50_000;
const bytes = n * 8;
/** Slack for what else the process allocates around a reading (vitest's own messages, small arrays). */
const slack = 64 * 1024;

interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}

let meter: LiveBytesMeter | undefined;
afterEach(() => {
  meter?.uninstall();
  meter = undefined;
});

describe("live-bytes meter", () => {
  it("keeps instanceof, constructor identity and species copies working through the Proxies", () => {
    const Original = Float64Array;
    meter = installLiveBytes();
    expect(Float64Array).not.toBe(Original);
    const x = new Float64Array([1, 2, 3]);
    expect(x instanceof Float64Array).toBe(true);
    expect(x instanceof Original).toBe(true);
    expect(x.constructor).toBe(Float64Array);
    expect(Object.prototype.toString.call(x)).toBe("[object Float64Array]");
    expect(Array.from(Float64Array.from([4, 5]))).toEqual([4, 5]);
    expect(Array.from(x.slice(1))).toEqual([2, 3]);
    expect(x.map((v) => 2 * v) instanceof Float64Array).toBe(true);
    class Sub extends Float32Array {}
    expect(new Sub(2) instanceof Sub).toBe(true);
    meter.uninstall();
    meter = undefined;
    expect(Float64Array).toBe(Original);
    expect(new Float64Array(1).constructor).toBe(Original);
  });

  it("reads k arrays kept alive as k · n · 8 bytes", async () => {
    meter = installLiveBytes();
    const k = 5;
    const w = await meter.measure(() => {
      const kept: Float64Array[] = [];
      for (let i = 0; i < k; i++) kept.push(new Float64Array(n));
      return kept;
    });
    expect(w.readings).toBeGreaterThanOrEqual(k);
    const peak = w.peak.arrayBuffers - w.before.arrayBuffers;
    expect(peak).toBeGreaterThanOrEqual(k * bytes);
    expect(peak).toBeLessThan(k * bytes + slack);
    // the result is still held at the last reading
    expect(w.after.arrayBuffers - w.before.arrayBuffers).toBeGreaterThanOrEqual(k * bytes);
  });

  it("reads arrays allocated and dropped one by one as n · 8 bytes (garbage is never counted)", async () => {
    meter = installLiveBytes();
    // each array lives in its own call frame (a loop variable's register would still hold the
    // previous array while the next one is built: V8 counts it as alive then, rightly)
    const use = (i: number): number => {
      const a = new Float64Array(n);
      a[0] = i;
      return a[0];
    };
    const w = await meter.measure(() => {
      let total = 0;
      for (let i = 0; i < 8; i++) total += use(i);
      return total;
    });
    expect(w.readings).toBeGreaterThanOrEqual(8);
    const peak = w.peak.arrayBuffers - w.before.arrayBuffers;
    expect(peak).toBeGreaterThanOrEqual(bytes);
    expect(peak).toBeLessThan(bytes + slack);
  });

  it("counts a copy made by slice (species) and an ArrayBuffer, and nothing while disarmed", async () => {
    meter = installLiveBytes();
    const source = new Float32Array(n);
    const w = await meter.measure(() => [source.slice(), new ArrayBuffer(bytes)]);
    const peak = w.peak.arrayBuffers - w.before.arrayBuffers;
    expect(peak).toBeGreaterThanOrEqual(n * 4 + bytes);
    expect(peak).toBeLessThan(n * 4 + bytes + slack);
  });

  it("reports WebAssembly memory apart, with its growth", async () => {
    meter = installLiveBytes();
    // read after installing: the hooks replace WebAssembly.Memory
    const wasm = (globalThis as unknown as { WebAssembly: { Memory: new (d: { initial: number }) => WasmMemory } }).WebAssembly;
    const page = 65536;
    const w = await meter.measure(() => {
      const memory = new wasm.Memory({ initial: 2 });
      memory.grow(3);
      return memory;
    });
    expect(w.peak.wasmMemory - w.before.wasmMemory).toBe(5 * page);
    expect(w.peak.arrayBuffers - w.before.arrayBuffers).toBeLessThan(slack);
    expect(w.result.buffer.byteLength).toBe(5 * page);
  });
});

describe("the bench's memory child (a fresh process started as npm run bench starts it)", () => {
  const child = (args: string[]) => runChild(args, 60_000, { ...LIVE_BYTES_ENV }, LIVE_BYTES_NODE_FLAGS);

  it("reads the controls exactly: k kept arrays k·n·8, dropped ones n·8, a slice n·8, wasm memory apart", () => {
    const r = child(["memory-control", "100000"]);
    expect(r.error).toBeUndefined();
    const v = r.value as Record<string, { peakBytes: number; wasmGrowthBytes: number; readings: number }> & { k: number };
    const size = 100_000 * 8;
    // a few hundred bytes of slack: whatever else the process allocates beside the arrays
    expect(v.kept!.peakBytes).toBeGreaterThanOrEqual(v.k * size);
    expect(v.kept!.peakBytes).toBeLessThan(v.k * size + 4096);
    expect(v.dropped!.peakBytes).toBeGreaterThanOrEqual(size);
    expect(v.dropped!.peakBytes).toBeLessThan(size + 4096);
    expect(v.sliced!.peakBytes).toBeGreaterThanOrEqual(size);
    expect(v.sliced!.peakBytes).toBeLessThan(size + 4096);
    expect(v.grown!.wasmGrowthBytes).toBe(3 * 65536);
    expect(v.grown!.peakBytes).toBeLessThan(4096);
  });

  it("reads the hand-written W2 gradient as its one output array, first call and steady", () => {
    const r = child(["memory", "hand", "100000", "float64"]);
    expect(r.error).toBeUndefined();
    const v = r.value as { inputBytes: number; first: { peakBytes: number }; steady: { peakBytes: number; keptBeforeBytes: number } };
    expect(v.inputBytes).toBe(800_000);
    for (const call of [v.first, v.steady]) {
      expect(call.peakBytes).toBeGreaterThanOrEqual(800_000);
      expect(call.peakBytes).toBeLessThan(800_000 + 4096);
    }
    expect(Math.abs(v.steady.keptBeforeBytes)).toBeLessThan(4096);
  });

  it("refuses to measure without the hooks", () => {
    const r = runChild(["memory", "hand", "1000", "float64"], 60_000);
    expect(String(r.value?.["failed"])).toMatch(/needs the live-bytes hooks/);
  });
});
