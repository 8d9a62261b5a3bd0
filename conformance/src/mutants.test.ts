/**
 * Proof that the suite can fail: each mutant engine is correct except for one deliberate fault,
 * and the suite's checks — run programmatically — must catch every one. The correct reference
 * engines must pass the same checks (so a catch is not noise).
 */
import { add, astype, exp, matmul, mul, scalar, tanh, tensor, type Engine } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { checkGrads, compareEngines, formatDisagreement, GradCheckError, runConformance, type ConformanceOptions } from "./index.js";
import { forwardEngine, hybridEngine, reverseEngine, type Fault } from "./__tests__/reference.js";

function failures(engine: Engine, options: ConformanceOptions = {}) {
  return runConformance(engine, { graphs: 15, ...options }).filter((r) => r.status === "fail");
}

interface Mutant {
  readonly fault: Fault;
  readonly make: (fault: Fault) => Engine;
  /** The part of the suite that must catch it (the whole suite runs on correct engines in reference.test.ts). */
  readonly where: ConformanceOptions;
  /** A failing case name must match this. */
  readonly caughtBy: RegExp;
}

const MUTANTS: Mutant[] = [
  { fault: "tanhDerivative", make: forwardEngine, where: { groups: ["per-op"], match: /^tanh/ }, caughtBy: /^tanh .*jvp vs FD/ },
  { fault: "expNotDifferentiable", make: forwardEngine, where: { groups: ["per-op"], match: /^exp / }, caughtBy: /^exp .*to order [23]/ },
  { fault: "expNotDifferentiable", make: forwardEngine, where: { groups: ["nesting"] }, caughtBy: /grad\(grad\(grad\(exp\)\)\)/ },
  { fault: "perturbationConfusion", make: forwardEngine, where: { groups: ["nesting"] }, caughtBy: /perturbation confusion/ },
  {
    fault: "ignoreCustomJvp",
    make: forwardEngine,
    where: { groups: ["stopGradient, customJvp, customVjp"], skip: { customVjp: "ref-forward is forward mode only" } },
    caughtBy: /customJvp/,
  },
  {
    fault: "dropBroadcastReduction",
    make: reverseEngine,
    where: { groups: ["per-op"], match: /^add / },
    caughtBy: /^add .*f64\[2,3\], f64\[3\]/,
  },
  { fault: "maximumTieFull", make: reverseEngine, where: { groups: ["conventions"] }, caughtBy: /maximum\/minimum tie/ },
  { fault: "reduceMaxTieFull", make: reverseEngine, where: { groups: ["conventions"] }, caughtBy: /reduce-max\/min with k ties/ },
  { fault: "absZeroOne", make: reverseEngine, where: { groups: ["conventions"] }, caughtBy: /abs'\(0\) = 0/ },
  { fault: "stopGradientLeaks", make: reverseEngine, where: { groups: ["stopGradient, customJvp, customVjp"] }, caughtBy: /stopGradient/ },
  { fault: "matmulTranspose", make: reverseEngine, where: { groups: ["per-op"], match: /^matmul/ }, caughtBy: /^matmul/ },
];

// Alone each test below takes seconds; under `npm test`, beside every other package's tests on two
// cores, the random-graph runs (shrinking included) have taken over a minute, hence the long timeouts.
describe("every mutant engine is caught", () => {
  for (const m of MUTANTS) {
    it(`${m.make(m.fault).name} fails ${m.where.groups!.join(", ")}${m.where.match ? ` ${m.where.match}` : ""}`, () => {
      const bad = failures(m.make(m.fault), m.where);
      const names = bad.map((b) => b.name);
      expect(
        names.some((n) => m.caughtBy.test(n)),
        `caught by: ${names.join(" | ")}`,
      ).toBe(true);
    });
  }

  it("the correct engines pass those same selections (a catch is not noise)", () => {
    for (const m of MUTANTS) expect(failures(m.make("none"), m.where).map((b) => `${b.name}: ${String(b.error)}`)).toEqual([]);
  }, 300_000);

  it("the dropped broadcast reduction is caught by the random graphs alone, and the report shows seed and shrunk graph", () => {
    const bad = failures(reverseEngine("dropBroadcastReduction"), { groups: ["random graphs"] });
    expect(bad.length).toBeGreaterThanOrEqual(1);
    const message = String((bad[0]!.error as Error).message);
    expect(message).toMatch(/seed: \d+/);
    expect(message).toMatch(/Counterexample/);
    expect(message).toMatch(/on the graph \(\d+ nodes\):\ngraph\(/);
  }, 300_000);

  it("the wrong tanh derivative is caught by the random graphs alone", () => {
    expect(failures(forwardEngine("tanhDerivative"), { groups: ["random graphs"] })).toHaveLength(2);
  }, 300_000);
});

describe("checkGrads", () => {
  it("passes on a correct engine, to order 3, for pytrees", () => {
    const f = (p: { a: ReturnType<typeof tensor>; b: number[] }) => tanh(p.a);
    expect(() => checkGrads(reverseEngine(), f, [{ a: tensor([0.1, -0.4]), b: [] }], { order: 3 })).not.toThrow();
  });

  it("float32 arguments get float32-sized default tolerances (and still catch a wrong derivative)", () => {
    const x = [astype(tensor([0.3, -0.7, 1.1]), "float32")];
    expect(() => checkGrads(reverseEngine(), tanh, x)).not.toThrow();
    expect(() => checkGrads(forwardEngine("tanhDerivative"), tanh, x)).toThrow(GradCheckError);
  });

  it("reports mode, order, argument and size of the error", () => {
    let error: unknown;
    try {
      checkGrads(forwardEngine("tanhDerivative"), (x: never, y: never) => add(mul(y, 2), tanh(x)), [scalar(0.5), scalar(0.1)], {
        modes: ["forward"],
      });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradCheckError);
    const g = error as GradCheckError;
    expect(g.code).toBe("GRAD_CHECK");
    expect(g.kind).toBe("forward");
    expect(g.order).toBe(1);
    expect(g.argument).toBe("args[0]");
    expect(g.error).toBeGreaterThan(g.tolerance);
    expect(g.message).toMatch(/^checkGrads: forward mode \(jvp vs finite differences\) failed at first order, argument args\[0\]: tangent/);
  });

  it("catches a second-order-only fault at order 2, not at order 1", () => {
    const engine = forwardEngine("expNotDifferentiable");
    const x = [tensor([0.3, -0.2])];
    expect(() => checkGrads(engine, exp, x, { order: 1 })).not.toThrow();
    let error: unknown;
    try {
      checkGrads(engine, exp, x, { order: 2 });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradCheckError);
    expect((error as GradCheckError).order).toBe(2);
  });

  it("the reverse-mode dot-product test catches a vjp fault when jvp and vjp are independent", () => {
    const f = (a: never, b: never) => matmul(a, b);
    const args = [
      tensor([
        [1, 2, 0.5],
        [3, 4, -1],
      ]),
      tensor([
        [0.5, -1],
        [2, 0.25],
        [1, 1],
      ]),
    ];
    expect(() => checkGrads(hybridEngine(), f, args)).not.toThrow();
    expect(() => checkGrads(hybridEngine("matmulTranspose"), f, args, { modes: ["forward"] })).not.toThrow();
    const square = [
      tensor([
        [1, 2],
        [3, 4],
      ]),
      tensor([
        [0.5, -1],
        [2, 0.25],
      ]),
    ];
    let error: unknown;
    try {
      checkGrads(hybridEngine("matmulTranspose"), f, square, { modes: ["reverse"] });
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(GradCheckError);
    expect((error as GradCheckError).kind).toBe("reverse");
    expect((error as GradCheckError).message).toMatch(
      /reverse mode \(vjp dot-product test against jvp\) failed at first order, argument args\[1\]/,
    );
  });
});

describe("compareEngines", () => {
  it("finds no disagreement between the two correct engines and the eager reference", () => {
    const report = compareEngines([forwardEngine(), reverseEngine()], { graphs: 4 });
    expect(report.cases).toBeGreaterThan(100);
    expect(report.disagreements.map(formatDisagreement)).toEqual([]);
  });

  it("reports the first op where a mutant disagrees, and the first graph node", () => {
    const report = compareEngines([forwardEngine(), forwardEngine("tanhDerivative")], { graphs: 6 });
    expect(report.first?.case).toMatch(/^tanh/);
    expect(report.first?.quantity).toBe("jvp tangent");
    const graph = report.disagreements.find((d) => d.node !== undefined);
    expect(graph?.node).toMatch(/= tanh\(/);
  });
});
