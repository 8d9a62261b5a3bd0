/**
 * Graph optimizations, each preserving results exactly (tested in optimize.test.ts):
 * constant folding, algebraic simplification, common-subexpression elimination and
 * dead-code elimination. They work on `Program`, a mutable copy of an ir `Graph`.
 */
import { evalPrimitive, plainFactor, shapesEqual, type DType, type Graph, type Params, type Primitive, type Tensor } from "@chainrule/ir";

export interface PNode {
  id: number;
  op: Primitive;
  inputs: number[];
  params: Params;
  shape: number[];
  dtype: DType;
  /** checkpoint's recomputation region (see ir's GraphNode.remat): CSE merges only within one. */
  remat?: number;
}

export interface Program {
  inputs: { id: number; shape: number[]; dtype: DType }[];
  constants: Map<number, Tensor>;
  nodes: PNode[];
  outputs: number[];
}

export interface OptimizeOptions {
  dce?: boolean;
  cse?: boolean;
  fold?: boolean;
  simplify?: boolean;
}

export function toProgram(graph: Graph): Program {
  return {
    inputs: graph.inputs.map((i) => ({ id: i.id, shape: i.shape.slice(), dtype: i.dtype })),
    constants: new Map(graph.constants.map((c) => [c.id, c.value])),
    nodes: graph.nodes.map((n) => ({
      id: n.id,
      op: n.op,
      inputs: n.inputs.slice(),
      params: n.params,
      shape: n.shape.slice(),
      dtype: n.dtype,
      ...(n.remat === undefined ? {} : { remat: n.remat }),
    })),
    outputs: graph.outputs.slice(),
  };
}

/** The single value of a constant whose elements are all equal (bitwise for NaN/−0), else undefined. */
export function uniformValue(t: Tensor): number | undefined {
  const data = t.data;
  if (data.length === 0) return undefined;
  const first = data[0]!;
  for (let i = 1; i < data.length; i++) if (!Object.is(data[i], first)) return undefined;
  return first;
}

/** Folds nodes whose inputs are all constants, when that does not grow data (broadcasts stay lazy). */
function fold(p: Program): boolean {
  let changed = false;
  const kept: PNode[] = [];
  for (const n of p.nodes) {
    // a control-flow call on constants is not folded: it may run a long loop (issue 19)
    let foldable = n.op !== "gather" && n.op !== "scatterAdd" && n.op !== "control";
    let largest = 1;
    for (let k = 0; foldable && k < n.inputs.length; k++) {
      const t = p.constants.get(n.inputs[k]!);
      if (t === undefined) foldable = false;
      else largest = Math.max(largest, t.size);
    }
    let size = 1;
    for (const d of n.shape) size *= d;
    if (foldable && size <= largest) {
      const ins = n.inputs.map((id) => p.constants.get(id)!);
      p.constants.set(n.id, evalPrimitive(n.op, ins, n.params, { shape: n.shape, dtype: n.dtype }));
      changed = true;
    } else kept.push(n);
  }
  if (changed) p.nodes = kept;
  return changed;
}

/**
 * x·1 (mul and mulNoNan), x/1, x+0, x−0, neg(neg x), identity layout ops, cast to the same type,
 * stopGradient (derivatives are already in the graph); mulNoNan by a finite non-zero constant is mul.
 */
