// The headless-Chromium section: the page builds, every row's answer passes the same check as the
// rest of the bench on tiny variants (1 and 2 threads, a Web Worker as the second thread), a
// deliberately wrong answer is FAILED, and a missing browser is n/a with the install command.
// Needs Debian's Chromium at /usr/bin/chromium: skipped with the reason without it, except in CI,
// where the tests run and fail (`browserSkipReason`). No timing assertions.
import { describe, expect, it } from "vitest";
import { mlpInput } from "../data.js";
import type { TimingOptions } from "../timing.js";
import { matmulVariant, mlpVariant } from "../workloads.js";
import { browserSkipReason, requireChromium } from "@chainrule/browser-tests/chromium";
import { browserSection } from "./section.js";
import { measureInBrowser } from "./session.js";

const fast: TimingOptions = { warmupMs: 1, warmupCalls: 1, sampleMs: 0.5, rounds: 2, caseBudgetMs: 5, minRounds: 2 };
/** Above the kernels' threshold (m·n·k ≥ 4096), as in jit-kernels.test.ts. */
const tiny = () => [mlpVariant(mlpInput(16, 64, 32, 5)), matmulVariant(24, "float32"), matmulVariant(24, "float64")];

const skipReason = browserSkipReason();
if (skipReason !== undefined) console.warn(`@chainrule/bench: browser tests skipped: ${skipReason}`);

describe("headless Chromium section", () => {
  // W3 whole step and W4 f32/f64 on 1 and 2 threads, and hand-written W4 f32
  it.skipIf(skipReason !== undefined)(
    "bundles the page; every row passes the check in a cross-origin isolated page",
    async () => {
      requireChromium();
      const r = await measureInBrowser(tiny(), { timing: fast });
      expect(r.reason).toBeUndefined();
      expect(r.pageErrors).toEqual([]);
      expect(r.status).toBe("ok");
      expect(r.infoBefore?.crossOriginIsolated).toBe(true);
      expect(r.infoBefore?.relaxedFma).toBe(true);
      expect(r.infoBefore?.threads).toBe(true);
      expect(r.startThreads).toBe(true);
      expect(r.infoAfter?.threadsReady).toBe(true);
      const rows = r.rows.map((v) => [v.variant.key, v.rows.map((row) => `${row.impl.id} ${row.status}`)]);
      expect(rows).toEqual([
        ["W3 step f32", ["chromium-jit-1t ok", "chromium-jit-2t ok"]],
        ["W4 matmul f32", ["hand ok", "chromium-jit-1t ok", "chromium-jit-2t ok"]],
        ["W4 matmul f64", ["chromium-jit-1t ok", "chromium-jit-2t ok"]],
      ]);
      // each jit row's compiled program says it ran the row's settings (settingsFact throws otherwise)
      for (const v of r.rows) {
        for (const row of v.rows) {
          expect(row.note).toMatch(/^max rel\. error /);
          expect(row.summary?.count).toBeGreaterThanOrEqual(2);
          if (row.impl.id !== "hand")
            expect(row.note.endsWith(row.impl.id.endsWith("2t") ? "kernels: 2 threads, FMA" : "kernels: 1 thread, FMA")).toBe(true);
        }
      }
      expect(r.rows[0]!.rows[0]!.label).toBe("chainrule jit in Chromium, whole step jitted, params donated, FMA, 1 thread");
      const text = browserSection(r, fast);
      expect(text).toMatch(/crossOriginIsolated true; kernelInfo\(\): simd true, relaxedFma true, sharedMemory true, threads true/);
      expect(text).toMatch(/#### Chromium: W4 matmul 24×24×24, float32\n\n\| implementation/);
    },
    60_000,
  );

  it.skipIf(skipReason !== undefined)(
    "a wrong answer (scaled by 1.01 in the page) is FAILED by the same check, never timed",
    async () => {
      requireChromium();
      const r = await measureInBrowser([mlpVariant(mlpInput(16, 64, 32, 5)), matmulVariant(24, "float32")], {
        timing: fast,
        rows: (v) =>
          v.workload === "W3"
            ? [{ kind: "jit", threads: 2, wrong: true }]
            : [
                { kind: "hand", threads: 1, wrong: true },
                { kind: "jit", threads: 1 },
              ],
      });
      expect(r.status).toBe("FAILED");
      const [w3, w4] = r.rows;
      expect(w3!.rows.map((row) => row.status)).toEqual(["FAILED"]);
      expect(w3!.rows[0]!.note).toMatch(/^wrong answer: output 0\[0\]/);
      expect(w3!.rows[0]!.summary).toBeUndefined();
      expect(w4!.rows.map((row) => `${row.impl.id} ${row.status}`)).toEqual(["hand FAILED", "chromium-jit-1t ok"]);
      expect(w4!.rows[0]!.note).toMatch(/^wrong answer: output 0\[/);
      expect(browserSection(r, fast)).toMatch(/\| hand-written JS in Chromium \| FAILED \|/);
    },
    60_000,
  );

  it("without the browser the section is n/a and says how to install it", async () => {
    const r = await measureInBrowser(tiny(), { timing: fast, chromium: "/nonexistent/chromium" });
    expect(r.status).toBe("n/a");
    expect(browserSection(r, fast)).toContain(
      "n/a: Debian's Chromium is not installed at /nonexistent/chromium; " +
        "install it with `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y chromium`",
    );
  });
});
