/**
 * The suite as data: a list of named cases, each a function that throws on failure. The same
 * list is registered as vitest tests by `describeConformance` and run programmatically by
 * `runConformance` (how the suite's own tests prove that each mutant engine is caught).
 */
import type { Engine } from "@chainrule/ir";

/** Features an engine may declare unsupported (each skip needs a reason and is reported). */
export type Feature =
  | "float32"
  | "order3"
  | "hessian"
  | "customJvp"
  | "customVjp"
  | "pytrees"
  | "controlFlow"
  | "closures"
  | "errors"
  | "conventions"
  | "debugNans"
  | "randomGraphs"
  | "checkpoint";

/** How a tracing engine treats data-dependent control flow on traced values. */
export type ControlFlow = "define-by-run" | "retrace" | "throws";

export interface ConformanceOptions {
  /** Declared-unsupported features, each with a reason; their tests are reported as skipped. */
  readonly skip?: Partial<Record<Feature, string>>;
  /** Default "define-by-run"; a tracing engine declares "retrace" or "throws". */
  readonly controlFlow?: ControlFlow;
  /** Number of random graphs (default: env CHAINRULE_GRAPHS, else 100). */
  readonly graphs?: number;
  /** Derivative order checked on random graphs (default: env CHAINRULE_GRAPH_ORDER, else 1). */
  readonly graphOrder?: number;
  /** Seed for random directions and graphs (default: env CHAINRULE_SEED, else 1). */
  readonly seed?: number;
  /** Only run groups whose name is in this list (default all). */
  readonly groups?: readonly string[];
  /** Only run cases whose name matches (e.g. /^tanh/ to debug one op). */
  readonly match?: RegExp;
}

export interface Context {
  readonly engine: Engine;
  readonly options: ConformanceOptions;
  readonly seed: number;
  readonly graphs: number;
  readonly graphOrder: number;
  readonly controlFlow: ControlFlow;
}

export interface Case {
  readonly group: string;
  readonly name: string;
  /** Skipped (with the declared reason) when any of these features is declared unsupported. */
  readonly features?: readonly Feature[];
  /** Per-test timeout for vitest (ms), default 60 s. */
  readonly timeout?: number | ((ctx: Context) => number);
  readonly run: (ctx: Context) => void;
}

export interface CaseResult {
  readonly group: string;
  readonly name: string;
  readonly status: "pass" | "fail" | "skip";
  readonly error?: unknown;
  readonly reason?: string;
}

function envNumber(name: string): number | undefined {
  const raw = typeof process !== "undefined" ? process.env[name] : undefined;
  if (raw === undefined || raw === "") return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0)
    throw new RangeError(`conformance: expected ${name} to be a non-negative integer, got ${JSON.stringify(raw)}`);
  return n;
}

export function makeContext(engine: Engine, options: ConformanceOptions = {}): Context {
  return {
    engine,
    options,
    seed: options.seed ?? envNumber("CHAINRULE_SEED") ?? 1,
    graphs: options.graphs ?? envNumber("CHAINRULE_GRAPHS") ?? 100,
    graphOrder: options.graphOrder ?? envNumber("CHAINRULE_GRAPH_ORDER") ?? 1,
    controlFlow: options.controlFlow ?? "define-by-run",
  };
}

export function skipReason(c: Case, options: ConformanceOptions): string | undefined {
  for (const f of c.features ?? []) {
    const reason = options.skip?.[f];
    if (reason !== undefined) return `${f} declared unsupported: ${reason}`;
  }
  return undefined;
}
