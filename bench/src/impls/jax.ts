/**
 * jax-js 0.1.25: `init("wasm", "cpu")` (a bare `init()` touches `navigator` under Node), a stub
 * `globalThis.Float16Array` class before arrays are made from typed arrays, the wasm device
 * (single-threaded under Node 20: no global Worker). Its "cpu" device is a debugging interpreter
 * and is not measured. Arrays are reference-counted: every call consumes its arguments, so inputs
 * are passed as `x.ref`; `dataSync()` realizes (jax-js is lazy) and disposes. Two
 * implementations: eager (no jit) and everything wrapped in `jit`.
 */
import type * as JAX from "@jax-js/jax";
import { cnnSegments, mlpSegments } from "../reference.js";
import type { Built, Implementation, Unsupported, Variant } from "../workloads.js";

type Jax = typeof JAX;
type JArray = JAX.Array;

export interface JaxLoad {
  readonly implementations: Implementation[];
  readonly absent: { id: string; label: string; reason: string }[];
  readonly version?: string;
}

export async function loadJax(version?: string): Promise<JaxLoad> {
  const label = `jax-js${version === undefined ? "" : ` ${version}`} wasm`;
  try {
    const g = globalThis as { Float16Array?: unknown };
    // jax-js probes Float16Array when it meets typed arrays; Node 20 has none.
    if (g.Float16Array === undefined) g.Float16Array = class Float16Array {};
    const jax = (await import("@jax-js/jax")) as Jax;
    const devices = await jax.init("wasm", "cpu");
    if (!devices.includes("wasm")) throw new Error(`init("wasm", "cpu") started ${JSON.stringify(devices)}, no wasm`);
    jax.defaultDevice("wasm");
    return {
      implementations: [jaxImplementation(jax, false, label), jaxImplementation(jax, true, label)],
      absent: [],
      ...(version === undefined ? {} : { version }),
    };
  } catch (error) {
    const reason = `failed to start: ${String(error)}`;
    return {
      implementations: [],
      absent: [
        { id: "jax", label, reason },
        { id: "jax-jit", label: `${label}, jit`, reason },
      ],
    };
  }
}

