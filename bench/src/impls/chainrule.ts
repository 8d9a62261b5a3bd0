/**
 * chainrule's engines as implementations. Engines are discovered at run time: an engine package
 * that does not exist (yet), is not installed, fails to import or exports no `engine` is listed
 * with the reason instead of a figure. They are imported by name through the workspace; run with
 * `tsx --conditions=@chainrule/source` they load from their TypeScript sources (no build).
 */
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";
import {
  add,
  matmul,
  mul,
  setBackend,
  setFusion,
  sin,
  slice,
  sub,
  sum,
  tensor,
  withBackend,
  type Engine,
  type Tensor,
} from "@chainrule/ir";
import { useWasmBackend, wasmBackendInfo } from "@chainrule/wasm";
import { cnnSegments, mlpSegments } from "../reference.js";
import { programFact } from "./jit-program.js";
import type { Built, CnnVariant, Implementation, MlpVariant, Unsupported, Variant } from "../workloads.js";

export const ENGINE_IDS = ["forward", "reverse", "jit"] as const;
export type EngineId = (typeof ENGINE_IDS)[number];

/** An engine package: loaded, or absent with the reason. */
export interface EnginePackage {
  readonly id: EngineId;
  readonly packageName: string;
  readonly module?: Record<string, unknown>;
  readonly engine?: Engine;
  readonly version?: string;
  readonly absent?: string;
}

const packagesDir = fileURLToPath(new URL("../../../packages/", import.meta.url));

function isEngine(value: unknown): value is Engine {
  if (value === null || typeof value !== "object") return false;
  const e = value as Record<string, unknown>;
  return ["grad", "valueAndGrad", "jvp", "vjp"].every((name) => typeof e[name] === "function");
}

function message(error: unknown): string {
  const text = error instanceof Error ? error.message : String(error);
  return text.split("\n")[0]!.slice(0, 200);
}

/** Finds which engine packages exist and load. */
export async function discoverEngines(): Promise<EnginePackage[]> {
  const found: EnginePackage[] = [];
  for (const id of ENGINE_IDS) {
    const packageName = `@chainrule/${id}`;
    if (!existsSync(`${packagesDir}${id}/package.json`)) {
      found.push({ id, packageName, absent: `packages/${id} does not exist` });
      continue;
    }
    let module: Record<string, unknown>;
    try {
      module = (await import(packageName)) as Record<string, unknown>;
    } catch (error) {
      const code = (error as { code?: string }).code;
      const reason =
        code === "ERR_MODULE_NOT_FOUND" && message(error).includes(packageName)
          ? `${packageName} is not installed as a dependency of bench (add it to bench/package.json, then npm run setup)`
          : `import failed: ${message(error)}`;
      found.push({ id, packageName, absent: reason });
      continue;
    }
    let version: string | undefined;
    try {
      const pkg = (await import(`${packageName}/package.json`, { with: { type: "json" } })) as { default: { version?: string } };
      version = pkg.default.version;
    } catch {
      version = undefined;
    }
    const engine = module["engine"];
    if (!isEngine(engine)) {
      found.push({
        id,
        packageName,
        module,
        absent: `${packageName} exports no \`engine\` implementing Engine (grad, valueAndGrad, jvp, vjp)`,
      });
      continue;
    }
    found.push({ id, packageName, module, engine, ...(version === undefined ? {} : { version }) });
  }
  return found;
}

// ── the workloads written with ir ops ────────────────────────────────────────────────────────

/** W1: f(x, y) = (x + y)(x − y). */
export const seedFunction = (x: Tensor | number, y: Tensor | number): Tensor => mul(add(x, y), sub(x, y));

/** W2: Σᵢ 100(xᵢ₊₁ − xᵢ²)² + (1 − xᵢ)², with slices. */
export function rosenbrockIr(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}

export { mlpLoss, mlpTensors, type MlpParams } from "./mlp-model.js";
import { mlpLoss, mlpTensors, type MlpParams } from "./mlp-model.js";
import { cnnLoss, cnnTensors, conv3x3Same, convTensors, type CnnParams } from "./cnn-model.js";

