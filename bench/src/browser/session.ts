/**
 * Measures the headless-Chromium rows: bundles page.ts, serves it cross-origin isolated, opens it
 * in Debian's Chromium (playwright-core) and runs each row alone, one call per row (checked, then
 * warmed up and timed inside the page). Before the first two-thread row it awaits the jit's
 * `startThreads()`; if that is false (or the page is not cross-origin isolated) the two-thread
 * rows are FAILED with the reason.
 */
import type { Browser, Page } from "playwright-core";
import { fromChildRow, type ChildRow } from "../children.js";
import type { Row } from "../run.js";
import type { TimingOptions } from "../timing.js";
import { specOf, type MatmulVariant, type MlpVariant } from "../workloads.js";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleModule, CHROMIUM, chromiumInstalled, INSTALL_CHROMIUM, launchChromium } from "@chainrule/browser-tests/chromium";
import type { BenchPageApi, BrowserRowSpec, PageInfo } from "./protocol.js";
import { browserRowId, browserRowLabel, browserRowSpecs } from "./rows.js";
import { servePage } from "./server.js";

export interface BrowserOptions {
  readonly timing: TimingOptions;
  /** The rows of a variant (default: rows.ts `browserRowSpecs`). */
  readonly rows?: (variant: MlpVariant | MatmulVariant) => readonly BrowserRowSpec[];
  /** Per row (check, warm-up and timing in the page). */
  readonly rowTimeoutMs?: number;
  readonly log?: (text: string) => void;
  /** The browser's executable (default: Debian's /usr/bin/chromium). */
  readonly chromium?: string;
}

export interface BrowserResult {
  /** n/a: Chromium is missing (reason says how to install it); FAILED: something went wrong (reason, and FAILED rows). */
  readonly status: "ok" | "n/a" | "FAILED";
  readonly reason?: string;
  readonly browserVersion?: string;
  /** Before the rows (after loading), and after the last. */
  readonly infoBefore?: PageInfo;
  readonly infoAfter?: PageInfo;
  readonly startThreads?: boolean;
  /** Rows by variant, in the order given. */
  readonly rows: readonly { readonly variant: MlpVariant | MatmulVariant; readonly rows: readonly Row[] }[];
  /** Console errors and uncaught page errors. */
  readonly pageErrors: readonly string[];
}

/** Calls `chainruleBench[name](...args)` in the page, failing after `timeoutMs`. */
function call<K extends keyof BenchPageApi>(
  page: Page,
  timeoutMs: number,
  name: K,
  ...args: Parameters<BenchPageApi[K]>
): Promise<Awaited<ReturnType<BenchPageApi[K]>>> {
  const run = page.evaluate(
    ([n, a]) =>
      (globalThis as unknown as { chainruleBench: Record<string, (...xs: unknown[]) => unknown> }).chainruleBench[n as string]!(
        ...(a as unknown[]),
      ),
    [name, args] as const,
  );
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${name} took longer than ${Math.round(timeoutMs / 1000)} s`)), timeoutMs);
  });
  return Promise.race([run, timeout]).finally(() => clearTimeout(timer)) as Promise<Awaited<ReturnType<BenchPageApi[K]>>>;
}

function errorText(error: unknown): string {
  return (error instanceof Error ? `${error.name}: ${error.message}` : String(error)).split("\n")[0]!.slice(0, 300);
}

/** A row the page did not measure, with the reason. */
function notMeasured(variant: MlpVariant | MatmulVariant, spec: BrowserRowSpec, fma: boolean, note: string): Row {
  const row: ChildRow = { id: browserRowId(spec), label: browserRowLabel(spec, fma), status: "FAILED", note };
  return fromChildRow(row, variant);
}

export async function measureInBrowser(variants: readonly (MlpVariant | MatmulVariant)[], options: BrowserOptions): Promise<BrowserResult> {
  const executable = options.chromium ?? CHROMIUM;
  if (!chromiumInstalled(executable))
    return {
      status: "n/a",
      reason: `Debian's Chromium is not installed at ${executable}; install it with \`${INSTALL_CHROMIUM}\` (as root)`,
      rows: [],
      pageErrors: [],
    };
  const log = options.log ?? (() => {});
  const rowTimeoutMs = options.rowTimeoutMs ?? 180_000;
  const cleanups: (() => Promise<unknown>)[] = [];
  const pageErrors: string[] = [];
  try {
    log("headless Chromium: bundling the page (Vite)");
    const script = await bundleModule(join(dirname(fileURLToPath(import.meta.url)), "page.ts"));
    const server = await servePage(script);
    cleanups.push(server.close);
    const browser: Browser = await launchChromium([], executable);
    cleanups.push(() => browser.close());
    const page = await (await browser.newContext()).newPage();
    page.on("console", (m) => {
      if (m.type() === "error") pageErrors.push(`console.error: ${m.text()}`);
    });
    page.on("pageerror", (e) => pageErrors.push(`page error: ${e.name}: ${e.message}`));
    await page.goto(server.url);
    await page.waitForFunction(() => (globalThis as { chainruleBench?: unknown }).chainruleBench !== undefined, undefined, {
      timeout: 30_000,
    });
    const infoBefore = await call(page, 10_000, "info");
    const fma = infoBefore.relaxedFma && infoBefore.config["fma"] === true;
    let threadsProblem: string | undefined = infoBefore.crossOriginIsolated
      ? undefined
      : "the page is not cross-origin isolated (no SharedArrayBuffer)";
    let started: boolean | undefined;
    const out: { variant: MlpVariant | MatmulVariant; rows: Row[] }[] = [];
    for (const variant of variants) {
      const rows: Row[] = [];
      for (const spec of options.rows?.(variant) ?? browserRowSpecs(specOf(variant))) {
        if (spec.threads === 2 && started === undefined && threadsProblem === undefined) {
          started = await call(page, 40_000, "startThreads", 30_000);
          if (!started) {
            const info = await call(page, 10_000, "info");
            threadsProblem = `startThreads() returned false${info.threadsUnavailable === undefined ? "" : ` (${info.threadsUnavailable})`}`;
          }
        }
        if (spec.threads === 2 && threadsProblem !== undefined) {
          rows.push(notMeasured(variant, spec, fma, threadsProblem));
          continue;
        }
        log(`headless Chromium: ${variant.key}, ${browserRowLabel(spec, fma)}`);
        try {
          rows.push(fromChildRow(await call(page, rowTimeoutMs, "row", specOf(variant), spec, options.timing), variant));
        } catch (error) {
          rows.push(notMeasured(variant, spec, fma, `threw ${errorText(error)}`));
        }
      }
      out.push({ variant, rows });
    }
    const infoAfter = await call(page, 10_000, "info");
    const failed = threadsProblem !== undefined || pageErrors.length > 0 || out.some((v) => v.rows.some((r) => r.status === "FAILED"));
    return {
      status: failed ? "FAILED" : "ok",
      ...(threadsProblem === undefined ? {} : { reason: threadsProblem }),
      browserVersion: browser.version(),
      infoBefore,
      infoAfter,
      ...(started === undefined ? {} : { startThreads: started }),
      rows: out,
      pageErrors,
    };
  } catch (error) {
    return { status: "FAILED", reason: errorText(error), rows: [], pageErrors };
  } finally {
    for (const c of cleanups.reverse()) await c().catch(() => {});
  }
}
