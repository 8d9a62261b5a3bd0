/**
 * The three engines against each other and against eager evaluation, on every per-op case of the
 * conformance table and on random graphs: the first op (or graph node) where any two disagree
 * beyond tolerance fails the case.
 */
import { compareEngines } from "@chainrule/conformance";
import { describeComparison } from "@chainrule/conformance/vitest";
import { engine as forward } from "@chainrule/forward";
import { engine as jit } from "@chainrule/jit";
import { engine as reverse } from "@chainrule/reverse";
import { mapTree, mul } from "@chainrule/ir";
import { describe, expect, it } from "vitest";

const engines = [forward, reverse, jit];

describeComparison(engines, { graphs: Number(process.env["CHAINRULE_GRAPHS"] ?? 20) });

describe("the comparison can fail", () => {
  it("names the op where an engine that doubles every gradient departs from the others", () => {
    const doubled = {
      ...reverse,
      name: "doubled",
      vjp: ((f: never, ...primals: never[]) => {
        const [value, pullback] = (reverse.vjp as (...a: unknown[]) => [unknown, (ct: unknown) => unknown[]])(f, ...primals);
        return [
          value,
          (ct: unknown) => pullback(ct).map((g) => mapTree(g, (leaf) => (typeof leaf === "number" ? 2 * leaf : mul(leaf, 2)))),
        ];
      }) as typeof reverse.vjp,
    };
    const report = compareEngines([forward, doubled], { graphs: 0 });
    expect(report.disagreements.length).toBeGreaterThan(0);
    expect(report.first?.between).toEqual(["forward", "doubled"]);
    expect(report.first?.quantity).toBe("vjp cotangent");
  });
});
