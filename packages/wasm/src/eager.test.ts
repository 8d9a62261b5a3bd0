import {
  add,
  ArgumentError,
  div,
  backendStatus,
  exp,
  log,
  matmul,
  max,
  maximum,
  mul,
  setBackend,
  sqrt,
  sub,
  sum,
  tanh,
  type Tensor,
  tensor,
  withBackend,
} from "@chainrule/ir";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resetWasmBackend, useWasmBackend, wasmBackendInfo } from "./eager.js";
import { wasmFeatures } from "./features.js";
import { ULP_BOUND } from "./math32.js";

const seeded = (n: number, seed: number, scale = 1) => Array.from({ length: n }, (_, i) => Math.sin(i * 0.37 + seed) * scale);
const f64 = (shape: number[], seed: number) =>
  tensor(
    Float64Array.from(
      seeded(
        shape.reduce((a, b) => a * b, 1),
        seed,
      ),
    ),
    { shape },
  );
const f32 = (shape: number[], seed: number, scale = 1) =>
  tensor(
    Float32Array.from(
      seeded(
        shape.reduce((a, b) => a * b, 1),
        seed,
        scale,
      ),
    ),
    { shape },
  );

/** C = A·B by the textbook loop (p ascending, each product and sum rounded in float64), batch broadcast by stride 0. */
function naiveMatmul(a: Tensor, b: Tensor, batch: number): Float64Array {
  const [m, k] = a.shape.slice(-2) as [number, number];
  const n = b.shape.at(-1)!;
  const strideA = a.size === m * k ? 0 : m * k;
  const strideB = b.size === k * n ? 0 : k * n;
  const c = new Float64Array(batch * m * n);
  for (let t = 0; t < batch; t++)
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[t * strideA + i * k + p]! * b.data[t * strideB + p * n + j]!;
        c[t * m * n + i * n + j] = s;
      }
  return c;
}

const ran = () => wasmBackendInfo().ran;

beforeAll(() => {
  expect(wasmFeatures().simd).toBe(true);
  expect(useWasmBackend({ minElements: 64, minMatmulWork: 64 })).toBe(true);
});
afterAll(() => {
  setBackend("js");
  resetWasmBackend();
});

describe("the eager WebAssembly backend: matmul", () => {
  const cases: [number[], number[], number][] = [
    [[9, 13], [13, 17], 1],
    [[64, 100], [100, 10], 1],
    [[3, 7, 5], [3, 5, 9], 3],
    [[7, 5], [4, 5, 6], 4], // A broadcast over the batch
    [[2, 2, 8, 8], [8, 8], 4], // B broadcast
  ];
  for (const [sa, sb, batch] of cases) {
    it(`float64 ${sa.join("×")} · ${sb.join("×")} is bit for bit the textbook loop`, () => {
      const before = ran().matmul;
      const a = f64(sa, 1);
      const b = f64(sb, 2);
      const c = matmul(a, b);
      expect(ran().matmul).toBe(before + 1);
      expect(Array.from(c.data)).toEqual(Array.from(naiveMatmul(a, b, batch)));
      expect(Array.from(c.data)).toEqual(Array.from(withBackend("js", () => matmul(a, b)).data));
    });
  }

  it("float32 agrees with float64 arithmetic within 1e-5 of |c| + 1 (256 × 256 × 256)", () => {
    const a = f32([256, 256], 3);
    const b = f32([256, 256], 4);
    const c = matmul(a, b);
    const want = naiveMatmul(a, b, 1);
    let worst = 0;
    for (let i = 0; i < want.length; i++) worst = Math.max(worst, Math.abs(c.data[i]! - want[i]!) / (1 + Math.abs(want[i]!)));
    expect(c.dtype).toBe("float32");
    expect(worst).toBeLessThan(1e-5);
  });

  it("two threads give the same bits as one", () => {
    const a = f32([96, 300], 5);
    const b = f32([300, 256], 6);
    const one = matmul(a, b);
    useWasmBackend({ threads: 2 });
    try {
      for (let i = 0; i < 3; i++) expect(Array.from(matmul(a, b).data)).toEqual(Array.from(one.data));
    } finally {
      useWasmBackend({ threads: 1 });
    }
  });

  it("leaves small, int32 and unbroadcastable batches to the JavaScript backend", () => {
    const before = ran().matmul;
    expect(Array.from(matmul(tensor([[1, 2]]), tensor([[3], [4]])).data)).toEqual([11]);
    const ints = tensor(
      Int32Array.from({ length: 400 }, (_, i) => i % 7),
      { shape: [20, 20] },
    );
    expect(matmul(ints, ints).dtype).toBe("int32");
    const c = matmul(f64([2, 1, 6, 6], 1), f64([1, 3, 6, 6], 2)); // batch [2,1] × [1,3]: neither whole nor one
    expect(c.shape).toEqual([2, 3, 6, 6]);
    expect(ran().matmul).toBe(before);
  });
});

