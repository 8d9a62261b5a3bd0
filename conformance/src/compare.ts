/**
 * Cross-engine comparison: the same cases (per-op rows and random graphs) on several engines
 * and on the eager reference; reports, per case, the first pair that disagrees beyond tolerance —
 * and for a graph the first node where they part.
 */
import { Random, type Tensor, type Engine, type Graph, type GraphNode } from "@chainrule/ir";
import { evalGraph, toFunction } from "@chainrule/ir";
import fc from "fast-check";
import { loose } from "./checkgrads.js";
import { buildGraph, programArbitrary, programInputs } from "./graphs.js";
import { opRows } from "./optable.js";
import { compare, flat, rebuild, treeValues, values, withValues } from "./tree.js";

// biome-ignore lint/suspicious/noExplicitAny: the widest function type, as TypeScript's Parameters<F> constraint needs
type Fn = (...args: any[]) => any;

export interface ComparisonCase {
  readonly name: string;
  /** A function of `args`, or a graph (then `fn` is its `toFunction`). */
  readonly fn?: Fn;
  readonly graph?: Graph;
  readonly args: readonly unknown[];
}

export interface Disagreement {
  readonly case: string;
  /** For graphs: the first node whose value or derivative differs, e.g. "v12 = log(v11)". */
  readonly node?: string;
  /** The two sides: engine names, or "eager" for the reference evaluation. */
  readonly between: readonly [string, string];
  /** "primal", "jvp tangent" or "vjp cotangent". */
  readonly quantity: string;
  readonly index: number;
  readonly values: readonly [number, number];
  readonly error: number;
}

export interface ComparisonReport {
  /** How many cases ran. */
  readonly cases: number;
  /** The first disagreement of each case that has one, in case order. */
  readonly disagreements: readonly Disagreement[];
  /** The first disagreement overall, if any. */
  readonly first?: Disagreement;
}

export interface CompareOptions {
  /** The cases (default: every per-op row and shape, plus `graphs` random graphs). */
  readonly cases?: readonly ComparisonCase[];
  /** Random graphs added to the default cases (default 10). */
  readonly graphs?: number;
  readonly seed?: number;
  readonly rtol?: number;
  readonly atol?: number;
}

/** The default cases: each per-op row at each of its shapes, then random graphs. */
export function defaultComparisonCases(seed = 1, graphs = 10): ComparisonCase[] {
  const cases: ComparisonCase[] = [];
  for (const row of opRows()) {
    for (const shapes of row.shapes) {
      const rng = new Random(seed);
      cases.push({
        name: `${row.name} ${shapes.map((s) => `[${s.join(",")}]`).join(" ")}`,
        fn: row.fn,
        args: shapes.map((s, i) => row.domain[i]!(s, rng)),
      });
    }
  }
  fc.sample(programArbitrary(), { numRuns: graphs, seed }).forEach((program, k) => {
    cases.push({ name: `random graph #${k} (seed ${seed})`, graph: buildGraph(program), args: programInputs(program) });
  });
  return cases;
}

interface Measured {
  readonly primal: Float64Array;
  readonly tangent: Float64Array;
  readonly cotangent: Float64Array;
}

/** A tree like `tree` holding standard normal values. */
function randomLike(tree: unknown, seed: number): unknown {
  const x = flat(tree);
  const rng = new Random(seed);
  return rebuild(
    x.def,
    x.leaves.map((leaf) => withValues(leaf, values(typeof leaf === "number" ? rng.normal([]) : rng.normal(leaf.shape)))),
  );
}

function measure(engine: Engine, f: Fn, args: readonly unknown[], seed: number): Measured {
  const e = loose(engine);
  const u = randomLike(args, seed + 1) as unknown[];
  const [y, t] = e.jvp(f, args as unknown[], u);
  const [, pullback] = e.vjp(f, ...args);
  const w = randomLike(y, seed + 2);
  return { primal: treeValues(y), tangent: treeValues(t), cotangent: treeValues(pullback(w)) };
}

function firstDifference(
  name: string,
  a: [string, Measured],
  b: [string, Measured],
  rtol: number,
  atol: number,
  node?: string,
): Disagreement | undefined {
  for (const quantity of ["primal", "tangent", "cotangent"] as const) {
    const bad = compare(a[1][quantity], b[1][quantity], rtol, atol);
    if (bad) {
      const label = quantity === "primal" ? "primal" : quantity === "tangent" ? "jvp tangent" : "vjp cotangent";
      return {
        case: name,
        ...(node ? { node } : {}),
        between: [a[0], b[0]],
        quantity: label,
        index: bad.index,
        values: [bad.got, bad.expected],
        error: bad.error,
      };
    }
  }
  return undefined;
}

