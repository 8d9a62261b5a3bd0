/**
 * The pieces of the browser tests: bundling `page.ts` (from the packages' TypeScript sources, no
 * dist build), serving it on 127.0.0.1 under several header sets, and Debian's Chromium driven by
 * playwright-core (never a downloaded browser).
 */
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { Browser, Page } from "playwright-core";
import { bundleModule } from "./chromium.js";
import type { PageApi } from "./page.js";

export { browserSkipReason, chromiumInstalled, launchChromium, requireChromium } from "./chromium.js";

/** Bundles page.ts (the test page). */
export function bundlePage(): Promise<string> {
  return bundleModule(join(dirname(fileURLToPath(import.meta.url)), "page.ts"));
}

const ISOLATED = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" };

/** Header sets a page is served with: `/<variant>/` is the page, `/<variant>/page.js` the bundle. */
export const VARIANTS = {
  /** Cross-origin isolated (SharedArrayBuffer): two threads possible. */
  isolated: ISOLATED,
  /** No isolation headers: no SharedArrayBuffer, one thread. */
  plain: {},
  /** Isolated, and a CSP that allows neither 'unsafe-eval' nor 'wasm-unsafe-eval'. */
  cspStrict: { ...ISOLATED, "Content-Security-Policy": "script-src 'self'" },
  /** Isolated, and a CSP that allows what the JIT needs: eval, WebAssembly, workers from blob: URLs. */
  cspAllowing: { ...ISOLATED, "Content-Security-Policy": "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'; worker-src blob:" },
  /** Isolated, and a CSP that allows eval and WebAssembly but not workers from blob: URLs. */
  cspNoBlobWorker: { ...ISOLATED, "Content-Security-Policy": "script-src 'self' 'unsafe-eval' 'wasm-unsafe-eval'" },
  /** Isolated, but the `Worker` constructor throws (as where a browser or extension forbids workers). */
  workerThrows: ISOLATED,
} as const;
export type Variant = keyof typeof VARIANTS;

const html = (variant: Variant) =>
  `<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>chainrule browser test</title>${
    variant === "workerThrows"
      ? `<script>Worker = class { constructor() { throw new DOMException("workers are forbidden here", "SecurityError"); } };</script>`
      : ""
  }<script type="module" src="page.js"></script></head><body></body></html>`;

/** Serves the bundle on 127.0.0.1 (a random port); returns its base URL. */
export async function serve(script: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server: Server = createServer((req, res) => {
    const match = /^\/(\w+)\/(page\.js)?(\?.*)?$/.exec(req.url ?? "");
    const variant = match?.[1] as Variant | undefined;
    if (match === null || variant === undefined || !(variant in VARIANTS)) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const headers = { ...VARIANTS[variant], "Cache-Control": "no-store" };
    if (match[2] !== undefined) res.writeHead(200, { ...headers, "Content-Type": "text/javascript; charset=utf-8" }).end(script);
    else res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" }).end(html(variant));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

export interface OpenPage {
  readonly page: Page;
  /** Console errors and uncaught page errors so far (the test fails on any it did not expect). */
  readonly errors: string[];
  /**
   * Calls `chainrule[name](...args)` in the page, from a task of its own: code run directly by
   * DevTools' evaluate is exempt from the page's CSP on eval, code run by a page timer is not.
   */
  call<K extends keyof PageApi>(name: K, ...args: Parameters<PageApi[K]>): Promise<Awaited<ReturnType<PageApi[K]>>>;
  close(): Promise<void>;
}

/** Opens `/<variant>/` in a fresh context and waits for the bundle to have loaded. */
export async function openPage(browser: Browser, base: string, variant: Variant): Promise<OpenPage> {
  const context = await browser.newContext();
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console.error: ${m.text()}`);
  });
  page.on("pageerror", (e) => errors.push(`page error: ${e.name}: ${e.message}`));
  await page.goto(`${base}/${variant}/`);
  await page.waitForFunction(() => (globalThis as { chainrule?: unknown }).chainrule !== undefined, undefined, { timeout: 20_000 });
  return {
    page,
    errors,
    call: (name, ...args) =>
      page.evaluate(
        ([n, a]) =>
          new Promise((resolve, reject) => {
            const api = (globalThis as unknown as { chainrule: Record<string, (...xs: unknown[]) => unknown> }).chainrule;
            setTimeout(() => {
              try {
                Promise.resolve(api[n as string]!(...(a as unknown[]))).then(resolve, reject);
              } catch (e) {
                reject(e);
              }
            }, 0);
          }),
        [name, args] as const,
      ) as never,
    close: () => context.close(),
  };
}
