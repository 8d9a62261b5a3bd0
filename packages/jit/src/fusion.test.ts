import type { DType, Primitive } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { generate, jsFusionRules } from "./codegen.js";
import { planFusion, type FusionPlan, type FusionRules } from "./fusion.js";
import type { Program } from "./optimize.js";
import { wasmFeatures } from "@chainrule/wasm";
import { Operands, wasmFusionRules } from "./wasm/operands.js";
import { compileKernelProgram } from "./wasm/program.js";

/** A program built node by node (ids in order of creation). */
function builder(dtype: DType = "float32") {
  const p: Program = { inputs: [], constants: new Map(), nodes: [], outputs: [] };
  let next = 0;
  return {
    p,
    input: (shape: number[]) => {
      const id = next++;
      p.inputs.push({ id, shape, dtype });
      return id;
    },
    node: (op: Primitive, inputs: number[], shape: number[], params: object = {}) => {
      const id = next++;
      p.nodes.push({ id, op, inputs, params: params as never, shape, dtype });
      return id;
    },
    returns: (...ids: number[]) => p.outputs.push(...ids),
  };
}

const js = (p: Program, rules: Partial<FusionRules> = {}) => planFusion(p, { ...jsFusionRules(), ...rules });
const wasm = (p: Program) => planFusion(p, wasmFusionRules(new Operands(p)));
/** Each group's member ids, in the order the groups run. */
const groups = (plan: FusionPlan) => plan.groups.map((g) => g.members.map((m) => m.id));
const stored = (plan: FusionPlan) => plan.groups.map((g) => [...g.stored].sort((a, b) => a - b));