function simplify(p: Program): boolean {
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const inputs = new Map(p.inputs.map((i) => [i.id, i]));
  const replace = new Map<number, number>();
  const resolve = (id: number): number => {
    let r = id;
    while (replace.has(r)) r = replace.get(r)!;
    return r;
  };
  const shapeOf = (id: number): readonly number[] | undefined => byId.get(id)?.shape ?? p.constants.get(id)?.shape ?? inputs.get(id)?.shape;
  const uniform = new Map<number, number | undefined>();
  const constIs = (id: number, v: number): boolean => {
    const c = p.constants.get(id);
    if (c === undefined) return false;
    if (!uniform.has(id)) uniform.set(id, uniformValue(c));
    return Object.is(uniform.get(id), v) || (v !== 0 && uniform.get(id) === v);
  };
  /** A constant whose every element is the same finite non-zero number (mulNoNan by it is a plain product). */
  const plainConst = (id: number): boolean => {
    const c = p.constants.get(id);
    if (c === undefined) return false;
    if (!uniform.has(id)) uniform.set(id, uniformValue(c));
    return plainFactor(uniform.get(id));
  };
  let changed = false;
  for (const n of p.nodes) {
    if (replace.size > 0) n.inputs = n.inputs.map(resolve);
    const a = n.inputs[0];
    const b = n.inputs[1];
    const same = (id: number | undefined) => id !== undefined && shapesEqual(shapeOf(id) ?? [-1], n.shape);
    let to: number | undefined;
    switch (n.op) {
      case "mul":
      case "mulNoNan":
        if (constIs(b!, 1) && same(a)) to = a;
        else if (constIs(a!, 1) && same(b)) to = b;
        else if (n.op === "mulNoNan" && (plainConst(a!) || plainConst(b!))) {
          // by a finite non-zero constant, mulNoNan is exactly mul
          n.op = "mul";
          changed = true;
        }
        break;
      case "div":
        if (constIs(b!, 1) && same(a)) to = a;
        break;
      case "add":
        // x + 0 = x except for x = −0 (−0 + 0 = +0): only adding −0 is exact; +0 is kept
        if (constIs(b!, -0) && same(a)) to = a;
        else if (constIs(a!, -0) && same(b)) to = b;
        break;
      case "sub":
        if (constIs(b!, 0) && same(a)) to = a;
        break;
      case "neg": {
        const inner = byId.get(a!);
        if (inner?.op === "neg") to = inner.inputs[0];
        break;
      }
      case "reshape": {
        const inner = byId.get(a!);
        if (same(a)) to = a;
        else if (inner?.op === "reshape") {
          n.inputs = [inner.inputs[0]!];
          changed = true;
        }
        break;
      }
      case "broadcastTo":
      case "slice":
      case "pad":
      case "transpose":
        if (same(a) && (n.op !== "transpose" || (n.params as { perm: number[] }).perm.every((q, i) => q === i))) to = a;
        break;
      case "cast":
        if (byId.get(a!)?.dtype === n.dtype || p.constants.get(a!)?.dtype === n.dtype || inputs.get(a!)?.dtype === n.dtype) to = a;
        break;
      case "stopGradient":
        to = a;
        break;
      default:
        break;
    }
    if (to !== undefined) {
      replace.set(n.id, resolve(to));
      changed = true;
    }
  }
  if (replace.size > 0) {
    p.nodes = p.nodes.filter((n) => !replace.has(n.id));
    p.outputs = p.outputs.map(resolve);
  }
  return changed;
}

/** Merges nodes with the same op, params and inputs, and equal scalar constants. */
function cse(p: Program): boolean {
  const replace = new Map<number, number>();
  const scalars = new Map<string, number>();
  for (const [id, c] of p.constants) {
    if (c.size !== 1) continue;
    const v = c.data[0]!;
    const key = `${c.dtype}|${c.shape.join(",")}|${Object.is(v, -0) ? "-0" : String(v)}`;
    const known = scalars.get(key);
    if (known === undefined) scalars.set(key, id);
    else replace.set(id, known);
  }
  const seen = new Map<string, number>();
  for (const n of p.nodes) {
    if (replace.size > 0) n.inputs = n.inputs.map((id) => replace.get(id) ?? id);
    // op, inputs and params determine the result (shape and dtype included)
    let key = `${n.op}|${n.inputs.join(",")}`;
    // a checkpoint's recomputation stays apart from the forward pass (merging would keep its intermediates alive)
    if (n.remat !== undefined) key = `remat ${n.remat}|${key}`;
    for (const _ in n.params) {
      key += `|${JSON.stringify(n.params)}`;
      break;
    }
    const known = seen.get(key);
    if (known === undefined) seen.set(key, n.id);
    else replace.set(n.id, known);
  }
  if (replace.size === 0) return false;
  p.nodes = p.nodes.filter((n) => !replace.has(n.id));
  for (const id of replace.keys()) p.constants.delete(id);
  p.outputs = p.outputs.map((id) => replace.get(id) ?? id);
  return true;
}

/**
 * Removes nodes and constants no output depends on. Data checks (`checkIndices`) stay even when
 * nothing reads their value: eager code would have thrown, so compiled code must too.
 */
function dce(p: Program): boolean {
  const live = new Set(p.outputs);
  for (let i = p.nodes.length - 1; i >= 0; i--) {
    const n = p.nodes[i]!;
    if (n.op === "checkIndices") live.add(n.id);
    if (live.has(n.id)) for (const id of n.inputs) live.add(id);
  }
  const before = p.nodes.length + p.constants.size;
  p.nodes = p.nodes.filter((n) => live.has(n.id));
  for (const id of [...p.constants.keys()]) if (!live.has(id)) p.constants.delete(id);
  return p.nodes.length + p.constants.size !== before;
}

export function optimize(p: Program, options: OptimizeOptions = {}): Program {
  const { dce: doDce = true, cse: doCse = true, fold: doFold = true, simplify: doSimplify = true } = options;
  // fold → simplify → CSE → DCE; simplification can expose new common subexpressions (and
  // folding only ever finds constants the tracer did not already fold), so one more
  // simplify → CSE → DCE round runs only when the first simplification changed something
  if (doFold) fold(p);
  const simplified = doSimplify && simplify(p);
  if (doCse) cse(p);
  if (doDce) dce(p);
  if (simplified) {
    simplify(p);
    if (doCse) cse(p);
    if (doDce) dce(p);
  }
  return p;
}
