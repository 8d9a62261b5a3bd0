import { describe, expect, it } from "vitest";
import { ArenaPlan } from "./arena.js";
import { wasmFeatures } from "./features.js";
import { gemmFunction, gemmKey, gemmScratchBytes, type GemmSpec } from "./gemm.js";
import { instantiate, kernelModule } from "./kernels.js";

/** Runs a GEMM spec on seeded data and compares with a plain float64 reference. */
function check(spec: GemmSpec): number {
  const { m, n, k, dtype } = spec;
  const batch = spec.batch ?? 1;
  const size = dtype === "float32" ? 4 : 8;
  const aCount = batch * m * k,
    bCount = batch * k * n,
    cCount = batch * m * n;
  const plan = new ArenaPlan();
  const a = plan.reserve(aCount * size),
    b = plan.reserve(bCount * size),
    c = plan.reserve(cCount * size);
  const scratch = plan.reserve(gemmScratchBytes(spec));
  const arena = plan.create(false);
  const gemm = instantiate(
    kernelModule(gemmKey(spec), false, () => [gemmFunction(spec)]),
    arena.memory,
  )["gemm"]!;
  const view = (at: number, count: number) => (dtype === "float32" ? arena.f32(at, count) : arena.f64(at, count));
  const A = view(a, aCount),
    B = view(b, bCount),
    C = view(c, cCount);
  for (let i = 0; i < aCount; i++) A[i] = Math.sin(i * 0.37 + 0.1);
  for (let i = 0; i < bCount; i++) B[i] = Math.cos(i * 0.11 + 0.2);
  for (let i = 0; i < cCount; i++) C[i] = spec.accumulate ? i * 0.5 : NaN;
  const before = C.slice();
  gemm(a, b, c, scratch);
  let worst = 0;
  for (let t = 0; t < batch; t++) {
    for (let i = 0; i < m; i++) {
      for (let j = 0; j < n; j++) {
        let s = spec.accumulate ? before[t * m * n + i * n + j]! : 0;
        for (let p = 0; p < k; p++) {
          const aip = spec.transA ? A[t * m * k + p * m + i]! : A[t * m * k + i * k + p]!;
          const bpj = spec.transB ? B[t * k * n + j * k + p]! : B[t * k * n + p * n + j]!;
          s += aip * bpj;
        }
        const got = C[t * m * n + i * n + j]!;
        const err = Math.abs(got - s) / (1 + Math.abs(s));
        if (!(err <= worst)) worst = Number.isNaN(err) ? Infinity : err;
      }
    }
  }
  return worst;
}

const SHAPES: [number, number, number][] = [
  [1, 1, 1],
  [0, 3, 3],
  [3, 0, 2],
  [2, 3, 0],
  [1, 7, 5],
  [5, 1, 3],
  [5, 7, 3],
  [4, 8, 1],
  [9, 13, 17],
  [33, 65, 7],
  [64, 10, 128],
  [7, 129, 31],
  [8, 16, 8],
  [3, 5, 2],
  [17, 9, 64],
];

describe("wasm GEMM kernels", () => {
  it("SIMD is available on this host", () => {
    expect(wasmFeatures().simd).toBe(true);
  });
  for (const dtype of ["float32", "float64"] as const) {
    const tol = dtype === "float32" ? 2e-5 : 1e-13;
    for (const [transA, transB] of [
      [false, false],
      [true, false],
      [false, true],
      [true, true],
    ] as const) {
      it(`${dtype} ${transA ? "Aᵀ" : "A"}·${transB ? "Bᵀ" : "B"} over odd and degenerate shapes`, () => {
        for (const [m, n, k] of SHAPES) {
          const err = check({ dtype, m, n, k, transA, transB });
          expect({ m, n, k, err: err <= tol }).toEqual({ m, n, k, err: true });
        }
      });
    }
    it(`${dtype} batched (including batch 0 and 1), accumulate, and tile heights 1..6`, () => {
      for (const batch of [0, 1, 3]) {
        for (const transB of [false, true]) expect(check({ dtype, m: 6, n: 11, k: 5, batch, transB })).toBeLessThanOrEqual(tol);
      }
      expect(check({ dtype, m: 9, n: 10, k: 7, accumulate: true })).toBeLessThanOrEqual(tol);
      expect(check({ dtype, m: 9, n: 10, k: 7, accumulate: true, transA: true, batch: 2 })).toBeLessThanOrEqual(tol);
      for (const [rows, vecs] of [
        [2, 4],
        [3, 3],
        [4, 3],
        [3, 1],
        [6, 2],
      ] as const) {
        for (const transB of [false, true]) expect(check({ dtype, m: 13, n: 29, k: 9, rows, vecs, transB })).toBeLessThanOrEqual(tol);
      }
      for (let rows = 1; rows <= 6; rows++) {
        for (const packA of [false, true])
          for (const transA of [false, true]) expect(check({ dtype, m: 13, n: 19, k: 9, rows, packA, transA })).toBeLessThanOrEqual(tol);
      }
    });
    it(`${dtype} with relaxed-SIMD FMA where the host validates it`, () => {
      if (!wasmFeatures().relaxedFma) {
        // without the flag the FMA module must be rejected, not silently run
        expect(() => check({ dtype, m: 5, n: 9, k: 3, fma: true })).toThrow(/does not validate|CompileError|invalid/i);
        return;
      }
      for (const [m, n, k] of SHAPES) expect(check({ dtype, m, n, k, fma: true })).toBeLessThanOrEqual(tol);
    });
  }
});

