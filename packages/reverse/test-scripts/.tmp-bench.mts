import { add, mul, sub, sum, tanh, matmul, crossEntropy, Random, tensor } from "@chainrule/ir";
import { grad, valueAndGrad } from "../src/index.ts";
import { variable, backward } from "../src/imperative/index.ts";
const N = 50000;
let t = performance.now();
const g = grad((x, y) => mul(add(x, y), sub(x, y)), [0, 1]);
for (let i = 0; i < N; i++) g(3, 2);
console.log("functional scalar", ((performance.now() - t) / N * 1000).toFixed(2), "µs");
t = performance.now();
for (let i = 0; i < N; i++) { const x = variable(tensor(3), { requiresGrad: true }), y = variable(tensor(2), { requiresGrad: true }); backward(mul(add(x, y), sub(x, y))); }
console.log("imperative scalar", ((performance.now() - t) / N * 1000).toFixed(2), "µs");
const r = new Random(1); const X = r.normal([64, 16]); const W = r.normal([16, 32]); const W2 = r.normal([32, 4]); const L = tensor(Array.from({length: 64}, (_, i) => i % 4), { dtype: "int32" });
const f = (w: any, w2: any) => crossEntropy(matmul(tanh(matmul(X, w)), w2), L);
const vg = grad(f, [0, 1]);
const M = 3000;
t = performance.now(); for (let i = 0; i < M; i++) vg(W, W2); console.log("functional mlp", ((performance.now() - t) / M * 1000).toFixed(1), "µs");
const w = variable(W, { requiresGrad: true }), w2 = variable(W2, { requiresGrad: true });
t = performance.now(); for (let i = 0; i < M; i++) { w.grad = null; w2.grad = null; backward(f(w, w2)); } console.log("imperative mlp", ((performance.now() - t) / M * 1000).toFixed(1), "µs");
