/**
 * Serves the benchmark page on 127.0.0.1 (a random port), cross-origin isolated: with
 * `Cross-Origin-Opener-Policy: same-origin` and `Cross-Origin-Embedder-Policy: require-corp` a page
 * has SharedArrayBuffer, so the jit's second thread can be a Web Worker sharing its memory.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";

export const ISOLATION_HEADERS = { "Cross-Origin-Opener-Policy": "same-origin", "Cross-Origin-Embedder-Policy": "require-corp" } as const;

const HTML =
  '<!doctype html><html><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>chainrule bench</title>' +
  '<script type="module" src="page.js"></script></head><body></body></html>';

/** `/` is the page, `/page.js` the bundle; anything else 404. */
export async function servePage(script: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const path = (req.url ?? "").replace(/\?.*$/, "");
    const headers = { ...ISOLATION_HEADERS, "Cache-Control": "no-store" };
    if (path === "/") res.writeHead(200, { ...headers, "Content-Type": "text/html; charset=utf-8" }).end(HTML);
    else if (path === "/page.js") res.writeHead(200, { ...headers, "Content-Type": "text/javascript; charset=utf-8" }).end(script);
    else res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
