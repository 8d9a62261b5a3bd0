// Quick benchmarks of the forward engine (medians of many repetitions after warm-up).
// Run from the repository root:
//   examples/node_modules/.bin/tsx --conditions=@chainrule/source packages/forward/scripts/bench.ts [w1|w2|chunks]
import { add, linspace, mul, reshape, scalar, sin, slice, square, sub, sum, Tensor, type TensorLike } from "@chainrule/ir";
import { createEngine, engine } from "../src/index.js";

function median(xs: number[]): number {
  const s = xs.slice().sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Median time per call in ns over `samples` batches of `batch` calls. CPU time of this process
 * (user + system) by default — the machine is shared, and wall time counts the time other
 * processes held the core; BENCH_CLOCK=wall for wall-clock time.
 */
const wall = process.env.BENCH_CLOCK === "wall";
function now(): number {
  if (wall) return Number(process.hrtime.bigint());
  const u = process.cpuUsage();
  return (u.user + u.system) * 1000;
}
function time(fn: () => unknown, batch: number, samples = 21, warm = 3): number {
  for (let i = 0; i < warm * batch; i++) fn();
  const out: number[] = [];
  for (let s = 0; s < samples; s++) {
    const t0 = now();
    for (let i = 0; i < batch; i++) fn();
    out.push((now() - t0) / batch);
  }
  return median(out);
}

const which = process.argv[2] ?? "all";

// W1: grad of (x + y)(x − y) at (3, 2), numbers in and out
if (which === "all" || which === "w1") {
  const f = (x: TensorLike, y: TensorLike) => mul(add(x, y), sub(x, y));
  const g = engine.grad(f, [0, 1]);
  console.log("W1 check", g(3, 2));
  const ns = time(() => g(3, 2), 20000);
  const hand = time(() => [2 * 3, -2 * 2], 200000);
  const x = scalar(3);
  const y = scalar(2);
  const eager = time(() => f(x, y), 20000);
  console.log(
    `W1 grad: ${(ns / 1000).toFixed(2)} µs per call (hand-written ${hand.toFixed(1)} ns; eager f alone ${(eager / 1000).toFixed(2)} µs)`,
  );
}

/** Extended Rosenbrock written with slices: Σ 100(x[i+1] − x[i]²)² + (1 − x[i])². */
function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1], [n]);
  return sum(add(mul(100, square(sub(tail, square(head)))), square(sub(1, head))));
}

function randomVector(n: number): Tensor {
  const data = new Float64Array(n);
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2147483648;
    data[i] = (s / 2147483648) * 2 - 1;
  }
  return new Tensor("float64", [n], data);
}

if (which === "all" || which === "w2") {
  const n = 100_000;
  const x = randomVector(n);
  const v = randomVector(n);
  const primal = time(() => rosenbrock(x), 20, 31);
  const jvp = time(() => engine.jvp(rosenbrock, [x], [v]), 20, 31);
  console.log(
    `W2 n=1e5: primal ${(primal / 1000).toFixed(0)} µs, jvp ${(jvp / 1000).toFixed(0)} µs, jvp/primal ${(jvp / primal).toFixed(2)}`,
  );
}

if (which === "all" || which === "chunks") {
  // round-robin over chunk sizes so that load changes hit every size alike; median per size
  const n = 1000;
  const x = randomVector(n);
  const primal = time(() => rosenbrock(x), 200, 21);
  console.log(`W2 n=1e3 primal ${(primal / 1000).toFixed(1)} µs`);
  const sizes = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1000];
  const reference = engine.grad(rosenbrock)(x);
  const grads = sizes.map((k) => createEngine({ chunkSize: k }).grad(rosenbrock));
  const samples: number[][] = sizes.map(() => []);
  grads.forEach((g) => g(x));
  const rounds = Number(process.env.ROUNDS ?? 9);
  for (let r = 0; r < rounds; r++) {
    grads.forEach((g, i) => {
      const t0 = now();
      g(x);
      samples[i]!.push(now() - t0);
    });
  }
  sizes.forEach((k, i) => {
    const got = grads[i]!(x);
    let err = 0;
    for (let j = 0; j < n; j++) err = Math.max(err, Math.abs(got.data[j]! - reference.data[j]!));
    const ns = median(samples[i]!);
    const min = Math.min(...samples[i]!);
    console.log(
      `| ${k} | ${Math.ceil(n / k)} | ${(ns / 1e6).toFixed(1)} | ${(min / 1e6).toFixed(1)} | ${(ns / primal).toFixed(0)} | ${err} |`,
    );
  });
}

// Few inputs, many outputs (forward mode's case): the Jacobian of p ↦ 2 sin(t pᵀ), t ∈ [0, 1]^10000
if (which === "all" || which === "jacobian") {
  const grid = reshape(linspace(0, 1, 10_000), [10_000, 1]);
  const f = (p: Tensor) => mul(sin(mul(grid, reshape(p, [1, 2]))), 2);
  const p = new Tensor("float64", [2], Float64Array.from([0.3, 0.7]));
  const primal = time(() => f(p), 5, 11, 1);
  const jac = time(() => engine.jacobian(f)(p), 3, 11, 1);
  console.log(
    `jacobian [10000,2] of 2 inputs: ${(jac / 1e6).toFixed(2)} ms (primal ${(primal / 1e6).toFixed(2)} ms, ratio ` +
      `${(jac / primal).toFixed(1)})`,
  );
}
