/**
 * TensorFlow.js 4.22: the union package `@tensorflow/tfjs` (it registers the
 * gradients; tfjs-core + backend-cpu alone do not under Node), the pure-JS `cpu` backend and
 * `@tensorflow/tfjs-backend-wasm` (its bundled .wasm, one thread under Node). Functional API only.
 * Both backends live in one process: every case selects its backend before each sample
 * (untimed), and its tensors are created under that backend so none moves between backends.
 * tfjs has no float64: float64 variants are n/a. W5 and W6 use tfjs's own layouts (NHWC images,
 * [kh, kw, in, out] filters; `conv2d` has no NCHW support in its cpu and wasm kernels): inputs and
 * weights are converted once before timing, gradients and outputs back for the check (untimed).
 */
import type * as TF from "@tensorflow/tfjs";
import { cnnSegments, mlpSegments } from "../reference.js";
import { nchwToNhwc, nhwcToNchw, oihwToHwio, hwioToOihw, permuteFlatRows } from "./layouts.js";
import type { CnnInput } from "../data.js";
import type { Built, Implementation, Unsupported, Variant } from "../workloads.js";

type Tf = typeof TF;
export type TfBackend = "cpu" | "wasm";

export interface TfjsLoad {
  readonly implementations: Implementation[];
  /** Backends that could not start, with the reason. */
  readonly absent: { id: string; label: string; reason: string }[];
  readonly version?: string;
}

/** Imports tfjs and the wasm backend, silencing the "install tfjs-node" banner. */
async function importTf(): Promise<Tf> {
  const original = console.log;
  const originalWarn = console.warn;
  const quiet =
    (write: (...a: unknown[]) => void) =>
    (...args: unknown[]) => {
      if (args.some((a) => typeof a === "string" && (a.includes("tfjs-node") || a.includes("===="))) || args.length === 0) return;
      write(...args);
    };
  console.log = quiet(original);
  console.warn = quiet(originalWarn);
  try {
    const tf = (await import("@tensorflow/tfjs")) as Tf;
    await import("@tensorflow/tfjs-backend-wasm");
    await tf.setBackend("cpu");
    await tf.ready();
    tf.dispose(tf.scalar(0)); // the cpu backend prints its banner on first use
    return tf;
  } finally {
    console.log = original;
    console.warn = originalWarn;
  }
}

export async function loadTfjs(backends: readonly TfBackend[] = ["cpu", "wasm"]): Promise<TfjsLoad> {
  const absent: TfjsLoad["absent"] = [];
  let tf: Tf;
  try {
    tf = await importTf();
  } catch (error) {
    for (const b of backends) absent.push({ id: `tfjs-${b}`, label: `tfjs ${b}`, reason: `import failed: ${String(error)}` });
    return { implementations: [], absent };
  }
  const implementations: Implementation[] = [];
  for (const backend of backends) {
    try {
      if (!(await tf.setBackend(backend))) throw new Error(`setBackend("${backend}") returned false`);
      await tf.ready();
      implementations.push(tfImplementation(tf, backend));
    } catch (error) {
      absent.push({
        id: `tfjs-${backend}`,
        label: `tfjs ${tf.version_core} ${backend}`,
        reason: `backend failed to start: ${String(error)}`,
      });
    }
  }
  return { implementations, absent, version: tf.version_core };
}

let variableCounter = 0;

