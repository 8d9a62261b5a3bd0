/** `describeConformance` (vitest registration) and `runConformance` (programmatic) over one case list. */
import type { Engine } from "@chainrule/ir";
import { describe, it } from "vitest";
import { basicCases } from "./basic.js";
import { makeContext, skipReason, type Case, type CaseResult, type ConformanceOptions } from "./cases.js";
import { graphCases } from "./graphs.js";
import { groupCases } from "./groups.js";
import { opCases } from "./optable.js";
import { robustnessCases } from "./robustness.js";

/** Every case of the suite, in order. */
export function allCases(): Case[] {
  return [...basicCases, ...opCases(), ...groupCases(), ...robustnessCases(), ...graphCases()];
}

function selected(options: ConformanceOptions): Case[] {
  const groups = options.groups;
  return allCases().filter(
    (c) => (groups === undefined || groups.includes(c.group)) && (options.match === undefined || options.match.test(c.name)),
  );
}

/**
 * Registers the whole suite as vitest `describe`/`it` blocks against `engine`. Call it at the top
 * level of a test file. Declared-unsupported features show up as skipped tests with the reason.
 */
export function describeConformance(engine: Engine, options: ConformanceOptions = {}): void {
  const ctx = makeContext(engine, options);
  const cases = selected(options);
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

/** Runs the suite (or the chosen groups) without vitest and returns one result per case. */
export function runConformance(engine: Engine, options: ConformanceOptions = {}): CaseResult[] {
  const ctx = makeContext(engine, options);
  return selected(options).map((c): CaseResult => {
    const reason = skipReason(c, options);
    if (reason !== undefined) return { group: c.group, name: c.name, status: "skip", reason };
    try {
      c.run(ctx);
      return { group: c.group, name: c.name, status: "pass" };
    } catch (error) {
      return { group: c.group, name: c.name, status: "fail", error };
    }
  });
}
