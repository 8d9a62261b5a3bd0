import { engine as forward } from "@chainrule/forward";
import { engine as reverse } from "@chainrule/reverse";
import { describe, expect, it } from "vitest";
import { graphDot, useCounts } from "./graph.js";
import {
  analyse,
  forwardSteps,
  gradientBy,
  isProblem,
  MAX_SOURCE,
  MAX_VARIABLES,
  parse,
  readNumber,
  reverseSteps,
  type Analysis,
  type Parsed,
  type Seed,
} from "./model.js";
import { PRESETS } from "./presets.js";

const D = "\u0307"; // tangent mark
const B = "\u0304"; // adjoint mark

function parsed(source: string): Parsed {
  const p = parse(source);
  if (isProblem(p)) throw new Error(p.message);
  return p;
}

function analysed(source: string, point: number[], seed: Seed = { kind: "variable", index: 0 }): Analysis {
  const a = analyse(parsed(source), point, seed);
  if (isProblem(a)) throw new Error(a.message);
  return a;
}

describe("the playground's model of the seed, (x + y)(x − y) at (3, 2)", () => {
  it("forward steps along ∂/∂x: tangents 1, 0, 1, 1, 6 with each chain-rule sum", () => {
    const steps = forwardSteps(analysed("(x + y) * (x - y)", [3, 2]));
    expect(steps.map((s) => [s.node, s.tangent])).toEqual([
      ["x", 1],
      ["y", 0],
      ["a", 1],
      ["b", 1],
      ["f", 6],
    ]);
    expect(steps[4]!.sum).toEqual({ symbolic: `∂f/∂a·a${D} + ∂f/∂b·b${D}`, numeric: "1·1 + 5·1" });
  });

  it("forward steps along ∂/∂y end at −4, and along the custom vector (1, 2) at 6 + 2·(−4) = −2", () => {
    expect(forwardSteps(analysed("(x + y) * (x - y)", [3, 2], { kind: "variable", index: 1 })).at(-1)!.tangent).toBe(-4);
    const custom = analysed("(x + y) * (x - y)", [3, 2], { kind: "custom", vector: [1, 2] });
    expect(forwardSteps(custom).map((s) => s.tangent)).toEqual([1, 2, 3, -1, -2]);
  });

  it("reverse steps from the output: adjoints 1, 5, 1, −4, 6, x's the sum over its two uses", () => {
    const steps = reverseSteps(analysed("(x + y) * (x - y)", [3, 2]));
    expect(steps.map((s) => [s.node, s.adjoint])).toEqual([
      ["f", 1],
      ["b", 5],
      ["a", 1],
      ["y", -4],
      ["x", 6],
    ]);
    const x = steps[4]!;
    expect(x.uses).toEqual([
      { from: "a", contribution: 1 },
      { from: "b", contribution: 5 },
    ]);
    expect(x.sum).toEqual({ symbolic: `a${B}·∂a/∂x + b${B}·∂b/∂x`, numeric: "1·1 + 5·1" });
  });

  it("the graph: named like the tables, ids and classes for highlighting, fan-out marked, contributions on edges", () => {
    const a = analysed("(x + y) * (x - y)", [3, 2]);
    expect(useCounts(a.forward)).toEqual(
      new Map([
        ["x", 2],
        ["y", 2],
        ["a", 1],
        ["b", 1],
      ]),
    );
    const reverseDot = graphDot(a, "reverse");
    expect(reverseDot).toContain(
      '"node-x" [id="node-x", label="x\\nvalue 3\\nadjoint 6\\nused 2×", shape=ellipse, class="cr-node fanout"]',
    );
    expect(reverseDot).toContain(
      '"node-f" [id="node-f", label="f = mul\\nvalue 5\\nadjoint 1", shape=box, class="cr-node output", penwidth=2]',
    );
    // the use of x by b contributes b̄·∂b/∂x = 5·1 to x̄
    expect(reverseDot).toContain(`"node-x" -> "node-b" [id="edge-x-b-0", class="cr-edge from-x to-b", label="x${B} += 5"]`);
    const forwardDot = graphDot(a, "forward");
    expect(forwardDot).toContain('label="f = mul\\nvalue 5\\ntangent 6"');
    expect(forwardDot).toContain('"node-y" -> "node-b" [id="edge-y-b-1", class="cr-edge from-y to-b", label="∂b/∂y = -1"]');
  });

  it("constants become nodes of their own: 2 * x", () => {
    const dot = graphDot(analysed("2 * x", [5]), "forward");
    expect(dot).toContain('"const-0" [label="2", shape=plaintext, style="", class="cr-const"]');
    expect(dot).toContain('"const-0" -> "node-f"');
  });
});

