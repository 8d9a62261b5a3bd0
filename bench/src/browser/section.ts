/** The report's "headless Chromium" section: what was measured and how, the page's kernelInfo(), one table per variant. */
import { variantTable } from "../report.js";
import type { TimingOptions } from "../timing.js";
import type { BrowserResult } from "./session.js";

export const BROWSER_TITLE = "### @chainrule/jit in headless Chromium (Web Worker second thread, relaxed-SIMD FMA)";

function explanation(timing: TimingOptions): string {
  return (
    "The jit's WebAssembly kernels where a browser runs them: Debian's Chromium, headless, driven by playwright-core, on a page " +
    "served from 127.0.0.1 with `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` " +
    "(cross-origin isolated, so SharedArrayBuffer: the second thread is a Web Worker sharing the kernels' memory), and " +
    "relaxed-SIMD FMA on by default (Chromium ships it; Node 20 needs a flag). " +
    "The page is bundled by Vite from the TypeScript sources (`@chainrule/source`) of the bench's own row builders " +
    "(`src/browser/page.ts`): W3 the whole step in one `jit` with `{ donate: [0] }` exactly as the `jit-*` rows build it, W4 " +
    "`jit((a, b) => matmul(a, b), { threads })`, and the hand-written i-k-j matmul loop (`src/baselines.ts`) in the same page, " +
    "the baseline of × hand-written; the inputs come from the same seeded generator and every answer is checked in the page " +
    "against the float64 reference before it is timed (W3: the loss and the gradient the step applied), " +
    "a wrong answer is FAILED. " +
    "`await startThreads()` runs before the first two-thread row (the section fails if it returns false). Rows are measured " +
    "one at a time, not interleaved (between other rows' samples a sleeping worker pays a wake-up): a warm-up of ≥ " +
    `${timing.warmupMs} ms each (V8 tiers the kernels up in the background), then ${timing.rounds} samples of ≈ ` +
    `${timing.sampleMs} ms (fewer, ≥ ${timing.minRounds}, for slow rows); medians and min–max.`
  );
}

function infoLines(r: BrowserResult): string[] {
  const lines: string[] = [];
  if (r.browserVersion !== undefined) lines.push(`- Chromium ${r.browserVersion}`);
  const i = r.infoAfter ?? r.infoBefore;
  if (i !== undefined) {
    lines.push(
      `- page: crossOriginIsolated ${String(i.crossOriginIsolated)}; ` +
        `kernelInfo(): simd ${String(i.simd)}, relaxedFma ${String(i.relaxedFma)}, sharedMemory ${String(i.sharedMemory)}, ` +
        `threads ${String(i.threads)}${i.threadsUnavailable === undefined ? "" : ` (${i.threadsUnavailable})`}, ` +
        `threadsReady ${String(i.threadsReady)}` +
        `${i.kernelsUnavailable === undefined ? "" : `, kernelsUnavailable: ${i.kernelsUnavailable}`}; config ${JSON.stringify(i.config)}`,
    );
    const s = i.threadStats;
    lines.push(
      `- second thread over the run: startThreads() ${r.startThreads === undefined ? "not called" : String(r.startThreads)}; ` +
        `jobs posted ${s.posted}, withdrawn ${s.withdrawn}, blocks the worker ran ${s.workerBlocks}, restarts ${s.restarts}`,
    );
  }
  for (const e of r.pageErrors) lines.push(`- **${e}**`);
  return lines;
}

export function browserSection(r: BrowserResult, timing: TimingOptions): string {
  if (r.status === "n/a") return `${BROWSER_TITLE}\n\nn/a: ${r.reason ?? "not run"}`;
  const head = `${BROWSER_TITLE}\n\n${explanation(timing)}`;
  const failed = r.status === "FAILED" && r.reason !== undefined ? `\n\n**FAILED: ${r.reason}**` : "";
  const info = infoLines(r);
  // variantTable's own "### title" becomes a sub-heading of this section
  const tables = r.rows.map((v) => variantTable(v.rows).replace(/^### /, "#### Chromium: "));
  return [head + failed, ...(info.length > 0 ? [info.join("\n")] : []), ...tables].join("\n\n");
}
