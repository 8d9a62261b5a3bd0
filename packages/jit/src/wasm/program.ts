/**
 * Running a whole optimized program on WebAssembly kernels, for programs whose work is matrix
 * products (the JIT hands over a program when it contains a large enough matmul; everything
 * else keeps the generated JavaScript).
 *
 * Every value lives in one WebAssembly memory per compiled program (resident across calls):
 * inputs are copied in (`set`), outputs are copied out (`slice`), nothing else moves. Steps:
 * - matmul → a GEMM kernel; a transpose of the last two axes feeding it is folded into the
 *   kernel (Aᵀ·B, A·Bᵀ) instead of copied; batched operands use a batch stride (0 broadcasts);
 * - chains of float elementwise ops of one shape → one fused SIMD kernel (operands broadcast as
 *   rows, columns or scalars, e.g. a bias), storing only the values read elsewhere;
 * - sums and maxima over a contiguous block of axes → a reduction kernel;
 * - reshape is free (an alias), broadcastTo and transpose are folded into their consumers;
 * - other elementwise ops (comparisons, where, casts, f64 transcendentals) → a JavaScript loop
 *   built from the code generator's expressions, on views of the memory;
 * - anything else (gather, scatterAdd, concat, pad, slice, argmax, …) runs the ir reference
 *   kernel on views of the memory (correct for every op; allocates, so it is meant for the small
 *   side computations of a training step).
 */
import { internalError, evalPrimitive, sizeOf, Tensor, type DType, type Params } from "@chainrule/ir";
import type { PNode, Program } from "../optimize.js";
import { type Arena, ArenaPlan, bytesOf } from "./arena.js";
import { ewFunction, ewKey, ewSupports, type EwOp, type EwRef, type EwSpec, type OperandKind } from "./elementwise.js";
import { wasmFeatures } from "./features.js";
import { defaultTile, gemmFunction, gemmKey, gemmScratchBytes, type GemmEpilogue, type GemmSpec, type KernelDtype } from "./gemm.js";
import { instantiate, kernelModule, kernelModulesCompiled, kernelWat, type KernelFn } from "./kernels.js";
import { JS_ELEMENTWISE, jsElementwiseLoop } from "./js-elementwise.js";
import type { FuncDef } from "./module.js";
import { reduceFunction, reduceKey } from "./reduce.js";
import { type ThreadPool, threadPool } from "./threads.js";

export interface KernelProgramOptions {
  /** Threads for large kernels: 1 or 2 (2 needs shared memory; otherwise 1 with the same results). */
  readonly threads?: number;
  /** Use relaxed-SIMD FMA in GEMM where the host validates it (default true). */
  readonly fma?: boolean;
  /** Time every step (for `profile()`; slows calls a little). */
  readonly profile?: boolean;
}

export interface KernelProgram {
  /** Flat inputs (numbers for rank 0, typed arrays otherwise) → flat outputs, like generated code. */
  readonly run: (...inputs: unknown[]) => unknown[];
  /** `run`, writing output j into `into[j]` where given (a typed array of its type and length). */
  readonly runInto: (inputs: readonly unknown[], into: readonly (ArrayLike<number> | undefined)[]) => unknown[];
  /** A readable listing of the steps. */
  readonly source: string;
  /** The WebAssembly text (WAT) of every kernel the program runs, each headed by its cache key. */
  wat(): string;
  /** Bytes of WebAssembly memory the program keeps. */
  readonly bytes: number;
  /** Number of kernel steps (the rest are reference steps). */
  readonly kernelSteps: number;
  /** Threads the large kernels actually use. */
  readonly threads: number;
  /** With `profile`: median µs per step (listing order), input and output copies, since the last report. */
  profile(): string;
}

/** Kernel programs compiled in this process. */
export const kernelStats = { programs: 0 };

/** Smallest GEMM (m·n·k) split across two threads. */
export const MIN_PARALLEL_WORK = 1 << 18;

function isFloat(d: DType): d is KernelDtype {
  return d === "float32" || d === "float64";
}

