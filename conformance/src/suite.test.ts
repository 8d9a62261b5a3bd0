import type { Engine } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { allCases, runConformance } from "./index.js";
import { forwardEngine, reverseEngine } from "./__tests__/reference.js";

/** An engine that caches grad results per function and argument shapes: a stale trace, taken to the extreme. */
function staleEngine(inner: Engine): Engine {
  const cache = new WeakMap<object, Map<string, unknown>>();
  return {
    ...inner,
    name: "stale-cache",
    grad: ((f: (...a: unknown[]) => unknown, argnums?: number) => {
      const g = inner.grad(f as never, argnums as never) as unknown as (...a: unknown[]) => unknown;
      return (...args: unknown[]) => {
        const key = JSON.stringify(args.map((a) => (typeof a === "number" ? "number" : (a as { shape?: number[] }).shape)));
        let byShape = cache.get(f);
        if (!byShape) {
          byShape = new Map();
          cache.set(f, byShape);
        }
        if (!byShape.has(key)) byShape.set(key, g(...args));
        return byShape.get(key);
      };
    }) as Engine["grad"],
  };
}

describe("describeConformance / runConformance options", () => {
  it("declared skips are reported as skipped with their reason, never run", () => {
    const results = runConformance(forwardEngine(), {
      groups: ["stopGradient, customJvp, customVjp"],
      skip: { customVjp: "not implemented yet" },
    });
    const skipped = results.filter((r) => r.status === "skip");
    expect(skipped.length).toBeGreaterThan(0);
    for (const r of skipped) {
      expect(r.name).toMatch(/customVjp/);
      expect(r.reason).toBe("customVjp declared unsupported: not implemented yet");
    }
    expect(results.filter((r) => r.status === "pass").length).toBeGreaterThan(0);
  });

  it("every case belongs to a named group and has a unique name within it", () => {
    const cases = allCases();
    expect(cases.length).toBeGreaterThan(500);
    const keys = cases.map((c) => `${c.group} / ${c.name}`);
    expect(new Set(keys).size).toBe(keys.length);
  });

  it("groups and match select cases", () => {
    const results = runConformance(reverseEngine(), { groups: ["per-op"], match: /^sin / });
    expect(results.length).toBe(4);
    expect(results.every((r) => r.status === "pass")).toBe(true);
  });
});

describe("control flow declarations", () => {
  const controlFlow = { groups: ["control flow"] };

  it('a tracing engine that throws ConcretizationError passes when it declares "throws"', () => {
    const results = runConformance(forwardEngine("tracing"), { ...controlFlow, controlFlow: "throws" });
    expect(results.filter((r) => r.status === "fail")).toEqual([]);
  });

  it("the same engine fails when it claims define-by-run or retrace (the error is not accepted)", () => {
    for (const mode of ["define-by-run", "retrace"] as const) {
      const failed = runConformance(forwardEngine("tracing"), { ...controlFlow, controlFlow: mode }).filter((r) => r.status === "fail");
      expect(failed.map((r) => r.name)).toEqual([expect.stringMatching(/data-dependent if/), expect.stringMatching(/data-dependent loop/)]);
    }
  });

  it("a stale engine (answers from an earlier trace) fails under every declaration", () => {
    for (const mode of ["define-by-run", "retrace", "throws"] as const) {
      const failed = runConformance(staleEngine(reverseEngine()), { ...controlFlow, controlFlow: mode }).filter((r) => r.status === "fail");
      expect(failed.length).toBeGreaterThanOrEqual(2);
    }
  });
});
