import * as ir from "@chainrule/ir";
import { setPooling, clearFreeList } from "./src/arith.js";
import { noGrad, parameter, type Variable } from "./src/imperative/index.js";
function gen(seed: number) { let a = seed >>> 0; return () => { a = (a + 0x6d2b79f5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; }; }
const next = gen(5);
const rt = (shape: number[], s: number) => ir.tensor(Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => (next() * 2 - 1) * s), { shape });
let count = 0; let bytes = 0;
const G = globalThis as any; const F32 = Float32Array, F64 = Float64Array;
const counting = (Base: any) => class extends Base { constructor(...args: any[]) { super(...args); if (!(args[0] instanceof ArrayBuffer) && this.byteLength > 32768) { count++; bytes += this.byteLength; } } };
function loop(B: number, D: number, H: number, O: number) {
  const x = rt([B, D], 1);
  const labels = ir.tensor(Int32Array.from({ length: B }, (_, i) => i % O));
  const ps = [parameter(rt([D, H], 1 / Math.sqrt(D))), parameter(rt([H], 0.1)), parameter(rt([H, O], 1 / Math.sqrt(H))), parameter(rt([O], 0.1))];
  return () => {
    const [w1, b1, w2, b2] = ps as [Variable, Variable, Variable, Variable];
    const hidden = ir.tanh(ir.add(ir.matmul(x, w1), b1));
    (ir.crossEntropy(ir.add(ir.matmul(hidden, w2), b2), labels) as Variable).backward();
    noGrad(() => { for (const p of ps) { p.value = ir.sub(p.value, ir.mul(p.grad!, 0.01)); p.zeroGrad(); } });
  };
}
for (const [B, D, H, O] of [[64, 784, 128, 10], [128, 256, 256, 10], [256, 784, 512, 10]] as const) {
  const out: string[] = [];
  for (const on of [false, true]) {
    setPooling(on); clearFreeList();
    const step = loop(B, D, H, O);
    for (let k = 0; k < 3; k++) step();
    count = 0; bytes = 0; G.Float32Array = counting(F32); G.Float64Array = counting(F64);
    for (let k = 0; k < 10; k++) step();
    G.Float32Array = F32; G.Float64Array = F64;
    out.push(`pool ${on ? "on" : "off"}: ${count / 10} arrays, ${(bytes / 10 / 1024).toFixed(0)} KiB`);
  }
  console.log(`${B}-${D}-${H}-${O} large (>32 KiB) arrays per step: ${out.join("; ")}`);
}