function nodeLabel(graph: Graph, node: GraphNode): string {
  const name = (id: number) => graph.inputs.find((i) => i.id === id)?.name ?? `v${id}`;
  return `v${node.id} = ${node.op}(${node.inputs.map(name).join(", ")})`;
}

/** The graph cut after node `k` with that node as its only output. */
function prefix(graph: Graph, k: number): Graph {
  const node = graph.nodes[k]!;
  return { ...graph, nodes: graph.nodes.slice(0, k + 1), outputs: [node.id], outTree: { kind: "tensor" } };
}

/** The first disagreement of one case, if any (shared by `compareEngines` and vitest's `describeComparison`). */
export function compareCase(
  engines: readonly Engine[],
  c: ComparisonCase,
  seed: number,
  rtol: number,
  atol: number,
): Disagreement | undefined {
  const f = c.fn ?? toFunction(c.graph!);
  const run = (fn: Fn, args: readonly unknown[], eager: Float64Array, node?: string): Disagreement | undefined => {
    const measured: [string, Measured][] = engines.map((engine) => [engine.name, measure(engine, fn, args, seed)]);
    for (const [name, m] of measured) {
      const bad = compare(m.primal, eager, rtol, atol);
      if (bad)
        return {
          case: c.name,
          ...(node ? { node } : {}),
          between: [name, "eager"],
          quantity: "primal",
          index: bad.index,
          values: [bad.got, bad.expected],
          error: bad.error,
        };
    }
    for (let i = 0; i < measured.length; i++) {
      for (let j = i + 1; j < measured.length; j++) {
        const d = firstDifference(c.name, measured[i]!, measured[j]!, rtol, atol, node);
        if (d) return d;
      }
    }
    return undefined;
  };
  const eagerOf = (fn: Fn, args: readonly unknown[]) => treeValues(fn(...args));
  const whole = run(f, c.args, eagerOf(f, c.args));
  if (!whole || !c.graph) return whole;
  // localize: the first float node where the engines (or the eager reference) part
  const graph = c.graph;
  const inputs = c.args as Tensor[];
  for (let k = 0; k < graph.nodes.length; k++) {
    const node = graph.nodes[k]!;
    if (node.dtype !== "float64" && node.dtype !== "float32") continue;
    const sub = prefix(graph, k);
    const d = run(toFunction(sub), inputs, treeValues(evalGraph(sub, inputs)), nodeLabel(graph, node));
    if (d) return d;
  }
  return whole;
}

/** `options` with the defaults filled in. */
export function comparisonPlan(options: CompareOptions): { seed: number; rtol: number; atol: number; cases: readonly ComparisonCase[] } {
  const seed = options.seed ?? 1;
  return {
    seed,
    rtol: options.rtol ?? 1e-9,
    atol: options.atol ?? 1e-11,
    cases: options.cases ?? defaultComparisonCases(seed, options.graphs ?? 10),
  };
}

/**
 * Runs the same cases on every engine (primal, jvp along a fixed random direction, vjp of a
 * fixed random cotangent) and against the eager reference primal; reports the first
 * disagreement of each case beyond `atol + rtol·scale`.
 */
export function compareEngines(engines: readonly Engine[], options: CompareOptions = {}): ComparisonReport {
  const { seed, rtol, atol, cases } = comparisonPlan(options);
  const disagreements: Disagreement[] = [];
  for (const c of cases) {
    const d = compareCase(engines, c, seed, rtol, atol);
    if (d) disagreements.push(d);
  }
  return { cases: cases.length, disagreements, ...(disagreements[0] ? { first: disagreements[0] } : {}) };
}

/** One line per disagreement, for test failures and logs. */
export function formatDisagreement(d: Disagreement): string {
  return (
    `${d.case}${d.node ? ` at node ${d.node}` : ""}: ${d.between[0]} and ${d.between[1]} disagree on the ${d.quantity} ` +
    `(element ${d.index}: ${d.values[0]} vs ${d.values[1]}, error ${d.error.toExponential(2)})`
  );
}