/** W5: one SGD step with any engine's valueAndGrad; the update uses eager ir ops (as W3's). */
function cnnTrainer(engine: Engine, variant: CnnVariant, label?: string): Built {
  const { params: initial, x, labels } = cnnTensors(variant);
  const lossAndGrad = engine.valueAndGrad(cnnLoss, 0);
  const lr = variant.input.learningRate;
  const keys = ["w1", "b1", "w2", "b2", "w3", "b3"] as const;
  let params = initial;
  const step = (): number => {
    const [loss, grads] = lossAndGrad(params, x, labels) as [Tensor, CnnParams];
    const next = { ...params };
    for (const k of keys) next[k] = sub(params[k], mul(lr, grads[k]));
    params = next;
    return loss.item();
  };
  const result = () => {
    const [loss, g] = lossAndGrad(initial, x, labels) as [Tensor, CnnParams];
    return cnnSegments({ loss: loss.item(), w1: g.w1.data, b1: g.b1.data, w2: g.w2.data, b2: g.b2.data, w3: g.w3.data, b3: g.b3.data });
  };
  return { case: { run: step }, result, ...(label === undefined ? {} : { label }) };
}

/** One SGD step with any engine's valueAndGrad; the update uses eager ir ops. */
function mlpTrainer(engine: Engine, variant: MlpVariant, label?: string): Built {
  const { params: initial, x, labels } = mlpTensors(variant);
  const lossAndGrad = engine.valueAndGrad(mlpLoss, 0);
  const lr = variant.input.learningRate;
  let params = initial;
  const step = (): number => {
    const [loss, grads] = lossAndGrad(params, x, labels) as [Tensor, MlpParams];
    params = {
      w1: sub(params.w1, mul(lr, grads.w1)),
      b1: sub(params.b1, mul(lr, grads.b1)),
      w2: sub(params.w2, mul(lr, grads.w2)),
      b2: sub(params.b2, mul(lr, grads.b2)),
    };
    return loss.item();
  };
  const result = () => {
    const [loss, g] = lossAndGrad(initial, x, labels);
    return mlpSegments({ loss: loss.item(), w1: g.w1.data, b1: g.b1.data, w2: g.w2.data, b2: g.b2.data });
  };
  return { case: { run: step }, result, ...(label === undefined ? {} : { label }) };
}

/** Forward mode pays one pass per `chunkSize` inputs: gradients over this many inputs are not timed. */
export const FORWARD_GRADIENT_LIMIT = 20_000;

/** An engine's implementation (grad, jvp, training step; primal only when the package compiles one). */
export function engineImplementation(
  pkg: EnginePackage & { engine: Engine },
  options: { label?: string; idSuffix?: string; engine?: Engine } = {},
): Implementation {
  const engine = options.engine ?? pkg.engine;
  const compile =
    typeof pkg.module?.["jit"] === "function"
      ? (pkg.module["jit"] as (f: (...args: never[]) => unknown) => (...args: unknown[]) => unknown)
      : undefined;
  return {
    id: `${pkg.id}${options.idSuffix ?? ""}`,
    label: options.label ?? `chainrule ${pkg.id}`,
    group: "chainrule",
    build(variant: Variant): Built | Unsupported {
      switch (variant.workload) {
        case "W1": {
          const g = engine.grad(seedFunction, [0, 1]);
          const run = () => g(variant.x, variant.y);
          return { case: { run }, result: run };
        }
        case "W2": {
          const { input, kind } = variant;
          const x = tensor(input.x);
          if (kind === "primal") {
            if (compile === undefined) return { unsupported: "primal is eager ir (row “chainrule eager ir”)", quiet: true };
            const f = compile(rosenbrockIr);
            const run = () => (f(x) as Tensor).item();
            return { case: { run }, result: run };
          }
          if (kind === "grad") {
            if (pkg.id === "forward" && input.n > FORWARD_GRADIENT_LIMIT) {
              return { unsupported: `forward mode costs ⌈n / chunk⌉ passes of O(n): O(n²) for n = ${input.n.toLocaleString("en-US")}` };
            }
            const g = engine.grad(rosenbrockIr);
            const run = () => g(x).data;
            return { case: { run }, result: run };
          }
          const v = tensor(input.v);
          const run = () => {
            const [y, dy] = engine.jvp(rosenbrockIr, [x], [v]);
            return [y.item(), dy.item()];
          };
          return { case: { run }, result: run };
        }
        case "W3": {
          if (pkg.id === "forward") return { unsupported: "forward mode needs one pass per chunk of the 101,770 parameters" };
          // a package that compiles: only valueAndGrad is compiled here (the whole step jitted is jit-kernels.ts)
          return mlpTrainer(
            engine,
            variant,
            compile === undefined ? undefined : `${options.label ?? `chainrule ${pkg.id}`}, valueAndGrad jitted, SGD update in eager ir`,
          );
        }
        case "W4": {
          if (compile === undefined) return { unsupported: "primal is eager ir (row “chainrule eager ir”)", quiet: true };
          const a = tensor(variant.input.a, { shape: [variant.input.size, variant.input.size] });
          const b = tensor(variant.input.b, { shape: [variant.input.size, variant.input.size] });
          const f = compile((p: Tensor, q: Tensor) => matmul(p, q));
          const run = () => (f(a, b) as Tensor).data;
          // with the package's default kernel settings; say which ones the program used
          const source = () => (f as { source?: string }).source;
          return { case: { run }, result: run, ...(pkg.id === "jit" ? { facts: () => programFact(source()) } : {}) };
        }
        case "W5": {
          if (pkg.id === "forward") return { unsupported: "forward mode needs one pass per chunk of the parameters" };
          return cnnTrainer(
            engine,
            variant,
            compile === undefined ? undefined : `${options.label ?? `chainrule ${pkg.id}`}, valueAndGrad jitted, SGD update in eager ir`,
          );
        }
        case "W6": {
          if (compile === undefined) return { unsupported: "primal is eager ir (row “chainrule eager ir”)", quiet: true };
          const { x, w } = convTensors(variant);
          const f = compile(conv3x3Same);
          const run = () => [(f(x, w) as Tensor).data];
          const source = () => (f as { source?: string }).source;
          return { case: { run }, result: run, ...(pkg.id === "jit" ? { facts: () => programFact(source()) } : {}) };
        }
      }
    },
  };
}

