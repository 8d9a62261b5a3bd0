// Root Vitest config: runs every package's tests in one process (`pnpm exec vitest run` at the
// root). Each project uses its own vitest.config.ts, which re-exports vitest.shared.ts.
// CI and `npm test` run tests per package through turbo instead.
import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    projects: ["packages/*/vitest.config.ts", "{conformance,bench,examples}/vitest.config.ts"],
  },
});