describe("GEMM epilogues (elementwise work fused into the stores)", () => {
  for (const dtype of ["float32", "float64"] as const) {
    it(`${dtype}: bias + activation and an update, laid out like C, with column blocks and partial vectors`, () => {
      for (const [m, n, k, transA, transB] of [
        [5, 7, 3, false, false],
        [9, 13, 17, true, false],
        [8, 16, 8, false, true],
        [1, 1, 1, false, false],
        [33, 21, 10, true, true],
      ] as const) {
        const size = dtype === "float32" ? 4 : 8;
        const plan = new ArenaPlan();
        const a = plan.reserve(m * k * size, 16),
          b = plan.reserve(k * n * size, 16);
        const full = plan.reserve(m * n * size, 16),
          row = plan.reserve(n * size, 16),
          col = plan.reserve(m * size, 16),
          sc = plan.reserve(size, 16);
        const out1 = plan.reserve(m * n * size, 16),
          out2 = plan.reserve(m * n * size, 16);
        const c = plan.reserve(m * n * size, 16);
        const spec: GemmSpec = {
          dtype,
          m,
          n,
          k,
          transA,
          transB,
          epilogue: {
            cBase: c,
            operands: [
              { kind: "product", at: 0 },
              { kind: "row", at: row },
              { kind: "full", at: full },
              { kind: "col", at: col },
              { kind: "scalar", at: sc },
            ],
            nodes: [
              { op: "add", args: [{ operand: 0 }, { operand: 1 }] },
              ...(dtype === "float32" ? [{ op: "tanh" as const, args: [{ node: 0 }] }] : [{ op: "abs" as const, args: [{ node: 0 }] }]),
              { op: "mul", args: [{ operand: 0 }, { constant: 0.5 }] },
              { op: "sub", args: [{ operand: 2 }, { node: 2 }] },
              { op: "add", args: [{ node: 3 }, { operand: 3 }] },
              { op: "mul", args: [{ node: 4 }, { operand: 4 }] },
            ],
            stores: [
              { node: 1, at: out1 },
              { node: 5, at: out2 },
            ],
          },
        };
        const scratch = plan.reserve(gemmScratchBytes(spec));
        const arena = plan.create(false);
        const view = (at: number, count: number) => (dtype === "float32" ? arena.f32(at, count) : arena.f64(at, count));
        const fill = (at: number, count: number, seed: number) => {
          const v = view(at, count);
          for (let i = 0; i < count; i++) v[i] = Math.sin(i * 0.7 + seed) * 0.5;
          return v;
        };
        const A = fill(a, m * k, 1),
          B = fill(b, k * n, 2),
          F = fill(full, m * n, 3),
          R = fill(row, n, 4),
          Co = fill(col, m, 5),
          S = fill(sc, 1, 6);
        view(c, m * n).fill(12345);
        instantiate(
          kernelModule(gemmKey(spec), false, () => [gemmFunction(spec)]),
          arena.memory,
        )["gemm"]!(a, b, c, scratch);
        const O1 = view(out1, m * n),
          O2 = view(out2, m * n);
        const round = dtype === "float32" ? Math.fround : (x: number) => x;
        for (let i = 0; i < m; i++) {
          for (let j = 0; j < n; j++) {
            let p = 0;
            for (let q = 0; q < k; q++) p += (transA ? A[q * m + i]! : A[i * k + q]!) * (transB ? B[j * k + q]! : B[q * n + j]!);
            const t = p + R[j]!;
            const w1 = dtype === "float32" ? Math.tanh(t) : Math.abs(t);
            const w2 = (F[i * n + j]! - 0.5 * p + Co[i]!) * S[0]!;
            const tol = dtype === "float32" ? 1e-5 : 1e-13;
            expect(Math.abs(O1[i * n + j]! - round(w1))).toBeLessThanOrEqual(tol * (1 + Math.abs(w1)));
            expect(Math.abs(O2[i * n + j]! - round(w2))).toBeLessThanOrEqual(tol * (1 + Math.abs(w2)));
          }
        }
        // the product itself is not stored
        expect(view(c, m * n).every((x) => x === 12345)).toBe(true);
      }
    });
  }
});