/** The primal through eager ir (what forward and reverse run for a plain call). */
export const eagerIr: Implementation = {
  id: "eager",
  label: "chainrule eager ir",
  group: "chainrule",
  build(variant: Variant): Built | Unsupported {
    if (variant.workload === "W2" && variant.kind === "primal") {
      const x = tensor(variant.input.x);
      const run = () => rosenbrockIr(x).item();
      return { case: { run }, result: run };
    }
    if (variant.workload === "W6") {
      const { x, w } = convTensors(variant);
      const run = () => [conv3x3Same(x, w).data];
      return { case: { run }, result: run };
    }
    if (variant.workload === "W4") {
      const n = variant.input.size;
      const a = tensor(variant.input.a, { shape: [n, n] });
      const b = tensor(variant.input.b, { shape: [n, n] });
      const run = () => matmul(a, b).data;
      return { case: { run }, result: run };
    }
    return { unsupported: "eager ir computes no derivatives", quiet: true };
  },
};

/** A chain of `nodes` primitives on an 8-vector: sin, ·1.001, +0.25 in turn, then a sum. */
export function generatedChain(nodes: number): (x: Tensor) => Tensor {
  return (x: Tensor) => {
    let y = x;
    for (let k = 0; k < nodes - 1; k++) {
      const r = k % 3;
      y = r === 0 ? sin(y) : r === 1 ? mul(y, 1.001) : add(y, 0.25);
    }
    return sum(y);
  };
}

/**
 * `impl` with ir's eager ops on the WebAssembly backend (`@chainrule/wasm`, default settings: one
 * thread, no FMA, thresholds 4096): building, the check and every timed call run inside
 * `withBackend("wasm", …)`, so rows of other implementations in the same run keep ir's JavaScript
 * backend. Ids get the suffix `-wasm`.
 */
export function onWasmBackend(impl: Implementation): Implementation | undefined {
  if (!useWasmBackend()) return undefined;
  setBackend("js"); // the other rows keep ir's JavaScript backend
  const facts = () => {
    const ran = wasmBackendInfo().ran;
    const matmuls = `${ran.matmul} matmuls (${ran.parallelMatmul} on 2 threads)`;
    return `on the kernels so far: ${matmuls}, ${ran.elementwise} elementwise, ${ran.reduce} reductions`;
  };
  return within(impl, "-wasm", "WebAssembly backend", (body) => withBackend("wasm", body), facts);
}

/**
 * `impl` with ir's eager elementwise fusion off (`setFusion({ enabled: false })` around building,
 * the check and every timed call): each primitive computed at once, as before fusion. Ids get the
 * suffix `-unfused`.
 */
export function withoutFusion(impl: Implementation): Implementation {
  return within(impl, "-unfused", "fusion off", (body) => {
    const previous = setFusion({ enabled: false });
    try {
      return body();
    } finally {
      setFusion(previous);
    }
  });
}

