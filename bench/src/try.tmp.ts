import { tensor, withBackend, setBackend } from "@chainrule/ir";
import { engine } from "@chainrule/reverse";
import { useWasmBackend } from "@chainrule/wasm";
import { rosenbrockIr } from "./impls/chainrule.js";
useWasmBackend(); setBackend("js");
const n = 100_000;
const x = tensor(Float64Array.from({ length: n }, (_, i) => 1 + Math.sin(i) / 2));
const g = engine.grad(rosenbrockIr);
const js: number[] = [], wa: number[] = [];
for (let i = 0; i < 10; i++) { g(x); withBackend("wasm", () => g(x)); }
for (let r = 0; r < 40; r++) {
  let t = performance.now(); g(x); js.push(performance.now() - t);
  t = performance.now(); withBackend("wasm", () => g(x)); wa.push(performance.now() - t);
}
const q = (a: number[]) => { a.sort((p, q) => p - q); return `min ${a[0]!.toFixed(2)} p25 ${a[10]!.toFixed(2)} median ${a[20]!.toFixed(2)} ms`; };
console.log("js  ", q(js)); console.log("wasm", q(wa));