describe("the presets", () => {
  const value = (source: string, point: Record<string, number>) => {
    const p = parsed(source);
    const r = gradientBy(
      "reverse",
      reverse,
      p,
      p.variables.map((v) => point[v]!),
    );
    return { variables: p.variables, value: r.value!, gradient: r.gradient! };
  };

  it("a tanh neuron: f = tanh(w·x + b), ∂f/∂w = x·(1 − f²)", () => {
    const { point } = PRESETS.find((p) => p.id === "neuron")!;
    const r = value("tanh(w * x + b)", { ...point });
    const f = Math.tanh(0.5 * 2 - 0.3);
    expect(r.variables).toEqual(["w", "x", "b"]);
    expect(r.value).toBeCloseTo(f, 14);
    expect(r.gradient[0]).toBeCloseTo(2 * (1 - f * f), 14);
    expect(r.gradient[2]).toBeCloseTo(1 - f * f, 14);
  });

  it("softmax cross-entropy of two logits: ∂/∂z0 = p0 − 1, ∂/∂z1 = p1", () => {
    const r = value("log(exp(z0) + exp(z1)) - z0", { z0: 1, z1: -0.5 });
    const p0 = Math.exp(1) / (Math.exp(1) + Math.exp(-0.5));
    expect(r.value).toBeCloseTo(-Math.log(p0), 14);
    expect(r.gradient[0]).toBeCloseTo(p0 - 1, 14);
    expect(r.gradient[1]).toBeCloseTo(1 - p0, 14);
  });

  it("sin(x)·exp(y) at (0.5, 1): ∇ = (cos 0.5·e, sin 0.5·e), the same by forward mode", () => {
    const p = parsed("sin(x) * exp(y)");
    const r = gradientBy("forward", forward, p, [0.5, 1]);
    expect(r.gradient![0]).toBeCloseTo(Math.cos(0.5) * Math.E, 14);
    expect(r.gradient![1]).toBeCloseTo(Math.sin(0.5) * Math.E, 14);
  });
});

describe("bad input never throws: it comes back as a problem to show", () => {
  it("a syntax error has its column (for the caret)", () => {
    expect(parse("(x + y) * (x - y")).toMatchObject({ source: "(x + y) * (x - y", column: 17 });
    expect(parse("x + * y")).toMatchObject({ column: 5 });
  });

  it("empty, constant, too long, too many variables, unknown function", () => {
    expect(parse("  ")).toMatchObject({ message: expect.stringMatching(/^expected an expression/) });
    expect(parse("1 + 2")).toMatchObject({ message: expect.stringMatching(/at least one variable/) });
    expect(parse("x+".repeat(MAX_SOURCE))).toMatchObject({ message: `expected at most ${MAX_SOURCE} characters, got ${2 * MAX_SOURCE}` });
    const many = Array.from({ length: MAX_VARIABLES + 1 }, (_, i) => `v${i}`).join(" + ");
    expect(parse(many)).toMatchObject({ message: `expected at most ${MAX_VARIABLES} variables, got ${MAX_VARIABLES + 1}` });
    expect(isProblem(parse("foo(x)"))).toBe(true);
  });

  it("number fields: finite numbers only", () => {
    expect(readNumber("x", " 2.5 ")).toBe(2.5);
    expect(readNumber("x", "")).toEqual({ message: 'x: expected a finite number, got ""' });
    expect(readNumber("y", "1e999")).toEqual({ message: 'y: expected a finite number, got "1e999"' });
    expect(readNumber("y", "abc")).toMatchObject({ message: expect.stringMatching(/^y: expected a finite number/) });
  });

  it("NaN and infinities from the math itself are shown, not errors: log(x) at −1, sqrt(x) at 0", () => {
    const steps = reverseSteps(analysed("log(x)", [-1]));
    expect(steps[0]!.adjoint).toBe(1);
    const log = analysed("log(x)", [-1]);
    expect(log.forward.at(-1)!.value).toBeNaN();
    expect(forwardSteps(log).at(-1)!.tangent).toBe(-1); // d/dx log x = 1/x
    expect(forwardSteps(analysed("sqrt(x)", [0])).at(-1)!.tangent).toBe(Number.POSITIVE_INFINITY);
  });
});
