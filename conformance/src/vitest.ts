/**
 * @chainrule/conformance/vitest — the suite and the cross-engine comparison registered as Vitest
 * tests. The only module of this package that imports `vitest` (an optional peer dependency):
 * the main entry runs the same cases with no test runner installed.
 */
import type { Engine } from "@chainrule/ir";
import { describe, it } from "vitest";
import type { ConformanceOptions } from "./cases.js";
import { makeContext, skipReason } from "./cases.js";
import { type CompareOptions, compareCase, comparisonPlan, formatDisagreement } from "./compare.js";
import { ConformanceError } from "./expect.js";
import { selectedCases } from "./suite.js";

/**
 * Registers the whole suite as vitest `describe`/`it` blocks against `engine`. Call it at the top
 * level of a test file. Declared-unsupported features show up as skipped tests with the reason.
 */
export function describeConformance(engine: Engine, options: ConformanceOptions = {}): void {
  const ctx = makeContext(engine, options);
  const cases = selectedCases(options);
  const groups = [...new Set(cases.map((c) => c.group))];
  describe(`conformance: ${engine.name}`, () => {
    for (const group of groups) {
      describe(group, () => {
        for (const c of cases.filter((k) => k.group === group)) {
          const reason = skipReason(c, options);
          if (reason !== undefined) it.skip(`${c.name} [skipped: ${reason}]`, () => {});
          else it(c.name, () => c.run(ctx), typeof c.timeout === "function" ? c.timeout(ctx) : (c.timeout ?? 60_000));
        }
      });
    }
  });
}

/**
 * Registers the comparison as vitest tests, one per case, so a failure names the op (or graph
 * node) and the two engines that disagree. For a package that depends on several engines.
 */
export function describeComparison(engines: readonly Engine[], options: CompareOptions = {}): void {
  const { seed, rtol, atol, cases } = comparisonPlan(options);
  describe(`cross-engine: ${engines.map((e) => e.name).join(" vs ")} vs eager`, () => {
    for (const c of cases) {
      it(c.name, () => {
        const d = compareCase(engines, c, seed, rtol, atol);
        if (d) throw new ConformanceError(formatDisagreement(d));
      });
    }
  });
}