/** `impl` with building, the check and every timed call run inside `around` (a setting on for their duration). */
function within(
  impl: Implementation,
  suffix: string,
  setting: string,
  around: <R>(body: () => R) => R,
  facts?: () => string,
): Implementation {
  const inside =
    <A extends unknown[], R>(f: (...args: A) => R) =>
    (...args: A): R =>
      around(() => f(...args));
  return {
    id: `${impl.id}${suffix}`,
    label: `${impl.label}, ${setting}`,
    group: impl.group,
    build: (variant) => {
      const built = around(() => impl.build(variant));
      if (built instanceof Promise || "unsupported" in built) return built;
      const wrapped = { ...built, case: { ...built.case, run: inside(built.case.run) }, result: inside(built.result) };
      return facts === undefined ? wrapped : { ...wrapped, facts };
    },
  };
}

/**
 * The jit's W2 gradient writing into an output buffer it is handed back on every call:
 * `jit((x, out) => grad(f)(x), { donate: [1] })`, called as `out = g(x, out)` — the donated `out`
 * (same dtype and size as the gradient) is consumed and its buffer holds the new gradient, so no
 * call allocates fresh pages. Baseline: `hand-reuse`. Other variants: n/a.
 */
export function jitDonating(pkg: EnginePackage & { engine: Engine }): Implementation | undefined {
  const compile = pkg.module?.["jit"] as
    | ((f: (x: Tensor, out: Tensor) => Tensor, options: { donate: number[] }) => (x: Tensor, out: Tensor) => Tensor)
    | undefined;
  if (compile === undefined) return undefined;
  return {
    id: "jit-donate",
    label: "chainrule jit, gradient into a donated output buffer",
    group: "chainrule",
    build: (variant) => {
      if (variant.workload !== "W2" || variant.kind !== "grad") return { unsupported: "W2 gradient only", quiet: true };
      const x = tensor(variant.input.x);
      const gradient = pkg.engine.grad(rosenbrockIr);
      const g = compile((v: Tensor, _out: Tensor) => gradient(v) as Tensor, { donate: [1] });
      const fresh = () => tensor(variant.input.x instanceof Float64Array ? new Float64Array(x.size) : new Float32Array(x.size));
      let out = fresh();
      const run = () => {
        out = g(x, out);
        return out;
      };
      return { case: { run }, result: () => g(x, fresh()).data };
    },
  };
}

type ImperativeApi = {
  parameter: (t: Tensor) => Tensor & { grad: Tensor | null };
  noGrad: <R>(body: () => R) => R;
};

/**
 * W3 with the reverse package's PyTorch-style imperative API: parameters are `parameter(...)`
 * leaves, `loss.backward()` fills their `.grad`, and the SGD update builds the next parameters
 * under `noGrad` (id `imperative`; `imperative-wasm` on the WebAssembly backend). Other variants: n/a.
 */
export function imperativeImplementation(pkg: EnginePackage): Implementation | undefined {
  const api = pkg.module as Partial<ImperativeApi> | undefined;
  if (pkg.id !== "reverse" || typeof api?.parameter !== "function" || typeof api.noGrad !== "function") return undefined;
  const { parameter, noGrad } = api as ImperativeApi;
  type Leaves = {
    w1: Tensor & { grad: Tensor | null };
    b1: Tensor & { grad: Tensor | null };
    w2: Tensor & { grad: Tensor | null };
    b2: Tensor & { grad: Tensor | null };
  };
  const leaves = (p: MlpParams): Leaves => ({ w1: parameter(p.w1), b1: parameter(p.b1), w2: parameter(p.w2), b2: parameter(p.b2) });
  const backward = (p: Leaves, x: Tensor, labels: Tensor) => {
    const loss = mlpLoss(p, x, labels) as Tensor & { backward(): void };
    loss.backward();
    return loss.item();
  };
  return {
    id: "imperative",
    label: "chainrule reverse, imperative API (loss.backward())",
    group: "chainrule",
    build: (variant) => {
      if (variant.workload !== "W3") return { unsupported: "W3 only", quiet: true };
      const { params: initial, x, labels } = mlpTensors(variant);
      const lr = variant.input.learningRate;
      let p = leaves(initial);
      const run = () => {
        const loss = backward(p, x, labels);
        const q = p;
        p = noGrad(() =>
          leaves({
            w1: sub(q.w1, mul(lr, q.w1.grad!)),
            b1: sub(q.b1, mul(lr, q.b1.grad!)),
            w2: sub(q.w2, mul(lr, q.w2.grad!)),
            b2: sub(q.b2, mul(lr, q.b2.grad!)),
          }),
        );
        return loss;
      };
      const result = () => {
        const q = leaves(initial);
        const loss = backward(q, x, labels);
        return mlpSegments({ loss, w1: q.w1.grad!.data, b1: q.b1.grad!.data, w2: q.w2.grad!.data, b2: q.b2.grad!.data });
      };
      return { case: { run }, result };
    },
  };
}
