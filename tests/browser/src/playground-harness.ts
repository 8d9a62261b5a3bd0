/**
 * The playground's browser tests' pieces: its production build (the same `vite build` as
 * `npm run playground:build`, into a temporary folder) served as static files on 127.0.0.1 under
 * several Content-Security-Policies.
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { dirname, extname, join, normalize, sep } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "vite";

export const PLAYGROUND = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..", "playground");

/** Builds the playground with its own vite.config.ts into a temporary folder; returns it and how to remove it. */
export async function buildPlayground(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), "chainrule-playground-"));
  await build({ configFile: join(PLAYGROUND, "vite.config.ts"), logLevel: "warn", build: { outDir: dir, emptyOutDir: true } });
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** Header sets the page is served with: `/<variant>/index.html`. */
export const PLAYGROUND_VARIANTS = {
  /** No CSP: every engine, the JIT's generated code. */
  open: {},
  /** A CSP without 'unsafe-eval' (WebAssembly allowed): the JIT cannot build code; forward, reverse and the graph work. */
  noEval: { "Content-Security-Policy": "script-src 'self' 'wasm-unsafe-eval'" },
  /** Neither eval nor WebAssembly: no JIT, no Graphviz; the tables still work. */
  strict: { "Content-Security-Policy": "script-src 'self'" },
} as const;
export type PlaygroundVariant = keyof typeof PLAYGROUND_VARIANTS;

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".wasm": "application/wasm",
};

/** Serves `dir` on 127.0.0.1 (a random port) under each variant's headers; returns its base URL. */
export async function servePlayground(dir: string): Promise<{ url: string; close: () => Promise<void> }> {
  const server = createServer((req, res) => {
    const match = /^\/(\w+)\/([^?]*)(\?.*)?$/.exec(req.url ?? "");
    const variant = match?.[1] as PlaygroundVariant | undefined;
    if (match === null || variant === undefined || !(variant in PLAYGROUND_VARIANTS)) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found");
      return;
    }
    const file = normalize(join(dir, decodeURIComponent(match[2] || "index.html")));
    if (!file.startsWith(dir + sep)) {
      res.writeHead(403, { "Content-Type": "text/plain" }).end("forbidden");
      return;
    }
    readFile(file).then(
      (body) =>
        res
          .writeHead(200, {
            ...PLAYGROUND_VARIANTS[variant],
            "Cache-Control": "no-store",
            "Content-Type": TYPES[extname(file)] ?? "application/octet-stream",
          })
          .end(body),
      () => res.writeHead(404, { "Content-Type": "text/plain" }).end("not found"),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}`, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}
