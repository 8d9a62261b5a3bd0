/**
 * @chainrule/jit's WebAssembly kernels and Web Worker threads in headless Chromium (Debian's
 * /usr/bin/chromium). Without it the tests are skipped with the reason and the install command,
 * except in CI, where they run and fail (`browserSkipReason`). The page is bundled from
 * the TypeScript sources with Vite and served on 127.0.0.1 with and without cross-origin isolation
 * and under several Content-Security-Policies. Any console error or uncaught page error that a
 * test did not expect fails it.
 */
import type { Browser } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  browserSkipReason,
  bundlePage,
  chromiumInstalled,
  launchChromium,
  openPage,
  requireChromium,
  serve,
  type OpenPage,
  type Variant,
} from "./harness.js";

const skipReason = browserSkipReason();
if (skipReason !== undefined) console.warn(`@chainrule/browser-tests: skipped: ${skipReason}`);

let browser: Browser | undefined;
let base = "";
const cleanups: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  // without Chromium (in CI) every test below fails with the message that says how to install it
  if (skipReason !== undefined || !chromiumInstalled()) return;
  const server = await serve(await bundlePage());
  cleanups.push(server.close);
  base = server.url;
  browser = await launchChromium(["--js-flags=--expose-gc"]);
  cleanups.push(() => browser!.close());
}, 120_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** Opens `variant`, runs `body`, then fails on console/page errors other than `expected` ones. */
async function onPage(variant: Variant, body: (p: OpenPage) => Promise<void>, expected: RegExp[] = [], on?: Browser): Promise<void> {
  requireChromium();
  const p = await openPage(on ?? browser!, base, variant);
  try {
    await body(p);
    // let late errors (a worker failing asynchronously) arrive before checking
    await p.page.evaluate(() => new Promise((resolve) => setTimeout(resolve, 50)));
    expect(p.errors.filter((e) => !expected.some((x) => x.test(e)))).toEqual([]);
  } finally {
    await p.close();
  }
}

/** Two threads on a page that can have them: bit-identical to one thread, correct, and the worker ran. */
async function twoThreadsRun(p: OpenPage): Promise<void> {
  const info = await p.call("info");
  expect(info.crossOriginIsolated).toBe(true);
  expect(info.simd).toBe(true);
  expect(info.sharedMemory).toBe(true);
  expect(info.threadsUnavailable).toBeUndefined();
  expect(info.threads).toBe(true);
  // relaxed SIMD ships in Chromium (Chrome ≥ 114): the kernels use FMA here without any flag
  expect(info.relaxedFma).toBe(true);
  expect(await p.call("startThreads", 20_000)).toBe(true);
  expect((await p.call("info")).threadsReady).toBe(true);
  for (const dtype of ["float32", "float64"] as const) {
    const r = await p.call("matmul", 256, dtype, 2, 200, 3);
    expect(r.source).toMatch(/2 threads/);
    expect(r.bitIdentical).toBe(true);
    expect(r.errorVsReference).toBeLessThanOrEqual(dtype === "float32" ? 1e-5 : 1e-13);
    // the worker claimed jobs and ran blocks (posted > withdrawn), so this fails if it never ran
    expect(r.stats.posted).toBeGreaterThan(r.stats.withdrawn);
    expect(r.stats.workerBlocks).toBeGreaterThan(0);
  }
  const mlp = await p.call("mlp", 2, 200, 3);
  expect(mlp.source).toMatch(/^\/\/ WebAssembly kernels: .*2 threads, relaxed-SIMD FMA/);
  expect(mlp.bitIdentical).toBe(true);
  expect(mlp.errorVsReference).toBeLessThanOrEqual(1e-5);
  expect(mlp.stats.posted).toBeGreaterThan(mlp.stats.withdrawn);
  expect(mlp.stats.workerBlocks).toBeGreaterThan(0);
}

/** `threads: 2` where two threads are unavailable: one thread, the same results. */
async function oneThreadRun(p: OpenPage): Promise<void> {
  expect(await p.call("startThreads", 5_000)).toBe(false);
  const info = await p.call("info");
  expect(info.threads).toBe(false);
  expect(info.threadsReady).toBe(false);
  for (const dtype of ["float32", "float64"] as const) {
    const r = await p.call("matmul", 256, dtype, 2, 3, 3);
    expect(r.source).toMatch(/1 thread\b/);
    expect(r.bitIdentical).toBe(true);
    expect(r.errorVsReference).toBeLessThanOrEqual(dtype === "float32" ? 1e-5 : 1e-13);
    expect(r.stats).toEqual({ posted: 0, withdrawn: 0, workerBlocks: 0 });
  }
  const mlp = await p.call("mlp", 2, 3, 3);
  expect(mlp.bitIdentical).toBe(true);
  expect(mlp.errorVsReference).toBeLessThanOrEqual(1e-5);
  expect(mlp.stats).toEqual({ posted: 0, withdrawn: 0, workerBlocks: 0 });
}

