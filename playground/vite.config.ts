/**
 * The playground as a static site: `vite` serves it, `vite build` writes dist/ (relative URLs, so
 * any static host or folder works; no inline scripts, so a strict CSP can serve it). The
 * workspace packages are bundled from their TypeScript sources (the `@chainrule/source` condition).
 */
import { defaultClientConditions, defineConfig } from "vite";

export default defineConfig({
  root: import.meta.dirname,
  base: "./",
  publicDir: false,
  resolve: { conditions: ["@chainrule/source", ...defaultClientConditions] },
  build: {
    outDir: "dist",
    emptyOutDir: true,
    target: "es2022",
    // one module: nothing is fetched after the page has loaded (it works offline from then on)
    modulePreload: false,
    assetsInlineLimit: 0,
    reportCompressedSize: false,
    chunkSizeWarningLimit: 4000,
  },
});
