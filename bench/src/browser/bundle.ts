/**
 * Bundles the benchmark page (page.ts) with Vite's build API, from the TypeScript sources of the
 * bench and of @chainrule/* (the `@chainrule/source` export condition): what runs in Chromium is
 * the checked-out code, as in the rest of the bench. (Adapted from tests/browser/src/harness.ts.)
 */
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build, defaultClientConditions } from "vite";

/** The page's script (one ES module), built into a temporary folder that is removed afterwards. */
export async function bundlePage(): Promise<string> {
  const here = dirname(fileURLToPath(import.meta.url));
  const dir = await mkdtemp(join(tmpdir(), "chainrule-bench-browser-"));
  try {
    await build({
      configFile: false,
      root: here,
      logLevel: "warn",
      publicDir: false,
      resolve: { conditions: ["@chainrule/source", ...defaultClientConditions] },
      build: {
        outDir: dir,
        emptyOutDir: true,
        minify: false,
        sourcemap: false,
        target: "es2022",
        reportCompressedSize: false,
        lib: { entry: join(here, "page.ts"), formats: ["es"], fileName: () => "page.js" },
      },
    });
    return await readFile(join(dir, "page.js"), "utf8");
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
