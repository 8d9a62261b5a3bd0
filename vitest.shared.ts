// Shared Vitest configuration: every package's vitest.config.ts re-exports this file
// (`import shared from "../../vitest.shared.ts"; export default shared;`), because Vitest
// projects found by glob do not inherit the root config.
//
// Tests run against TypeScript sources, not dist: each @chainrule/* package.json maps the
// custom export condition "@chainrule/source" to ./src/index.ts. Vite's resolve.conditions
// REPLACES its defaults, and Node-side (SSR) tests read ssr.resolve.conditions, so both lists
// are the custom condition followed by Vite's own defaults.
import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

/** The export condition that points @chainrule/* imports at their TypeScript sources. */
export const sourceCondition = "@chainrule/source";

export default defineConfig({
  resolve: {
    conditions: [sourceCondition, ...defaultClientConditions],
  },
  ssr: {
    resolve: {
      conditions: [sourceCondition, ...defaultServerConditions],
      externalConditions: [sourceCondition],
    },
  },
  test: {
    environment: "node",
    include: ["src/**/*.test.ts", "test/**/*.test.ts"],
    // Property tests and training checks take seconds; on a loaded 2-core machine (turbo runs
    // packages in parallel) the 5 s default times out tests that are merely slow.
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