function tfImplementation(tf: Tf, backend: TfBackend): Implementation {
  const use = async (): Promise<void> => {
    if (tf.getBackend() !== backend) await tf.setBackend(backend);
  };
  const seed = (x: TF.Tensor, y: TF.Tensor): TF.Tensor => tf.mul(tf.add(x, y), tf.sub(x, y));
  const rosenbrock = (x: TF.Tensor): TF.Scalar => {
    const n = x.shape[0]!;
    const head = tf.slice(x, 0, n - 1);
    const tail = tf.slice(x, 1, n - 1);
    const t = tf.sub(tail, tf.mul(head, head));
    const u = tf.sub(1, head);
    return tf.sum(tf.add(tf.mul(100, tf.mul(t, t)), tf.mul(u, u)));
  };

  return {
    id: `tfjs-${backend}`,
    label: `tfjs ${tf.version_core} ${backend}`,
    group: "peer",
    async build(variant: Variant): Promise<Built | Unsupported> {
      await use();
      const prepare = use;
      switch (variant.workload) {
        case "W1": {
          const g = tf.grads(seed);
          const run = () => {
            const inputs = [tf.scalar(variant.x), tf.scalar(variant.y)];
            const out = g(inputs);
            const values = [out[0]!.dataSync()[0]!, out[1]!.dataSync()[0]!];
            tf.dispose([...inputs, ...out]);
            return values;
          };
          return { case: { prepare, run }, result: run };
        }
        case "W2": {
          const { input, kind } = variant;
          if (kind === "jvp") return { unsupported: "jvp is measured for chainrule engines only (tfjs has no forward mode)", quiet: true };
          if (input.dtype === "float64") return { unsupported: "tfjs has no float64" };
          const x = tf.tensor1d(input.x as Float32Array, "float32");
          const g = tf.grad(rosenbrock);
          const run =
            kind === "primal"
              ? () => {
                  const y = tf.tidy(() => rosenbrock(x));
                  const value = y.dataSync()[0]!;
                  y.dispose();
                  return value;
                }
              : () => {
                  const dx = tf.tidy(() => g(x));
                  const values = dx.dataSync();
                  dx.dispose();
                  return values;
                };
          return { case: { prepare, run }, result: run };
        }
        case "W3": {
          const { batch: B, inputs: D, hidden: H, classes: O, learningRate } = variant.input;
          const i = variant.input;
          const id = `${backend}-${variableCounter++}`;
          const w1 = tf.variable(tf.tensor2d(i.w1, [D, H]), true, `w1-${id}`);
          const b1 = tf.variable(tf.tensor1d(i.b1), true, `b1-${id}`);
          const w2 = tf.variable(tf.tensor2d(i.w2, [H, O]), true, `w2-${id}`);
          const b2 = tf.variable(tf.tensor1d(i.b2), true, `b2-${id}`);
          const vars = [w1, b1, w2, b2];
          const x = tf.tensor2d(i.x, [B, D]);
          const y = tf.oneHot(tf.tensor1d(i.labels, "int32"), O).toFloat();
          const loss = (): TF.Scalar => {
            const h = tf.tanh(tf.add(tf.matMul(x, w1), b1));
            const logp = tf.logSoftmax(tf.add(tf.matMul(h, w2), b2));
            return tf.neg(tf.div(tf.sum(tf.mul(y, logp)), B)) as TF.Scalar;
          };
          const run = () => {
            const value = tf.tidy(() => {
              const { value: l, grads } = tf.variableGrads(loss, vars);
              for (const v of vars) v.assign(tf.sub(v, tf.mul(learningRate, grads[v.name]!)));
              return l;
            });
            const out = value.dataSync()[0]!;
            value.dispose();
            return out;
          };
          const result = () => {
            const { value, grads } = tf.variableGrads(loss, vars);
            const segments = mlpSegments({
              loss: value.dataSync()[0]!,
              w1: grads[w1.name]!.dataSync(),
              b1: grads[b1.name]!.dataSync(),
              w2: grads[w2.name]!.dataSync(),
              b2: grads[b2.name]!.dataSync(),
            });
            tf.dispose([value, ...Object.values(grads)]);
            return segments;
          };
          return { case: { prepare, run }, result };
        }
        case "W5": {
          // tfjs-backend-wasm 4.22 registers no kernel for a conv's filter gradient: it cannot train a CNN
          const missing = ["Conv2DBackpropFilter", "Conv2DBackpropInput", "MaxPoolGrad"].filter(
            (k) => tf.getKernel(k, backend) === undefined,
          );
          if (missing.length > 0)
            return { unsupported: `tfjs ${tf.version_core} registers no ${missing.join(", ")} kernel for its ${backend} backend` };
          return tfCnn(tf, variant.input, backend, prepare);
        }
        case "W6": {
          const { x, w, batch: N, channels: C, size: S } = variant.input;
          const tx = tf.tensor4d(nchwToNhwc(x, N, C, S), [N, S, S, C]);
          const tw = tf.tensor4d(oihwToHwio(w, C, C), [3, 3, C, C]);
          const run = () => {
            const y = tf.conv2d(tx, tw, 1, "same");
            const values = y.dataSync();
            y.dispose();
            return values;
          };
          return { case: { prepare, run }, result: () => [nhwcToNchw(run() as Float32Array, N, C, S)] };
        }
        case "W4": {
          const { a, b, size: n, dtype } = variant.input;
          if (dtype === "float64") return { unsupported: "tfjs has no float64" };
          const ta = tf.tensor2d(a as Float32Array, [n, n], "float32");
          const tb = tf.tensor2d(b as Float32Array, [n, n], "float32");
          const run = () => {
            const c = tf.matMul(ta, tb);
            const values = c.dataSync();
            c.dispose();
            return values;
          };
          return { case: { prepare, run }, result: run };
        }
      }
    },
  };
}