function jaxImplementation(jax: Jax, useJit: boolean, baseLabel: string): Implementation {
  const { numpy: np, nn, tree, lax } = jax;
  // Every function below consumes each argument exactly once (`.ref` for extra uses).
  const wrap = <F extends (...args: never[]) => unknown>(f: F): F => (useJit ? (jax.jit(f as never) as unknown as F) : f);
  const scalarOf = (a: JArray): number => a.dataSync()[0]!;
  const seed = (x: JArray, y: JArray): JArray => x.ref.add(y.ref).mul(x.sub(y));
  const rosenbrock = (x: JArray): JArray => {
    const n = x.shape[0]!;
    const head = x.ref.slice([0, n - 1]);
    const tail = x.slice([1, n]);
    const t = tail.sub(head.ref.mul(head.ref));
    const u = np.subtract(1, head);
    return t.ref.mul(t).mul(100).add(u.ref.mul(u)).sum();
  };
  const dtypeOf = (d: "float64" | "float32") => (d === "float64" ? np.float64 : np.float32);

  return {
    id: useJit ? "jax-jit" : "jax",
    label: useJit ? `${baseLabel}, jit` : `${baseLabel}, no jit`,
    group: "peer",
    build(variant: Variant): Built | Unsupported {
      switch (variant.workload) {
        case "W1": {
          const g = wrap(jax.grad(seed, { argnums: [0, 1] }) as unknown as (x: number, y: number) => [JArray, JArray]);
          const run = () => {
            const [dx, dy] = g(variant.x, variant.y);
            return [scalarOf(dx), scalarOf(dy)];
          };
          return { case: { run }, result: run };
        }
        case "W2": {
          const { input, kind } = variant;
          if (kind === "jvp") return { unsupported: "jvp is measured for chainrule engines only", quiet: true };
          const x = np.array(input.x, { dtype: dtypeOf(input.dtype) });
          if (kind === "primal") {
            const f = wrap(rosenbrock);
            const run = () => scalarOf(f(x.ref));
            return { case: { run }, result: run };
          }
          const g = wrap(jax.grad(rosenbrock) as unknown as (x: JArray) => JArray);
          const run = () => g(x.ref).dataSync();
          return { case: { run }, result: run };
        }
        case "W3": {
          const { batch: B, inputs: D, hidden: H, classes: O, learningRate } = variant.input;
          const i = variant.input;
          type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray };
          const f32 = { dtype: np.float32 };
          const initial = (): Params => ({
            w1: np.array(i.w1, f32).reshape([D, H]),
            b1: np.array(i.b1, f32),
            w2: np.array(i.w2, f32).reshape([H, O]),
            b2: np.array(i.b2, f32),
          });
          const oneHot = new Float32Array(B * O);
          for (let r = 0; r < B; r++) oneHot[r * O + i.labels[r]!] = 1;
          const x = np.array(i.x, f32).reshape([B, D]);
          const y = np.array(oneHot, f32).reshape([B, O]);
          const loss = (p: Params, xs: JArray, ys: JArray): JArray => {
            const h = np.tanh(np.matmul(xs, p.w1).add(p.b1));
            const logp = nn.logSoftmax(np.matmul(h, p.w2).add(p.b2), -1);
            return logp
              .mul(ys)
              .sum()
              .mul(-1 / B);
          };
          const lossAndGrad = jax.valueAndGrad(loss) as unknown as (p: Params, xs: JArray, ys: JArray) => [JArray, Params];
          const step = wrap((p: Params, xs: JArray, ys: JArray): [JArray, Params] => {
            const [l, g] = lossAndGrad(tree.ref(p), xs, ys);
            const next = tree.map((pi: JArray, gi: JArray) => pi.sub(gi.mul(learningRate)), p, g as never) as unknown as Params;
            return [l, next];
          });
          const checkGrad = wrap(lossAndGrad);
          let params = initial();
          const run = () => {
            const [l, next] = step(params, x.ref, y.ref);
            params = next;
            return scalarOf(l);
          };
          const result = () => {
            const [l, g] = checkGrad(initial(), x.ref, y.ref);
            return mlpSegments({ loss: scalarOf(l), w1: g.w1.dataSync(), b1: g.b1.dataSync(), w2: g.w2.dataSync(), b2: g.b2.dataSync() });
          };
          return { case: { run }, result };
        }
        case "W5": {
          const { batch: N, size: S, c1: C1, c2: C2, classes: K, learningRate } = variant.input;
          const i = variant.input;
          type Params = { w1: JArray; b1: JArray; w2: JArray; b2: JArray; w3: JArray; b3: JArray };
          const f32 = { dtype: np.float32 };
          const Q = S / 4;
          const initial = (): Params => ({
            w1: np.array(i.w1, f32).reshape([C1, 1, 3, 3]),
            b1: np.array(i.b1, f32).reshape([1, C1, 1, 1]),
            w2: np.array(i.w2, f32).reshape([C2, C1, 3, 3]),
            b2: np.array(i.b2, f32).reshape([1, C2, 1, 1]),
            w3: np.array(i.w3, f32).reshape([C2 * Q * Q, K]),
            b3: np.array(i.b3, f32),
          });
          const oneHot = new Float32Array(N * K);
          for (let r = 0; r < N; r++) oneHot[r * K + i.labels[r]!] = 1;
          const x = np.array(i.x, f32).reshape([N, 1, S, S]);
          const y = np.array(oneHot, f32).reshape([N, K]);
          // 2×2 max-pool, stride 2: the maximum over the two window axes of a reshape (jax-js's
          // reduceWindow takes a window computation; the reshape is the plain-array way)
          const pool = (h: JArray, c: number, s: number): JArray => np.max(h.reshape([N, c, s / 2, 2, s / 2, 2]), [3, 5]);
          const loss = (p: Params, xs: JArray, ys: JArray): JArray => {
            const h1 = pool(nn.relu(lax.convGeneralDilated(xs, p.w1, [1, 1], "SAME").add(p.b1)), C1, S);
            const h2 = pool(nn.relu(lax.convGeneralDilated(h1, p.w2, [1, 1], "SAME").add(p.b2)), C2, S / 2);
            const logp = nn.logSoftmax(np.matmul(h2.reshape([N, C2 * Q * Q]), p.w3).add(p.b3), -1);
            return logp
              .mul(ys)
              .sum()
              .mul(-1 / N);
          };
          const lossAndGrad = jax.valueAndGrad(loss) as unknown as (p: Params, xs: JArray, ys: JArray) => [JArray, Params];
          const step = wrap((p: Params, xs: JArray, ys: JArray): [JArray, Params] => {
            const [l, g] = lossAndGrad(tree.ref(p), xs, ys);
            const next = tree.map((pi: JArray, gi: JArray) => pi.sub(gi.mul(learningRate)), p, g as never) as unknown as Params;
            return [l, next];
          });
          const checkGrad = wrap(lossAndGrad);
          let params = initial();
          const run = () => {
            const [l, next] = step(params, x.ref, y.ref);
            params = next;
            return scalarOf(l);
          };
          const result = () => {
            const [l, g] = checkGrad(initial(), x.ref, y.ref);
            return cnnSegments({
              loss: scalarOf(l),
              w1: g.w1.dataSync(),
              b1: g.b1.dataSync(),
              w2: g.w2.dataSync(),
              b2: g.b2.dataSync(),
              w3: g.w3.dataSync(),
              b3: g.b3.dataSync(),
            });
          };
          return { case: { run }, result };
        }
        case "W6": {
          const { x, w, batch: N, channels: C, size: S } = variant.input;
          const jx = np.array(x, { dtype: np.float32 }).reshape([N, C, S, S]);
          const jw = np.array(w, { dtype: np.float32 }).reshape([C, C, 3, 3]);
          const f = wrap((p: JArray, q: JArray) => lax.convGeneralDilated(p, q, [1, 1], "SAME"));
          const run = () => [f(jx.ref, jw.ref).dataSync()];
          return { case: { run }, result: run };
        }
        case "W4": {
          const { a, b, size: n, dtype } = variant.input;
          const ja = np.array(a, { dtype: dtypeOf(dtype) }).reshape([n, n]);
          const jb = np.array(b, { dtype: dtypeOf(dtype) }).reshape([n, n]);
          const f = wrap((p: JArray, q: JArray) => np.matmul(p, q));
          const run = () => f(ja.ref, jb.ref).dataSync();
          return { case: { run }, result: run };
        }
      }
    },
  };
}