describe("the fusion plan both backends share", () => {
  it("fuses a chain of one shape into one group that stores only what is returned (both backends)", () => {
    const b = builder();
    const x = b.input([4]);
    const y = b.input([4]);
    const e = b.node("exp", [x], [4]);
    const m = b.node("mul", [e, y], [4]);
    const a = b.node("add", [m, y], [4]);
    b.returns(a);
    for (const plan of [js(b.p), wasm(b.p)]) {
      expect(groups(plan)).toEqual([[e, m, a]]);
      expect(stored(plan)).toEqual([[a]]);
      expect(plan.completes.get(a)).toBe(plan.groups[0]);
      expect(plan.epilogues.size).toBe(0);
    }
  });

  it("merges two open groups a node reads in JavaScript; WebAssembly seals the second and stores its value", () => {
    const b = builder();
    const x = b.input([3]);
    const y = b.input([3]);
    const n1 = b.node("neg", [x], [3]);
    const n2 = b.node("abs", [y], [3]);
    const s = b.node("add", [n1, n2], [3]);
    b.returns(s);
    expect(groups(js(b.p))).toEqual([[n1, n2, s]]);
    expect(stored(js(b.p))).toEqual([[s]]);
    const w = wasm(b.p);
    expect(groups(w)).toEqual([[n2], [n1, s]]);
    expect(stored(w)).toEqual([[n2], [s]]);
  });

  it("a value read by a node that cannot fuse (a view, a matmul) is stored and its group closed", () => {
    const b = builder();
    const x = b.input([3]);
    const z = b.input([2, 3]);
    const a = b.node("neg", [x], [3]);
    const bc = b.node("broadcastTo", [a], [2, 3], { shape: [2, 3] });
    const c = b.node("mul", [bc, z], [2, 3]);
    const d = b.node("neg", [a], [3]);
    b.returns(c, d);
    for (const plan of [js(b.p), wasm(b.p)]) {
      expect(groups(plan)).toEqual([[a], [c], [d]]);
      expect(stored(plan)).toEqual([[a], [c], [d]]);
    }
  });

  it("a full reduction accumulates in its operand's group in JavaScript (never stored); WebAssembly keeps it apart", () => {
    const b = builder();
    const x = b.input([5]);
    const sq = b.node("mul", [x, x], [5]);
    const s = b.node("reduceSum", [sq], [], { axes: [0] });
    const mx = b.node("reduceMax", [sq], [], { axes: [0] });
    b.returns(s, mx);
    const plan = js(b.p);
    expect(groups(plan)).toEqual([[sq, s, mx]]);
    expect([...plan.groups[0]!.reductions]).toEqual([s, mx]);
    expect(stored(plan)).toEqual([[]]);
    const w = wasm(b.p);
    expect(groups(w)).toEqual([[sq]]);
    expect(stored(w)).toEqual([[sq]]);
  });

  it("caps groups at the backend's size limit, and without fusion every node is a group of its own", () => {
    const b = builder();
    let v = b.input([2]);
    const chain: number[] = [];
    for (let i = 0; i < 5; i++) {
      v = b.node("neg", [v], [2]);
      chain.push(v);
    }
    b.returns(v);
    const capped = js(b.p, { maxGroup: 2 });
    expect(groups(capped)).toEqual([chain.slice(0, 2), chain.slice(2, 4), chain.slice(4)]);
    expect(stored(capped)).toEqual([[chain[1]!], [chain[3]!], [chain[4]!]]);
    expect(groups(js(b.p, { fuse: false }))).toEqual(chain.map((id) => [id]));
  });

  it("WebAssembly groups at most 48 nodes; JavaScript 256", () => {
    const b = builder();
    let v = b.input([2]);
    for (let i = 0; i < 100; i++) v = b.node("neg", [v], [2]);
    b.returns(v);
    expect(groups(wasm(b.p)).map((g) => g.length)).toEqual([48, 48, 4]);
    expect(groups(js(b.p)).map((g) => g.length)).toEqual([100]);
  });

  it("a group reading every use of a rank-2 matmul is its GEMM's epilogue (WebAssembly only)", () => {
    const b = builder();
    const x = b.input([4, 8]);
    const w = b.input([8, 6]);
    const bias = b.input([6]);
    const m = b.node("matmul", [x, w], [4, 6]);
    const bb = b.node("broadcastTo", [bias], [4, 6], { shape: [4, 6] });
    const a = b.node("add", [m, bb], [4, 6]);
    const t = b.node("tanh", [a], [4, 6]);
    b.returns(t);
    const plan = wasm(b.p);
    expect(groups(plan)).toEqual([[a, t]]);
    expect(plan.epilogues.get(m)).toBe(plan.groups[0]);
    expect(js(b.p).epilogues.size).toBe(0);
    // the product returned as well: it must be stored, so no epilogue
    b.returns(m);
    expect(wasm(b.p).epilogues.size).toBe(0);
  });

  it("no epilogue when an operand of the group is computed after the matmul", () => {
    const b = builder();
    const x = b.input([4, 8]);
    const w = b.input([8, 6]);
    const y = b.input([4, 6]);
    const m = b.node("matmul", [x, w], [4, 6]);
    const later = b.node("sqrt", [y], [4, 6]);
    const lb = b.node("reshape", [later], [4, 6], { shape: [4, 6] });
    const a = b.node("add", [m, lb], [4, 6]);
    b.returns(a);
    const plan = wasm(b.p);
    expect(groups(plan)).toEqual([[later], [a]]);
    expect(plan.epilogues.size).toBe(0);
  });

  it("each backend emits exactly the planned groups (a loop each; a SIMD kernel or a GEMM epilogue each)", () => {
    const b = builder();
    const x = b.input([4, 8]);
    const w = b.input([8, 6]);
    const y = b.input([4, 6]);
    const n1 = b.node("neg", [y], [4, 6]);
    const n2 = b.node("abs", [n1], [4, 6]);
    const m = b.node("matmul", [x, w], [4, 6]);
    const a = b.node("add", [m, y], [4, 6]);
    const c = b.node("mul", [a, n2], [4, 6]);
    b.returns(c);
    expect(groups(js(b.p))).toEqual([[n1, n2, a, c]]);
    const source = generate(b.p).source;
    expect(source.match(/\/\/ fused: /g)?.length).toBe(1);
    expect(source).toContain("// fused: v3 = neg, v4 = abs, v6 = add, v7 = mul");
    // WebAssembly: n1 → n2 in one kernel, then add and mul in the GEMM's epilogue
    const plan = wasm(b.p);
    expect(groups(plan)).toEqual([
      [n1, n2],
      [a, c],
    ]);
    expect(plan.epilogues.get(m)).toBe(plan.groups[1]);
    if (!wasmFeatures().simd) return;
    const listing = compileKernelProgram(b.p)!.source;
    expect(listing).toContain("v4 = fused float32[4,6] [v3 = neg, v4 = abs] [wasm]");
    expect(listing).toContain("v7 = epilogue of v5 [v6 = add, v7 = mul] (below)");
  });
});