/** W5 with tf.variableGrads and the SGD update inside one tidy, as W3. */
function tfCnn(tf: Tf, i: CnnInput, backend: TfBackend, prepare: () => Promise<void>): Built {
  const { batch: N, size: S, c1: C1, c2: C2, classes: K, learningRate } = i;
  const Q = S / 4;
  const id = `${backend}-${variableCounter++}`;
  const w1 = tf.variable(tf.tensor4d(oihwToHwio(i.w1, C1, 1), [3, 3, 1, C1]), true, `cw1-${id}`) as TF.Variable<TF.Rank.R4>;
  const b1 = tf.variable(tf.tensor1d(i.b1), true, `cb1-${id}`);
  const w2 = tf.variable(tf.tensor4d(oihwToHwio(i.w2, C2, C1), [3, 3, C1, C2]), true, `cw2-${id}`) as TF.Variable<TF.Rank.R4>;
  const b2 = tf.variable(tf.tensor1d(i.b2), true, `cb2-${id}`);
  // NHWC flattens (h, w, c): the dense weights' rows in that order
  const w3 = tf.variable(tf.tensor2d(permuteFlatRows(i.w3, C2, Q, K, "toHwc"), [Q * Q * C2, K]), true, `cw3-${id}`);
  const b3 = tf.variable(tf.tensor1d(i.b3), true, `cb3-${id}`);
  const vars = [w1, b1, w2, b2, w3, b3];
  const x = tf.tensor4d(nchwToNhwc(i.x, N, 1, S), [N, S, S, 1]);
  const y = tf.oneHot(tf.tensor1d(i.labels, "int32"), K).toFloat();
  const loss = (): TF.Scalar => {
    const h1 = tf.maxPool(tf.relu(tf.add(tf.conv2d(x, w1, 1, "same"), b1)) as TF.Tensor4D, 2, 2, "valid");
    const h2 = tf.maxPool(tf.relu(tf.add(tf.conv2d(h1, w2, 1, "same"), b2)) as TF.Tensor4D, 2, 2, "valid");
    const logp = tf.logSoftmax(tf.add(tf.matMul(tf.reshape(h2, [N, Q * Q * C2]), w3), b3));
    return tf.neg(tf.div(tf.sum(tf.mul(y, logp)), N)) as TF.Scalar;
  };
  const run = () => {
    const value = tf.tidy(() => {
      const { value: l, grads } = tf.variableGrads(loss, vars);
      for (const v of vars) v.assign(tf.sub(v, tf.mul(learningRate, grads[v.name]!)));
      return l;
    });
    const out = value.dataSync()[0]!;
    value.dispose();
    return out;
  };
  const result = () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    const g = (v: TF.Variable) => grads[v.name]!.dataSync() as Float32Array;
    const segments = cnnSegments({
      loss: value.dataSync()[0]!,
      w1: hwioToOihw(g(w1), C1, 1),
      b1: g(b1),
      w2: hwioToOihw(g(w2), C2, C1),
      b2: g(b2),
      w3: permuteFlatRows(g(w3), C2, Q, K, "toChw"),
      b3: g(b3),
    });
    tf.dispose([value, ...Object.values(grads)]);
    return segments;
  };
  return { case: { prepare, run }, result };
}