function isFloatNode(n: PNode): n is PNode & { dtype: KernelDtype } {
  return isFloat(n.dtype);
}

interface Slot {
  readonly at: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

interface Group {
  readonly shape: number[];
  readonly dtype: KernelDtype;
  readonly members: PNode[];
  sealed: boolean;
}

type StepBuilder = (arena: Arena, kernel: (key: string, build: () => FuncDef) => KernelFn) => { run: () => void; warm?: () => void };

const MAX_GROUP = 48;

/**
 * The program on kernels; undefined only when its values do not fit one WebAssembly memory
 * (1 GiB here), where the generated JavaScript runs it instead.
 */
export function compileKernelProgram(p: Program, options: KernelProgramOptions = {}): KernelProgram | undefined {
  const features = wasmFeatures();
  if (!features.simd) throw internalError("WebAssembly SIMD kernels requested but unavailable");
  const fma = options.fma !== false && features.relaxedFma;
  const pool: ThreadPool | undefined = (options.threads ?? 1) >= 2 && features.sharedMemory ? threadPool() : undefined;
  const threads = pool ? 2 : 1;

  const plan = new ArenaPlan();
  const slots = new Map<number, Slot>();
  const avals = new Map<number, { shape: readonly number[]; dtype: DType }>();
  for (const i of p.inputs) avals.set(i.id, i);
  for (const [id, c] of p.constants) avals.set(id, { shape: c.shape, dtype: c.dtype });
  for (const n of p.nodes) avals.set(n.id, n);
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const consumers = new Map<number, PNode[]>();
  for (const n of p.nodes) for (const id of n.inputs) (consumers.get(id) ?? consumers.set(id, []).get(id)!).push(n);
  const outputs = new Set(p.outputs);
  const steps: StepBuilder[] = [];
  /** Set once the outputs are known: new output arrays, allocated and their pages touched (below). */
  let prepareOutputs: () => void = () => {};
  const listing: string[] = [];
  let kernelSteps = 0;
  let jsSteps = 0;

  const alloc = (id: number, dtype: DType, shape: readonly number[]): Slot => {
    // 16 spare bytes: a partial vector at the end of a row may read (never write) past it
    const slot = { at: plan.reserve(bytesOf(dtype, Math.max(1, sizeOf(shape))), 16), dtype, shape };
    slots.set(id, slot);
    return slot;
  };
  const inputSlots = p.inputs.map((i) => alloc(i.id, i.dtype, i.shape));
  const constantFills: [Slot, Tensor][] = [];
  for (const [id, c] of p.constants) constantFills.push([alloc(id, c.dtype, c.shape), c]);

  /** Values computed lazily (transpose, broadcastTo): folded into consumers, or copied on demand. */
  const lazy = new Map<number, PNode>();
  const slotOf = (id: number): Slot => {
    const s = slots.get(id);
    if (s !== undefined) return s;
    const n = lazy.get(id);
    if (n === undefined) throw internalError(`value ${id} has no location`);
    reference(n);
    return slots.get(id)!;
  };

  /** A reference step: the ir kernel on views of the memory, its result copied into the node's slot. */
  const reference = (n: PNode) => {
    const ins = n.inputs.map(slotOf);
    const out = alloc(n.id, n.dtype, n.shape);
    listing.push(`v${n.id} = ${n.op}(${n.inputs.map((i) => `v${i}`).join(", ")}) [reference, ${n.dtype}${JSON.stringify(n.shape)}]`);
    steps.push((arena) => {
      const tensors = ins.map(
        (s) => new Tensor(s.dtype, s.shape.slice(), arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape)))),
      );
      const target = arena.view(out.dtype as never, out.at, Math.max(1, sizeOf(out.shape)));
      const aval = { shape: n.shape, dtype: n.dtype };
      return {
        run: () => {
          const r = evalPrimitive(n.op, tensors, n.params as Params, aval);
          target.set(r.data);
        },
      };
    });
  };

  // ── pass 1: elementwise groups ─────────────────────────────────────────────────────────────
  const groupOf = new Map<number, Group>();
  /** The kind of operand `id` (resolving broadcastTo) in iteration `shape`, or undefined. */
  const sourceOf = (id: number): number => {
    const n = byId.get(id);
    return n !== undefined && n.op === "broadcastTo" ? sourceOf(n.inputs[0]!) : id;
  };
  const kindIn = (id: number, shape: readonly number[]): OperandKind | undefined => {
    const s = avals.get(sourceOf(id))!.shape;
    const r = shape.length;
    if (s.length > r) return undefined;
    const padded = [...Array<number>(r - s.length).fill(1), ...s];
    if (padded.every((d) => d === 1)) return "scalar";
    if (padded.every((d, i) => d === shape[i])) return "full";
    const lead = padded.slice(0, -1);
    if (padded[r - 1] === shape[r - 1] && lead.every((d) => d === 1)) return "row";
    if (padded[r - 1] === 1 && lead.every((d, i) => d === shape[i])) return "col";
    return undefined;
  };
  const uniformConstant = (id: number): number | undefined => {
    const c = p.constants.get(sourceOf(id));
    if (c === undefined || c.size === 0) return undefined;
    const v = c.data[0]!;
    for (let i = 1; i < c.size; i++) if (!Object.is(c.data[i], v)) return undefined;
    return v;
  };
  const elementwiseOk = (n: PNode): n is PNode & { dtype: KernelDtype } =>
    isFloat(n.dtype) &&
    n.shape.length > 0 &&
    sizeOf(n.shape) > 0 &&
    ewSupports(n.op, n.dtype) &&
    n.inputs.every((id) => avals.get(id)!.dtype === n.dtype && (kindIn(id, n.shape) !== undefined || uniformConstant(id) !== undefined));
  for (const n of p.nodes) {
    if (elementwiseOk(n)) {
      let join: Group | undefined;
      for (const id of n.inputs) {
        const g = groupOf.get(id);
        if (g === undefined || g.sealed) continue;
        if (
          join === undefined &&
          g.dtype === n.dtype &&
          g.shape.length === n.shape.length &&
          g.shape.every((d, i) => d === n.shape[i]) &&
          g.members.length < MAX_GROUP
        )
          join = g;
        else if (g !== join) g.sealed = true;
      }
      if (join === undefined) {
        join = { shape: n.shape, dtype: n.dtype, members: [], sealed: false };
      }
      join.members.push(n);
      groupOf.set(n.id, join);
    } else {
      for (const id of n.inputs) {
        const g = groupOf.get(id);
        if (g !== undefined) g.sealed = true;
      }
    }
  }

  // ── GEMM epilogues: a group consuming a (rank-2) matmul's only uses runs in the GEMM's stores ──
  const order = new Map<number, number>();
  p.nodes.forEach((n, i) => order.set(n.id, i));
  const epilogueOf = new Map<number, Group>();
  const fusedGroups = new Set<Group>();
  const fusedInto = new Map<Group, number>();
  /** The position in `p.nodes` after which a value exists (−1: inputs and constants). */
  const emittedAt = (id: number): number => {
    const g = groupOf.get(id);
    if (g !== undefined) return fusedInto.get(g) ?? order.get(g.members[g.members.length - 1]!.id)!;
    return order.get(id) ?? -1;
  };
  for (const n of p.nodes) {
    if (n.op !== "matmul" || !isFloat(n.dtype) || n.shape.length !== 2 || outputs.has(n.id)) continue;
    const uses = consumers.get(n.id) ?? [];
    const g = uses.length > 0 ? groupOf.get(uses[0]!.id) : undefined;
    if (g === undefined || fusedGroups.has(g) || !uses.every((u) => groupOf.get(u.id) === g)) continue;
    if (g.dtype !== n.dtype || g.shape.length !== 2 || g.shape[0] !== n.shape[0] || g.shape[1] !== n.shape[1]) continue;
    const members = new Set(g.members.map((m) => m.id));
    const at = order.get(n.id)!;
    // every other operand must exist when the GEMM runs (a group's values exist once the group ran)
    const ready = g.members.every((m) =>
      m.inputs.every((id) => id === n.id || members.has(id) || uniformConstant(id) !== undefined || emittedAt(sourceOf(id)) < at),
    );
    if (!ready) continue;
    epilogueOf.set(n.id, g);
    fusedGroups.add(g);
    fusedInto.set(g, at);
  }

  // ── pass 2: steps ──────────────────────────────────────────────────────────────────────────
  let scratchBytes = 0;
  for (const n of p.nodes) {
    const g = groupOf.get(n.id);
    if (g !== undefined) {
      if (g.members[g.members.length - 1] === n && !fusedGroups.has(g)) emitGroup(g);
      continue;
    }
    switch (n.op) {
      case "reshape": {
        const s = slotOf(n.inputs[0]!);
        slots.set(n.id, { at: s.at, dtype: s.dtype, shape: n.shape });
        continue;
      }
      case "stopGradient": {
        const s = slotOf(n.inputs[0]!);
        slots.set(n.id, s);
        continue;
      }
      case "checkIndices":
        emitCheck(n);
        continue;
      case "transpose":
      case "broadcastTo":
        lazy.set(n.id, n);
        continue;
      case "matmul":
        if (isFloatNode(n) && emitMatmul(n)) continue;
        break;
      case "reduceSum":
      case "reduceMax":
        if (isFloatNode(n) && emitReduce(n)) continue;
        break;
      default:
        if (JS_ELEMENTWISE.has(n.op) && emitJsElementwise(n)) continue;
        break;
    }
    reference(n);
  }
  const outputSlots = p.outputs.map(slotOf);

  /** A group's operands (value ids, broadcast kinds), nodes and stored members; `product` is the fused GEMM's value. */
  function planGroup(g: Group, product?: number) {
    const members = new Set(g.members.map((m) => m.id));
    const operands: number[] = [];
    const kinds: OperandKind[] = [];
    const refOf = (id: number): EwRef => {
      if (id === product) {
        let k = operands.indexOf(-1);
        if (k < 0) {
          k = operands.push(-1) - 1;
          kinds.push("full");
        }
        return { operand: k };
      }
      if (members.has(id)) return { node: g.members.findIndex((m) => m.id === id) };
      const u = uniformConstant(id);
      if (u !== undefined) return { constant: u };
      const src = sourceOf(id);
      let k = operands.indexOf(src);
      if (k < 0) {
        k = operands.push(src) - 1;
        kinds.push(kindIn(id, g.shape)!);
      }
      return { operand: k };
    };
    const nodes = g.members.map((m) => ({ op: m.op as EwOp, args: m.inputs.map(refOf) }));
    const stores: number[] = [];
    g.members.forEach((m, j) => {
      if (outputs.has(m.id) || (consumers.get(m.id) ?? []).some((c) => !members.has(c.id))) stores.push(j);
    });
    return { operands, kinds, nodes, stores };
  }

  function emitGroup(g: Group): void {
    const { operands, kinds, nodes, stores } = planGroup(g);
    const flat = kinds.every((k) => k === "full" || k === "scalar");
    const inner = flat ? sizeOf(g.shape) : g.shape[g.shape.length - 1]!;
    const outer = flat ? 1 : sizeOf(g.shape) / inner;
    const spec: EwSpec = { dtype: g.dtype, outer, inner, operands: kinds, nodes, stores };
    const ins = operands.map(slotOf);
    const outs = stores.map((j) => alloc(g.members[j]!.id, g.dtype, g.shape));
    kernelSteps++;
    listing.push(
      `${outs.map((_, s) => `v${g.members[stores[s]!]!.id}`).join(", ")} = fused ${g.dtype}${JSON.stringify(g.shape)} ` +
        `[${g.members.map((m) => `v${m.id} = ${m.op}`).join(", ")}] [wasm]`,
    );
    const args = [...ins.map((s) => s.at), ...outs.map((s) => s.at)];
    steps.push((_arena, kernel) => {
      const f = kernel(ewKey(spec), () => ewFunction(spec, "k"));
      return { run: () => f(...args), warm: () => f(...args) };
    });
  }

  /** An op's data check on a value in memory (the ir kernel: same messages); the value passes through. */
  function emitCheck(n: PNode): void {
    const s = slotOf(n.inputs[0]!);
    slots.set(n.id, s);
    listing.push(`check v${n.inputs[0]} (${(n.params as Params<"checkIndices">).op}) [reference]`);
    steps.push((arena) => {
      const x = new Tensor(s.dtype, s.shape.slice(), arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape))));
      const aval = { shape: n.shape, dtype: n.dtype };
      return { run: () => void evalPrimitive("checkIndices", [x], n.params as Params<"checkIndices">, aval) };
    });
  }

  /** A small elementwise op the SIMD kernels do not take: a JavaScript loop on views of the memory. */
  function emitJsElementwise(n: PNode): boolean {
    const shape = n.shape;
    const kinds = n.inputs.map((id) => (shape.length === 0 ? "scalar" : kindIn(id, shape)));
    if (kinds.some((k) => k === undefined)) return false;
    const ks = kinds as OperandKind[];
    const flat = ks.every((k) => k === "full" || k === "scalar");
    const total = sizeOf(shape);
    const inner = shape.length === 0 ? 1 : flat ? total : shape[shape.length - 1]!;
    const outer = inner === 0 ? 0 : total / inner;
    const inDtype = avals.get(n.inputs[n.op === "where" ? 1 : 0]!)!.dtype;
    const loop = jsElementwiseLoop(n.op, ks, inDtype, n.dtype, n.params as Params, outer, inner);
    const ins = n.inputs.map((id) => slotOf(sourceOf(id)));
    const out = alloc(n.id, n.dtype, shape);
    jsSteps++;
    listing.push(`v${n.id} = ${n.op}(${n.inputs.map((i) => `v${i}`).join(", ")}) [js, ${n.dtype}${JSON.stringify(shape)}]`);
    steps.push((arena) => {
      const views = ins.map((s) => arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape))));
      const target = arena.view(out.dtype as never, out.at, Math.max(1, total));
      return { run: () => loop(target, ...views) };
    });
    return true;
  }

  /** The slot and transposition of a matmul operand (a transpose of the last two axes is folded). */
  function operand(id: number): { slot: Slot; transposed: boolean } {
    const t = lazy.get(id);
    if (t !== undefined && t.op === "transpose" && !slots.has(id)) {
      const perm = (t.params as { perm: number[] }).perm;
      const r = perm.length;
      if (r >= 2 && perm.every((q, i) => (i < r - 2 ? q === i : i === r - 2 ? q === r - 1 : q === r - 2))) {
        return { slot: slotOf(t.inputs[0]!), transposed: true };
      }
    }
    return { slot: slotOf(id), transposed: false };
  }

  function emitMatmul(n: PNode & { dtype: KernelDtype }): boolean {
    const r = n.shape.length;
    const batchShape = n.shape.slice(0, -2);
    const batch = sizeOf(batchShape);
    const m = n.shape[r - 2]!,
      nn = n.shape[r - 1]!;
    const A = operand(n.inputs[0]!),
      B = operand(n.inputs[1]!);
    const aShape = avals.get(n.inputs[0]!)!.shape,
      bShape = avals.get(n.inputs[1]!)!.shape;
    const k = aShape[aShape.length - 1]!;
    const stride = (shape: readonly number[], per: number): number | undefined => {
      const b = shape.slice(0, -2);
      if (sizeOf(b) === 1) return batch === 1 ? per : 0;
      const padded = [...Array<number>(batchShape.length - b.length).fill(1), ...b];
      return padded.every((d, i) => d === batchShape[i]) ? per : undefined;
    };
    const batchA = stride(aShape, m * k),
      batchB = stride(bShape, k * nn);
    if (batchA === undefined || batchB === undefined) return false;
    const fused = epilogueOf.get(n.id);
    let epilogue: GemmEpilogue | undefined;
    let out: Slot;
    if (fused !== undefined) {
      // the product is not stored: C's addresses only place the epilogue's operands (C at 0)
      const plan = planGroup(fused, n.id);
      const ins = plan.operands.map((id) => (id === -1 ? undefined : slotOf(id)));
      const outs = plan.stores.map((j) => alloc(fused.members[j]!.id, fused.dtype, fused.shape));
      epilogue = {
        cBase: 0,
        operands: plan.kinds.map((kind, i) => (plan.operands[i] === -1 ? { kind: "product" as const, at: 0 } : { kind, at: ins[i]!.at })),
        nodes: plan.nodes,
        stores: plan.stores.map((node, s) => ({ node, at: outs[s]!.at })),
      };
      out = { at: 0, dtype: n.dtype, shape: n.shape };
      listing.push(
        `${outs.map((_, s) => `v${fused.members[plan.stores[s]!]!.id}`).join(", ")} = epilogue of v${n.id} ` +
          `[${fused.members.map((m) => `v${m.id} = ${m.op}`).join(", ")}] (below)`,
      );
    } else out = alloc(n.id, n.dtype, n.shape);
    const base: GemmSpec = {
      dtype: n.dtype,
      m,
      n: nn,
      k,
      transA: A.transposed,
      transB: B.transposed,
      batch,
      batchA,
      batchB,
      batchC: m * nn,
      fma,
      ...(epilogue ? { epilogue } : {}),
    };
    // blocks of 2 panels of columns for two threads (1 panel, or 16 blocks, measured no faster)
    const cols = 2 * defaultTile(n.dtype, fma).vecs * (n.dtype === "float32" ? 4 : 2);
    const blocks = Math.floor(nn / cols);
    const parallel = pool !== undefined && batch === 1 && blocks >= 2 && m * nn * k >= MIN_PARALLEL_WORK;
    kernelSteps++;
    listing.push(
      `v${n.id} = gemm ${n.dtype} ${batch > 1 ? `${batch}×` : ""}${m}×${nn}×${k} ` +
        `${A.transposed ? "Aᵀ" : "A"}·${B.transposed ? "Bᵀ" : "B"}${fma ? " fma" : ""}${parallel ? " 2 threads" : ""} [wasm]`,
    );
    if (!parallel) {
      scratchBytes = Math.max(scratchBytes, gemmScratchBytes(base));
      steps.push((_arena, kernel) => {
        const f = kernel(gemmKey(base), () => gemmFunction(base, "k"));
        return { run: () => f(A.slot.at, B.slot.at, out.at, scratchAt), warm: () => f(A.slot.at, B.slot.at, out.at, scratchAt) };
      });
      return true;
    }
    // two threads: blocks of columns taken from a shared counter (each packs its own panels of B)
    const size = n.dtype === "float32" ? 4 : 8;
    const ldb = B.transposed ? k : nn;
    const block: GemmSpec = { ...base, n: cols, ldb, ldc: nn, packA: false };
    const rest = nn - blocks * cols;
    const tail: GemmSpec = { ...block, n: rest };
    const bStep = (B.transposed ? cols * k : cols) * size,
      cStep = cols * size;
    scratchBytes = Math.max(scratchBytes, gemmScratchBytes(block), gemmScratchBytes(tail));
    steps.push((arena, kernel) => {
      const f = kernel(gemmKey(block), () => gemmFunction(block, "k"));
      const g = rest > 0 ? kernel(gemmKey(tail), () => gemmFunction(tail, "k")) : undefined;
      const a = A.slot.at,
        b = B.slot.at,
        c = out.at;
      const job = pool!.job(arena, kernelModuleFor(block), "k", [a, b, c, scratch2At, bStep, cStep, blocks]);
      const all = () => {
        for (let i = 0; i < blocks; i++) f(a, b + i * bStep, c + i * cStep, scratchAt);
      };
      const last = () => g?.(a, b + blocks * bStep, c + blocks * cStep, scratchAt);
      return {
        run: () => {
          if (!job.start()) all();
          else {
            // the worker is taking blocks: the output arrays' page faults overlap with its work
            prepareOutputs();
            for (let i = job.next(); i < blocks; i = job.next()) f(a, b + i * bStep, c + i * cStep, scratchAt);
            // the worker was lost during the job: its blocks may be missing (every block again)
            if (!job.finish()) all();
          }
          last();
        },
        warm: () => {
          all();
          last();
        },
      };
    });
    return true;
  }

  function emitReduce(n: PNode & { dtype: KernelDtype }): boolean {
    const axes = [...(n.params as { axes: number[] }).axes].sort((x, y) => x - y);
    const x = n.inputs[0]!;
    if (axes.length === 0) {
      slots.set(n.id, { ...slotOf(x), shape: n.shape });
      return true;
    }
    if (!axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1)) return false;
    const shape = avals.get(x)!.shape;
    const outer = sizeOf(shape.slice(0, axes[0]!));
    const mid = sizeOf(shape.slice(axes[0]!, axes[axes.length - 1]! + 1));
    const inner = sizeOf(shape.slice(axes[axes.length - 1]! + 1));
    const src = slotOf(x);
    const out = alloc(n.id, n.dtype, n.shape);
    const spec = { dtype: n.dtype, op: n.op === "reduceSum" ? "sum" : "max", outer, mid, inner } as const;
    kernelSteps++;
    listing.push(`v${n.id} = ${spec.op} ${n.dtype} ${outer}×[${mid}]×${inner} of v${x} [wasm]`);
    steps.push((_arena, kernel) => {
      const f = kernel(reduceKey(spec), () => reduceFunction(spec, "k"));
      return { run: () => f(src.at, out.at), warm: () => f(src.at, out.at) };
    });
    return true;
  }

  // scratch for GEMM panels (one area per thread), then the memory
  const scratchAt = plan.reserve(scratchBytes);
  const scratch2At = pool ? plan.reserve(scratchBytes, 0, 128) : 0;
  if (!plan.fits) return undefined;
  const shared = pool !== undefined;
  const arena = plan.create(shared);
  for (const [slot, c] of constantFills) arena.view(slot.dtype as never, slot.at, Math.max(1, c.size)).set(c.data);

  const instances = new Map<string, KernelFn>();
  const fresh = new Set<string>();
  function kernelModuleFor(spec: GemmSpec) {
    return kernelModule(gemmKey(spec), shared, () => [gemmFunction(spec, "k")]);
  }
  const builders = new Map<string, () => FuncDef>();
  const kernel = (key: string, build: () => FuncDef): KernelFn => {
    let f = instances.get(key);
    if (f === undefined) {
      builders.set(key, build);
      const before = kernelModulesCompiled();
      const module = kernelModule(key, shared, () => [build()]);
      if (kernelModulesCompiled() > before) fresh.add(key);
      f = instantiate(module, arena.memory)["k"]!;
      instances.set(key, f);
    }
    return f;
  };
  const built = steps.map((s) => s(arena, kernel));
  const samples: number[][] = Array.from({ length: built.length + 2 }, () => []);
  const runs = built.map((b, i) => {
    if (!options.profile) return b.run;
    const r = b.run;
    return () => {
      const t0 = performance.now();
      r();
      samples[i]!.push(performance.now() - t0);
    };
  });
  // warm-up: a new kernel first runs on V8's baseline compiler; a few calls get it optimized
  if (fresh.size > 0) for (let w = 0; w < 3; w++) for (const b of built) b.warm?.();

  const inputViews = inputSlots.map((s) => arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape))));
  const inputRank0 = inputSlots.map((s) => s.shape.length === 0);
  const outputViews = outputSlots.map((s) => arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape))));
  const outputCtors = outputViews.map((v) => v.constructor as new (from: ArrayLike<number>) => typeof v);
  const outputRank0 = outputSlots.map((s) => s.shape.length === 0);
  const outputEmpty = outputSlots.map((s) => sizeOf(s.shape) === 0);
  const run = (...xs: unknown[]): unknown[] => runInto(xs, undefined);
  /** `run`, writing output j into `into[j]` where given (same typed-array type and length). */
  /**
   * New arrays for this call's outputs (none given by the caller), with one element per 4 KiB page
   * written: a new array's pages are fresh from the OS (~0.1 ms of page faults per 256 KiB in a
   * training loop). A two-thread GEMM calls this once the worker is taking blocks, so the faults
   * overlap with its work; the copies out then land in mapped pages.
   */
  let prepared: (ArrayLike<number> | undefined)[] | undefined;
  let given: readonly (ArrayLike<number> | undefined)[] | undefined;
  prepareOutputs = () => {
    if (prepared !== undefined) return;
    prepared = outputViews.map((v, j) => {
      if (outputRank0[j] || outputEmpty[j] || given?.[j] !== undefined) return undefined;
      const fresh = new (outputCtors[j] as unknown as new (length: number) => typeof v)(v.length);
      const stride = 4096 / fresh.BYTES_PER_ELEMENT;
      for (let i = 0; i < fresh.length; i += stride) fresh[i] = 0;
      return fresh;
    });
  };
  const runInto = (xs: readonly unknown[], into: readonly (ArrayLike<number> | undefined)[] | undefined): unknown[] => {
    prepared = undefined;
    given = into;
    const t0 = options.profile ? performance.now() : 0;
    for (let j = 0; j < inputViews.length; j++) {
      const v = inputViews[j]!;
      if (inputRank0[j]) v[0] = xs[j] as number;
      else v.set(xs[j] as ArrayLike<number>);
    }
    const t1 = options.profile ? performance.now() : 0;
    if (options.profile) samples[built.length]!.push(t1 - t0);
    for (let s = 0; s < runs.length; s++) runs[s]!();
    const t2 = options.profile ? performance.now() : 0;
    const out = new Array<unknown>(outputViews.length);
    for (let j = 0; j < outputViews.length; j++) {
      const v = outputViews[j]!;
      // a given buffer (donated): set() into memory in use; otherwise a new array. The typed-array
      // constructor copies a same-typed view ~2× faster than slice() (V8 12, 400 KB), but a new
      // array's pages are fresh from the OS: ~0.1 ms per 256 KB of page faults in a training loop
      const target = (into?.[j] ?? prepared?.[j]) as typeof v | undefined;
      if (target !== undefined) {
        target.set(v);
        out[j] = target;
      } else out[j] = outputRank0[j] ? v[0] : outputEmpty[j] ? v.slice(0, 0) : new outputCtors[j]!(v);
    }
    if (options.profile) samples[built.length + 1]!.push(performance.now() - t2);
    prepared = undefined;
    given = undefined;
    return out;
  };
  const source = [
    `// WebAssembly kernels: ${kernelSteps} kernel steps, ${jsSteps} JavaScript loops, ${steps.length - kernelSteps - jsSteps} ` +
      `reference steps, ${(arena.memory.buffer.byteLength / 1024).toFixed(0)} KiB${shared ? " shared" : ""}, ${threads} ` +
      `thread${threads > 1 ? "s" : ""}${fma ? ", relaxed-SIMD FMA" : ""}`,
    ...listing.map((l) => `// ${l}`),
    `// outputs: ${p.outputs.map((o) => `v${o}`).join(", ")}`,
  ].join("\n");
  kernelStats.programs++;
  const profile = () => {
    const median = (xs: number[]) => (xs.length === 0 ? 0 : xs.slice().sort((a, b) => a - b)[xs.length >> 1]!);
    // epilogue lines ("… (below)") run inside the GEMM step listed after them: no step of their own
    const stepLines = listing.filter((l) => !l.endsWith("(below)"));
    const text = [...stepLines, "input copies", "output copies"]
      .map((l, i) => `${(median(samples[i]!) * 1000).toFixed(1).padStart(8)} µs  ${l}`)
      .join("\n");
    for (const s of samples) s.length = 0;
    return text;
  };
  const wat = () => [...builders].map(([key, build]) => `;; ${key}\n${kernelWat([build()], shared)}`).join("\n\n");
  return { run, runInto, source, wat, bytes: arena.memory.buffer.byteLength, kernelSteps, threads, profile };
}