describe("the eager WebAssembly backend: elementwise and reductions", () => {
  it("float64 + × max √ are bit for bit a JavaScript loop, with row and scalar broadcasts", () => {
    const x = f64([40, 30], 1);
    const y = f64([40, 30], 2);
    const row = f64([30], 3);
    const before = ran().elementwise;
    const s = add(x, y);
    const p = mul(x, row);
    const q = maximum(2.5, x);
    const r = sqrt(add(x, 2));
    expect(ran().elementwise).toBe(before + 5);
    for (let i = 0; i < 1200; i++) {
      expect(s.data[i]).toBe(x.data[i]! + y.data[i]!);
      expect(p.data[i]).toBe(x.data[i]! * row.data[i % 30]!);
      expect(q.data[i]).toBe(Math.max(2.5, x.data[i]!));
      expect(r.data[i]).toBe(Math.sqrt(x.data[i]! + 2));
    }
  });

  it("float32 + − × ÷ are bit for bit JavaScript's float64 result rounded to float32", () => {
    const x = f32([8192], 1, 3);
    const y = f32([8192], 2, 5);
    const results = [add(x, y), sub(x, y), mul(x, y), div(x, y)];
    const reference = [
      (a: number, b: number) => a + b,
      (a: number, b: number) => a - b,
      (a: number, b: number) => a * b,
      (a: number, b: number) => a / b,
    ];
    results.forEach((r, k) => {
      for (let i = 0; i < 8192; i++) expect(r.data[i]).toBe(Math.fround(reference[k]!(x.data[i]!, y.data[i]!)));
    });
  });

  it("float32 exp, log, tanh are within their ulp bounds of Math.*", () => {
    const x = f32([4096], 7, 8);
    const positive = f32([4096], 8, 50).data.map((v) => Math.abs(v) + 1e-3);
    const checks: [keyof typeof ULP_BOUND, Tensor, Tensor, (v: number) => number][] = [
      ["exp", x, exp(x), Math.exp],
      ["log", tensor(positive), log(tensor(positive)), Math.log],
      ["tanh", x, tanh(x), Math.tanh],
    ];
    for (const [name, input, got, reference] of checks) {
      let worst = 0;
      for (let i = 0; i < input.size; i++) {
        const want = Math.fround(reference(input.data[i]!));
        const ulp = 2 ** (Math.floor(Math.log2(Math.max(Math.abs(want), 2 ** -126))) - 23);
        worst = Math.max(worst, Math.abs(got.data[i]! - want) / ulp);
      }
      expect(worst, name).toBeLessThanOrEqual(ULP_BOUND[name]);
    }
  });

  it("reductions: max is exact, a sum over leading axes keeps the sequential order, trailing sums stay in JavaScript", () => {
    const x = f32([64, 128], 9);
    const before = ran().reduce;
    const columns = sum(x, 0);
    const rows = max(x, 1);
    expect(ran().reduce).toBe(before + 2);
    for (let j = 0; j < 128; j++) {
      let s = 0;
      for (let i = 0; i < 64; i++) s = Math.fround(s + x.data[i * 128 + j]!);
      expect(columns.data[j]).toBe(s);
    }
    for (let i = 0; i < 64; i++) expect(rows.data[i]).toBe(Math.max(...x.data.subarray(i * 128, (i + 1) * 128)));
    // a sum over trailing axes stays on ir's sequential loop (the kernel would add in lanes)
    const all = sum(f64([100, 100], 2)).item();
    expect(ran().reduce).toBe(before + 2);
    expect(all).toBe(seeded(10_000, 2).reduce((a, b) => a + b, 0));
  });
});

describe("the eager WebAssembly backend: switching and options", () => {
  it("reports itself active, and setBackend('js') turns it off", () => {
    expect(backendStatus().name).toBe("wasm");
    expect(backendStatus().backends).toContainEqual({ name: "wasm", unavailable: undefined });
    const a = f64([32, 32], 1);
    const before = ran().matmul;
    withBackend("js", () => matmul(a, a));
    expect(ran().matmul).toBe(before);
    matmul(a, a);
    expect(ran().matmul).toBe(before + 1);
  });

  it("rejects unknown and malformed options with ArgumentError", () => {
    expect(() => useWasmBackend({ threads: 0 })).toThrow(ArgumentError);
    expect(() => useWasmBackend({ threads: 0 })).toThrow(
      "useWasmBackend: expected threads to be an integer ≥ 1 (two are used at most), got number 0",
    );
    expect(() => useWasmBackend({ thread: 2 } as never)).toThrow(
      'useWasmBackend: expected options among threads, fma, minMatmulWork, minElements, got "thread"',
    );
    expect(() => useWasmBackend(null as never)).toThrow(ArgumentError);
    expect(() => (useWasmBackend as (...a: unknown[]) => boolean)({}, {})).toThrow("useWasmBackend: expected at most 1 argument, got 2");
    expect(wasmBackendInfo().settings.threads).toBe(1);
  });
});
