/** The case list and `runConformance` (programmatic, no test runner); `describeConformance` in vitest.ts registers the same cases. */
import type { Engine } from "@chainrule/ir";
import { basicCases } from "./basic.js";
import { makeContext, skipReason, type Case, type CaseResult, type ConformanceOptions } from "./cases.js";
import { graphCases } from "./graphs.js";
import { groupCases } from "./groups.js";
import { opCases } from "./optable.js";
import { robustnessCases } from "./robustness.js";
// vmap (issue 19)
import { vmapCases } from "./vmap.js";
// issue 19 (xforms)
import { xformCases } from "./xforms.js";

/** Every case of the suite, in order. */
export function allCases(): Case[] {
  return [...basicCases, ...opCases(), ...groupCases(), ...robustnessCases(), ...xformCases(), ...graphCases(), ...vmapCases()];
}

/** The cases `options.groups` and `options.match` select, in order. */
export function selectedCases(options: ConformanceOptions): Case[] {
  const groups = options.groups;
  return allCases().filter(
    (c) => (groups === undefined || groups.includes(c.group)) && (options.match === undefined || options.match.test(c.name)),
  );
}

/** Runs the suite (or the chosen groups) without vitest and returns one result per case. */
export function runConformance(engine: Engine, options: ConformanceOptions = {}): CaseResult[] {
  const ctx = makeContext(engine, options);
  return selectedCases(options).map((c): CaseResult => {
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