const title = "@chainrule/jit in headless Chromium";
describe.skipIf(skipReason !== undefined)(skipReason === undefined ? title : `${title} [skipped: ${skipReason}]`, () => {
  it("Debian's Chromium is installed at /usr/bin/chromium", () => {
    requireChromium();
  });

  // the second thread is a Web Worker
  it("a cross-origin isolated page runs two threads: bit-identical to one thread, correct, and the worker ran blocks", async () => {
    await onPage("isolated", twoThreadsRun);
  }, 60_000);

  // the CSP allows 'unsafe-eval', 'wasm-unsafe-eval' and worker-src blob:
  it("a CSP allowing eval and blob: workers runs two threads too; before the worker started, the main thread ran every block", async () => {
    await onPage("cspAllowing", async (p) => {
      // first thing on the page, in one task: the worker cannot be running yet
      const cold = await p.call("coldStart");
      expect(cold.readyBefore).toBe(false);
      expect(cold.source).toMatch(/2 threads/);
      expect(cold.bitIdentical).toBe(true);
      await twoThreadsRun(p);
    });
  }, 60_000);

  // the live program moves to the new worker once that worker runs
  it("collected two-thread programs get the worker replaced; a live program keeps its results and uses the new worker", async () => {
    await onPage("isolated", async (p) => {
      expect(await p.call("startThreads", 20_000)).toBe(true);
      const r = await p.call("churn");
      expect(r.bitIdentical).toBe(true);
      expect(r.restarts).toBeGreaterThan(0);
      expect(r.restartedReady).toBe(true);
      expect(r.workerBlocks).toBeGreaterThan(0);
    });
  }, 60_000);

  // threads: 2 runs on one thread there
  it("a page without cross-origin isolation: threads unavailable with the reason, threads: 2 gives the same results", async () => {
    await onPage("plain", async (p) => {
      const info = await p.call("info");
      expect(info.crossOriginIsolated).toBe(false);
      expect(info.simd).toBe(true);
      expect(info.threadsUnavailable).toMatch(
        /not cross-origin isolated.*Cross-Origin-Opener-Policy: same-origin.*Cross-Origin-Embedder-Policy: require-corp/,
      );
      await oneThreadRun(p);
    });
  }, 60_000);

  // the CSP forbids workers from blob: URLs; the run gives the same results on one thread
  it("a CSP forbidding blob: workers: the worker cannot start, threads unavailable with the reason, same results", async () => {
    await onPage(
      "cspNoBlobWorker",
      async (p) => {
        expect((await p.call("info")).threads).toBe(true); // possible until the worker is tried
        await oneThreadRun(p);
        expect((await p.call("info")).threadsUnavailable).toMatch(/could not start.*worker-src blob:/);
      },
      [/Creating a worker from 'blob:.*violates the following Content Security Policy directive/],
    );
  }, 60_000);

  it("where the Worker constructor throws: threads unavailable with the reason, same results on one thread, no error", async () => {
    await onPage("workerThrows", async (p) => {
      await oneThreadRun(p);
      expect((await p.call("info")).threadsUnavailable).toMatch(/could not be created \(SecurityError: workers are forbidden here\)/);
    });
  }, 60_000);

  // the CSP has neither 'unsafe-eval' nor 'wasm-unsafe-eval'
  it("a CSP without eval: kernels unavailable with the reason; jit needs eval, the interpreter computes the step", async () => {
    await onPage("cspStrict", async (p) => {
      const info = await p.call("info");
      expect(info.simd).toBe(false);
      expect(info.kernelsUnavailable).toMatch(/compiling WebAssembly was refused.*'wasm-unsafe-eval'/);
      expect(info.threads).toBe(false);
      expect(info.threadsUnavailable).toMatch(/kernels are unavailable/);
      expect(await p.call("startThreads", 1_000)).toBe(false);
      const r = await p.call("mlpWithoutEval");
      // Chromium treats 'unsafe-eval' as allowing WebAssembly too, so a page where `new Function`
      // works always has the kernels: without eval the JIT cannot generate code at all, and says
      // why (the browser's EvalError) and what to use instead
      expect(r.jitError).toMatch(/^CodeGenerationError: jit: .*\(EvalError: .*'unsafe-eval'.*emitModule.*interpreter/);
      expect(r.interpreterError).toBeLessThanOrEqual(1e-5);
    });
  }, 60_000);

  // V8 jitless, as in lockdown modes
  it("without WebAssembly: kernels unavailable with the reason, the generated JavaScript gives the results", async () => {
    requireChromium();
    const noWasm = await launchChromium(["--js-flags=--jitless"]);
    try {
      await onPage(
        "isolated",
        async (p) => {
          const info = await p.call("info");
          expect(info.simd).toBe(false);
          expect(info.kernelsUnavailable).toMatch(/^no WebAssembly in this runtime \(V8 in jitless mode/);
          expect(info.threadsUnavailable).toMatch(/kernels are unavailable/);
          const r = await p.call("mlpDefaultPath");
          expect(r.source).not.toMatch(/WebAssembly/);
          expect(r.errorVsJs).toBe(0);
          expect(r.errorVsReference).toBeLessThanOrEqual(1e-4);
        },
        [],
        noWasm,
      );
    } finally {
      await noWasm.close();
    }
  }, 60_000);
});

describe.skipIf(skipReason !== undefined)(
  skipReason === undefined ? "@chainrule/wasm's eager backend in headless Chromium" : `eager backend [skipped: ${skipReason}]`,
  () => {
    it("an isolated page: eager matmuls run on the kernels on two threads, bit-identical to one, float64 as ir's JavaScript", async () => {
      await onPage("isolated", async (p) => {
        expect(await p.call("startThreads", 20_000)).toBe(true);
        const r = await p.call("eager", 2, 200, 3);
        expect(r).toMatchObject({ active: true, unavailable: undefined, threadsUnavailable: undefined, bitIdentical: true });
        expect(r.backend).toBe("wasm");
        expect(r.float64SameAsJs).toBe(true);
        expect(r.errorVsReference).toBeLessThanOrEqual(1e-5);
        expect(r.matmuls).toBe(r.rounds + 2);
        expect(r.parallel).toBeGreaterThan(0);
      });
    }, 60_000);

    it("a page without cross-origin isolation: one thread with the reason, the same results", async () => {
      await onPage("plain", async (p) => {
        const r = await p.call("eager", 2, 3, 3);
        expect(r).toMatchObject({ active: true, bitIdentical: true, float64SameAsJs: true, parallel: 0, matmuls: 5 });
        expect(r.threadsUnavailable).toMatch(/not cross-origin isolated/);
      });
    }, 60_000);

    it("a CSP without 'wasm-unsafe-eval': the backend stays off with the reason, ir's JavaScript computes the same", async () => {
      await onPage("cspStrict", async (p) => {
        const r = await p.call("eager", 2, 1, 1);
        expect(r).toMatchObject({ active: false, backend: "js", matmuls: 0, bitIdentical: true, float64SameAsJs: true });
        expect(r.unavailable).toMatch(/compiling WebAssembly was refused.*'wasm-unsafe-eval'/);
        expect(r.errorVsReference).toBeLessThanOrEqual(1e-5);
      });
    }, 60_000);

    it("without WebAssembly (jitless): the backend stays off with the reason, the same results", async () => {
      const noWasm = await launchChromium(["--js-flags=--jitless"]);
      try {
        await onPage(
          "isolated",
          async (p) => {
            const r = await p.call("eager", 2, 1, 1);
            expect(r).toMatchObject({ active: false, backend: "js", matmuls: 0, bitIdentical: true, float64SameAsJs: true });
            expect(r.unavailable).toMatch(/^no WebAssembly in this runtime/);
          },
          [],
          noWasm,
        );
      } finally {
        await noWasm.close();
      }
    }, 60_000);
  },
);

describe.skipIf(skipReason !== undefined)(
  skipReason === undefined ? "ir's eager elementwise fusion in headless Chromium" : `eager fusion [skipped: ${skipReason}]`,
  () => {
    it("a page that allows eval: an expression is one generated loop, bit for bit ir's kernels, summed alike", async () => {
      await onPage("isolated", async (p) => {
        const r = await p.call("fusion", 5000);
        expect(r).toMatchObject({ enabled: true, reason: "", lazy: true, sameAsKernels: true, sumSameAsKernels: true });
        expect(r.compiled).toBeGreaterThan(0);
      });
    }, 60_000);

    it("a CSP without 'unsafe-eval': fusion is off with the reason, every primitive runs at once", async () => {
      await onPage("cspStrict", async (p) => {
        const r = await p.call("fusion", 5000);
        expect(r).toMatchObject({ enabled: false, lazy: false, compiled: 0 });
        expect(r.reason).toMatch(/^code generation from strings is refused/);
      });
    }, 60_000);
  },
);
