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
 *   rows, columns or scalars, e.g. a bias), storing only the values read elsewhere; the groups,
 *   and which group runs as a GEMM's epilogue, come from the fusion plan both backends share
 *   (fusion.ts, with this backend's rules from operands.ts);
 * - sums and maxima over a contiguous block of axes → a reduction kernel;
 * - conv (and so its gradient convs) → a conv kernel (im2col + GEMM, conv.ts), one image per call,
 *   the images split between two threads;
 * - reshape is free (an alias), broadcastTo and transpose are folded into their consumers;
 * - other elementwise ops (comparisons, where, casts, f64 transcendentals) → a JavaScript loop
 *   built from the code generator's expressions, on views of the memory;
 * - anything else (gather, scatterAdd, concat, pad, slice, argmax, …) runs the ir reference
 *   kernel on views of the memory (correct for every op; allocates, so it is meant for the small
 *   side computations of a training step).
 *
 * Compilation runs in steps: plan the fusion groups, place every value in the memory while
 * planning one step per node (`ProgramPlanner`), then instantiate the memory and the kernels
 * (`instantiate`) and wrap the steps in the calling convention (`runner`).
 */
import { internalError, evalPrimitive, isFloat, sizeOf, Tensor, type DType, type Params } from "@chainrule/ir";
import { planFusion, type FusionGroup, type FusionPlan } from "../fusion.js";
import type { PNode, Program } from "../optimize.js";
import {
  type Arena,
  ArenaPlan,
  bytesOf,
  ewFunction,
  ewKey,
  type EwOp,
  type EwRef,
  type EwSpec,
  type OperandKind,
  wasmFeatures,
  defaultTile,
  gemmFunction,
  gemmKey,
  gemmScratchBytes,
  type GemmEpilogue,
  type GemmSpec,
  type KernelDtype,
  instantiate,
  kernelModule,
  kernelModulesCompiled,
  kernelWat,
  type KernelFn,
  type FuncDef,
  reduceFunction,
  reduceKey,
  type ThreadPool,
  threadPool,
} from "@chainrule/wasm";
import { convFunctions, convGeometry, convKey, type ConvSpec } from "./conv.js";
import { JS_ELEMENTWISE, jsElementwiseLoop } from "./js-elementwise.js";
import { Operands, wasmFusionRules } from "./operands.js";
import { poolLoop, poolPlan, type PoolMode } from "./pool.js";
import { broadcastCopy, copyFunction, copyKey, transposeCopy, type CopySpec } from "./transpose.js";

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

/** Ids of the copies the planner adds (past any node's id). */
const SYNTHETIC_IDS = 1 << 30;

/** Smallest GEMM (m·n·k) split across two threads. */
export const MIN_PARALLEL_WORK = 1 << 18;

function isFloatNode(n: PNode): n is PNode & { dtype: KernelDtype } {
  return isFloat(n.dtype);
}

interface Slot {
  readonly at: number;
  readonly dtype: DType;
  readonly shape: readonly number[];
}

/** What a step needs once the memory exists: the arena, the scratch areas and a kernel cache. */
interface StepEnv {
  readonly arena: Arena;
  /** The export "k" of the module `build` makes (one function, or several that "k" calls). */
  readonly kernel: (key: string, build: () => FuncDef | FuncDef[]) => KernelFn;
  /** GEMM panel scratch for the calling thread and for the worker. */
  readonly scratchAt: number;
  readonly scratch2At: number;
  /** The memory is shared with a worker. */
  readonly shared: boolean;
}

type StepBuilder = (env: StepEnv) => { run: () => void; warm?: () => void };

/** The typed-array view of a slot's elements (at least one, for rank-0 and empty values). */
function viewOf(arena: Arena, s: Slot) {
  return arena.view(s.dtype as never, s.at, Math.max(1, sizeOf(s.shape)));
}

/**
 * The program on kernels; undefined only when its values do not fit one WebAssembly memory
 * (1 GiB here), where the generated JavaScript runs it instead.
 */
export function compileKernelProgram(p: Program, options: KernelProgramOptions = {}): KernelProgram | undefined {
  const features = wasmFeatures();
  if (!features.simd) throw internalError("WebAssembly SIMD kernels requested but unavailable");
  const fma = options.fma !== false && features.relaxedFma;
  const pool: ThreadPool | undefined = (options.threads ?? 1) >= 2 && features.sharedMemory ? threadPool() : undefined;
  const planner = new ProgramPlanner(p, fma, pool);
  planner.planSteps();
  const outputSlots = p.outputs.map((id) => planner.slotOf(id));
  const memory = planner.reserveScratch();
  if (memory === undefined) return undefined;
  const program = instantiateProgram(planner, memory);
  const calls = runner(planner, program, inputSlotsOf(planner, p), outputSlots, options);
  const threads = pool ? 2 : 1;
  const source = [
    `// WebAssembly kernels: ${planner.kernelSteps} kernel steps, ${planner.jsSteps} JavaScript loops, ` +
      `${planner.steps.length - planner.kernelSteps - planner.jsSteps} ` +
      `reference steps, ${(program.arena.memory.buffer.byteLength / 1024).toFixed(0)} KiB${memory.shared ? " shared" : ""}, ${threads} ` +
      `thread${threads > 1 ? "s" : ""}${fma ? ", relaxed-SIMD FMA" : ""}`,
    ...planner.listing.map((l) => `// ${l}`),
    `// outputs: ${p.outputs.map((o) => `v${o}`).join(", ")}`,
  ].join("\n");
  kernelStats.programs++;
  const wat = () => [...program.builders].map(([key, build]) => `;; ${key}\n${kernelWat(build(), memory.shared)}`).join("\n\n");
  const bytes = program.arena.memory.buffer.byteLength;
  return { ...calls, source, wat, bytes, kernelSteps: planner.kernelSteps, threads };
}

function inputSlotsOf(planner: ProgramPlanner, p: Program): Slot[] {
  return p.inputs.map((i) => planner.slotOf(i.id));
}

/** Places every value in the memory and plans one step per node (or per fused group). */
class ProgramPlanner {
  readonly plan = new ArenaPlan();
  readonly steps: StepBuilder[] = [];
  readonly listing: string[] = [];
  kernelSteps = 0;
  jsSteps = 0;
  /** GEMM panel scratch bytes per thread (the largest any GEMM step needs). */
  scratchBytes = 0;
  /** Set once the outputs are known: new output arrays, allocated and their pages touched (see `runner`). */
  prepareOutputs: () => void = () => {};
  readonly constantFills: [Slot, Tensor][] = [];
  /** Tables written into the memory once it exists (the conv kernels' offsets, at each of their scratch areas). */
  readonly tableFills: [at: number, words: Int32Array][] = [];
  private readonly slots = new Map<number, Slot>();
  /** Values computed lazily (transpose, broadcastTo): folded into consumers, or copied on demand. */
  private readonly lazy = new Map<number, PNode>();
  private readonly operands: Operands;
  private readonly fusion: FusionPlan;
  /** Groups that run inside a GEMM's stores (not emitted on their own). */
  private readonly epilogueGroups: Set<FusionGroup>;
  private readonly consumers = new Map<number, PNode[]>();
  private readonly outputs: Set<number>;

  constructor(
    private readonly p: Program,
    private readonly fma: boolean,
    private readonly pool: ThreadPool | undefined,
  ) {
    this.operands = new Operands(p);
    for (const n of p.nodes) for (const id of n.inputs) (this.consumers.get(id) ?? this.consumers.set(id, []).get(id)!).push(n);
    this.outputs = new Set(p.outputs);
    for (const i of p.inputs) this.alloc(i.id, i.dtype, i.shape);
    for (const [id, c] of p.constants) this.constantFills.push([this.alloc(id, c.dtype, c.shape), c]);
    this.fusion = planFusion(p, wasmFusionRules(this.operands));
    this.epilogueGroups = new Set(this.fusion.epilogues.values());
  }

  alloc(id: number, dtype: DType, shape: readonly number[]): Slot {
    // 16 spare bytes: a partial vector at the end of a row may read (never write) past it
    const slot = { at: this.plan.reserve(bytesOf(dtype, Math.max(1, sizeOf(shape))), 16), dtype, shape };
    this.slots.set(id, slot);
    return slot;
  }

  /** Where value `id` is (a lazy value is computed on first demand: a transpose kernel, or a reference step). */
  slotOf(id: number): Slot {
    const s = this.slots.get(id);
    if (s !== undefined) return s;
    const n = this.lazy.get(id);
    if (n === undefined) throw internalError(`value ${id} has no location`);
    if (!this.emitCopy(n)) this.reference(n);
    return this.slots.get(id)!;
  }

  /** Broadcast copies made for operands no kernel reads as a row, column or scalar, by "id:shape" → their value id. */
  private readonly broadcasts = new Map<string, number>();
  private synthetic = SYNTHETIC_IDS;

  /** An id for a value the planner adds (a broadcast or transposed copy), past every node's. */
  private syntheticId(): number {
    return this.synthetic++;
  }

  /**
   * The value a kernel reads for operand `id` in iteration `shape`: its broadcast source, or (an
   * operand no kind fits, see Operands.needsBroadcast) a copy of the source broadcast to `shape`,
   * made once by a copy kernel.
   */
  private readId(id: number, shape: readonly number[]): number {
    const source = this.operands.sourceOf(id);
    if (!this.operands.needsBroadcast(id, shape)) return source;
    const key = `${source}:${shape.join(",")}`;
    let copy = this.broadcasts.get(key);
    if (copy === undefined) {
      copy = this.syntheticId();
      this.broadcasts.set(key, copy);
      const src = this.slotOf(source);
      const n: PNode = {
        id: copy,
        op: "broadcastTo",
        inputs: [source],
        params: { shape: shape.slice() },
        shape,
        dtype: src.dtype,
      } as PNode;
      if (!this.emitCopy(n)) this.reference(n);
    }
    return copy;
  }

  /**
   * A transpose or broadcastTo no consumer folds: a strided copy kernel (false for 1-byte elements:
   * the reference kernel).
   */
  private emitCopy(n: PNode): boolean {
    const size = bytesOf(n.dtype as never, 1);
    if (size !== 4 && size !== 8) return false;
    const src = this.slotOf(n.inputs[0]!);
    const perm = n.op === "transpose" ? (n.params as Params<"transpose">).perm : undefined;
    const spec: CopySpec = perm ? transposeCopy({ size, shape: src.shape, perm }) : broadcastCopy(size, src.shape, n.shape);
    const out = this.alloc(n.id, n.dtype, n.shape);
    const what = perm ? `transposed by ${JSON.stringify(perm)}` : `broadcast to ${JSON.stringify(n.shape)}`;
    this.kernelSteps++;
    this.listing.push(`v${n.id} = copy ${n.dtype} ${JSON.stringify(src.shape)} ${what} of v${n.inputs[0]} [wasm]`);
    this.steps.push(({ kernel }) => {
      const f = kernel(copyKey(spec), () => copyFunction(spec, "k"));
      return { run: () => f(src.at, out.at), warm: () => f(src.at, out.at) };
    });
    return true;
  }

  /** The GEMM scratch areas (one per thread), then whether the memory fits (undefined: it does not). */
  reserveScratch(): { scratchAt: number; scratch2At: number; shared: boolean } | undefined {
    const scratchAt = this.plan.reserve(this.scratchBytes);
    const scratch2At = this.pool ? this.plan.reserve(this.scratchBytes, 0, 128) : 0;
    return this.plan.fits ? { scratchAt, scratch2At, shared: this.pool !== undefined } : undefined;
  }

  /** One step per node, in program order; a fused group's step comes at its last member. */
  planSteps(): void {
    for (const n of this.p.nodes) {
      const g = this.fusion.groupOf.get(n.id);
      if (g !== undefined) {
        if (this.fusion.completes.get(n.id) === g && !this.epilogueGroups.has(g)) this.emitGroup(g);
        continue;
      }
      if (!this.emitNode(n)) this.reference(n);
    }
  }

  /** A node outside the fusion groups: an alias, a lazy view or a kernel (false: the reference kernel runs it). */
  private emitNode(n: PNode): boolean {
    switch (n.op) {
      case "reshape": {
        const s = this.slotOf(n.inputs[0]!);
        this.slots.set(n.id, { at: s.at, dtype: s.dtype, shape: n.shape });
        return true;
      }
      case "stopGradient":
        this.slots.set(n.id, this.slotOf(n.inputs[0]!));
        return true;
      case "checkIndices":
        this.emitCheck(n);
        return true;
      case "transpose":
      case "broadcastTo":
        this.lazy.set(n.id, n);
        return true;
      case "matmul":
        return isFloatNode(n) && this.emitMatmul(n);
      case "reduceSum":
      case "reduceMax":
        return isFloatNode(n) && this.emitReduce(n);
      case "conv":
        return isFloatNode(n) && this.emitConv(n);
      case "reduceWindowSum":
      case "reduceWindowMax":
      case "reduceWindowSumTranspose":
      case "selectAndGatherAdd":
      case "selectAndScatterAdd":
        return isFloatNode(n) && this.emitPool(n);
      default:
        return JS_ELEMENTWISE.has(n.op) && this.emitJsElementwise(n);
    }
  }

  /** A reference step: the ir kernel on views of the memory, its result copied into the node's slot. */
  private reference(n: PNode): void {
    const ins = n.inputs.map((id) => this.slotOf(id));
    const out = this.alloc(n.id, n.dtype, n.shape);
    this.listing.push(`v${n.id} = ${n.op}(${n.inputs.map((i) => `v${i}`).join(", ")}) [reference, ${n.dtype}${JSON.stringify(n.shape)}]`);
    this.steps.push(({ arena }) => {
      const tensors = ins.map((s) => new Tensor(s.dtype, s.shape.slice(), viewOf(arena, s)));
      const target = viewOf(arena, out);
      const aval = { shape: n.shape, dtype: n.dtype };
      return {
        run: () => {
          const r = evalPrimitive(n.op, tensors, n.params as Params, aval);
          target.set(r.data);
        },
      };
    });
  }

  /** An op's data check on a value in memory (the ir kernel: same messages); the value passes through. */
  private emitCheck(n: PNode): void {
    const s = this.slotOf(n.inputs[0]!);
    this.slots.set(n.id, s);
    this.listing.push(`check v${n.inputs[0]} (${(n.params as Params<"checkIndices">).op}) [reference]`);
    this.steps.push(({ arena }) => {
      const x = new Tensor(s.dtype, s.shape.slice(), viewOf(arena, s));
      const aval = { shape: n.shape, dtype: n.dtype };
      return { run: () => void evalPrimitive("checkIndices", [x], n.params as Params<"checkIndices">, aval) };
    });
  }

  /** A group's operands (value ids, broadcast kinds), nodes and stored members; `product` is the fused GEMM's value. */
  private kernelOperands(g: FusionGroup, product?: number) {
    const members = new Set(g.members.map((m) => m.id));
    const operands: number[] = [];
    const kinds: OperandKind[] = [];
    const add = (source: number, kind: OperandKind): EwRef => {
      let k = operands.indexOf(source);
      if (k < 0) {
        k = operands.push(source) - 1;
        kinds.push(kind);
      }
      return { operand: k };
    };
    const refOf = (id: number): EwRef => {
      if (id === product) return add(-1, "full");
      if (members.has(id)) return { node: g.members.findIndex((m) => m.id === id) };
      const u = this.operands.uniformConstant(id);
      if (u !== undefined) return { constant: u };
      return add(this.readId(id, g.shape), this.operands.kindIn(id, g.shape)!);
    };
    const nodes = g.members.map((m) => ({ op: m.op as EwOp, args: m.inputs.map(refOf) }));
    const stores: number[] = [];
    g.members.forEach((m, j) => {
      if (g.stored.has(m.id)) stores.push(j);
    });
    return { operands, kinds, nodes, stores };
  }

  /** A fused group: one SIMD kernel over its shape (rows when an operand broadcasts as a row or column). */
  private emitGroup(g: FusionGroup): void {
    const dtype = g.members[0]!.dtype as KernelDtype;
    const { operands, kinds, nodes, stores } = this.kernelOperands(g);
    const flat = kinds.every((k) => k === "full" || k === "scalar");
    const inner = flat ? sizeOf(g.shape) : g.shape[g.shape.length - 1]!;
    const outer = flat ? 1 : sizeOf(g.shape) / inner;
    const spec: EwSpec = { dtype, outer, inner, operands: kinds, nodes, stores };
    const ins = operands.map((id) => this.slotOf(id));
    const outs = stores.map((j) => this.alloc(g.members[j]!.id, dtype, g.shape));
    this.kernelSteps++;
    this.listing.push(
      `${outs.map((_, s) => `v${g.members[stores[s]!]!.id}`).join(", ")} = fused ${dtype}${JSON.stringify(g.shape)} ` +
        `[${g.members.map((m) => `v${m.id} = ${m.op}`).join(", ")}] [wasm]`,
    );
    const args = [...ins.map((s) => s.at), ...outs.map((s) => s.at)];
    this.steps.push(({ kernel }) => {
      const f = kernel(ewKey(spec), () => ewFunction(spec, "k"));
      return { run: () => f(...args), warm: () => f(...args) };
    });
  }

  /** A small elementwise op the SIMD kernels do not take: a JavaScript loop on views of the memory. */
  private emitJsElementwise(n: PNode): boolean {
    const shape = n.shape;
    const kinds = n.inputs.map((id) => (shape.length === 0 ? "scalar" : this.operands.kindIn(id, shape)));
    if (kinds.some((k) => k === undefined)) return false;
    const ks = kinds as OperandKind[];
    const flat = ks.every((k) => k === "full" || k === "scalar");
    const total = sizeOf(shape);
    const inner = shape.length === 0 ? 1 : flat ? total : shape[shape.length - 1]!;
    const outer = inner === 0 ? 0 : total / inner;
    const inDtype = this.operands.aval(n.inputs[n.op === "where" ? 1 : 0]!).dtype;
    const loop = jsElementwiseLoop(n.op, ks, inDtype, n.dtype, n.params as Params, outer, inner);
    const ins = n.inputs.map((id) => this.slotOf(this.readId(id, shape)));
    const out = this.alloc(n.id, n.dtype, shape);
    this.jsSteps++;
    this.listing.push(`v${n.id} = ${n.op}(${n.inputs.map((i) => `v${i}`).join(", ")}) [js, ${n.dtype}${JSON.stringify(shape)}]`);
    this.steps.push(({ arena }) => {
      const views = ins.map((s) => viewOf(arena, s));
      const target = arena.view(out.dtype as never, out.at, Math.max(1, total));
      return { run: () => loop(target, ...views) };
    });
    return true;
  }

  /** A sum or maximum over a contiguous block of axes: a reduction kernel (false: the reference kernel). */
  private emitReduce(n: PNode & { dtype: KernelDtype }): boolean {
    const axes = [...(n.params as { axes: number[] }).axes].sort((x, y) => x - y);
    const x = n.inputs[0]!;
    if (axes.length === 0) {
      this.slots.set(n.id, { ...this.slotOf(x), shape: n.shape });
      return true;
    }
    let shape = this.operands.aval(x).shape;
    let src: Slot;
    let [first, last] = [axes[0]!, axes[axes.length - 1]!];
    if (axes.every((a, i) => i === 0 || a === axes[i - 1]! + 1)) src = this.slotOf(x);
    else {
      // reduced axes apart (a pooling window's, a bias gradient's N, H, W): a transposed copy puts them last
      const kept = shape.map((_, a) => a).filter((a) => !axes.includes(a));
      const perm = [...kept, ...axes];
      const moved = perm.map((a) => shape[a]!);
      const t: PNode = { id: this.syntheticId(), op: "transpose", inputs: [x], params: { perm }, shape: moved, dtype: n.dtype } as PNode;
      if (!this.emitCopy(t)) return false;
      src = this.slotOf(t.id);
      shape = moved;
      [first, last] = [kept.length, shape.length - 1];
    }
    const outer = sizeOf(shape.slice(0, first));
    const mid = sizeOf(shape.slice(first, last + 1));
    const inner = sizeOf(shape.slice(last + 1));
    const out = this.alloc(n.id, n.dtype, n.shape);
    const spec = { dtype: n.dtype, op: n.op === "reduceSum" ? "sum" : "max", outer, mid, inner } as const;
    this.kernelSteps++;
    this.listing.push(`v${n.id} = ${spec.op} ${n.dtype} ${outer}×[${mid}]×${inner} of v${x} [wasm]`);
    this.steps.push(({ kernel }) => {
      const f = kernel(reduceKey(spec), () => reduceFunction(spec, "k"));
      return { run: () => f(src.at, out.at), warm: () => f(src.at, out.at) };
    });
    return true;
  }

  /** A window reduction or its derivative (pooling): a JavaScript loop over tabulated window cells (pool.ts). */
  private emitPool(n: PNode): boolean {
    const modes: Record<string, PoolMode> = {
      reduceWindowSum: "sum",
      reduceWindowMax: "max",
      reduceWindowSumTranspose: "sumTranspose",
      selectAndGatherAdd: "maxGather",
      selectAndScatterAdd: "maxScatter",
    };
    const mode = modes[n.op]!;
    const p = n.params as Params<"reduceWindowMax">;
    const t = n.inputs[0]!;
    const x = n.inputs[1];
    // the windows slide over x (or, for the scatters, over the output)
    const scatter = mode === "sumTranspose" || mode === "maxScatter";
    const xShape = scatter ? n.shape : this.operands.aval(x ?? t).shape;
    const windowsShape = scatter ? this.operands.aval(t).shape : n.shape;
    const plan = poolPlan(xShape, windowsShape, p.window, p.strides, p.padding);
    if (plan === undefined) return false;
    const loop = poolLoop(mode, plan);
    const ts = this.slotOf(t);
    const xs = x === undefined ? ts : this.slotOf(x);
    const out = this.alloc(n.id, n.dtype, n.shape);
    this.jsSteps++;
    this.listing.push(
      `v${n.id} = ${n.op}(${n.inputs.map((i) => `v${i}`).join(", ")}) [js, tabulated windows, ${n.dtype}${JSON.stringify(n.shape)}]`,
    );
    this.steps.push(({ arena }) => {
      const [tv, xv, ov] = [viewOf(arena, ts), viewOf(arena, xs), viewOf(arena, out)];
      return { run: () => loop(tv, xv, ov) };
    });
    return true;
  }

  /**
   * A conv step: the conv kernel once per image (x and the output advance by one image's bytes),
   * the images taken from a shared counter by two threads when the work is large enough. Each
   * thread has a scratch area of its own, its offset tables written in when the memory is made.
   */
  private emitConv(n: PNode & { dtype: KernelDtype }): boolean {
    const p = n.params as Params<"conv">;
    const xShape = this.operands.aval(n.inputs[0]!).shape;
    const wShape = this.operands.aval(n.inputs[1]!).shape;
    const images = xShape[0]!;
    const spec: ConvSpec = {
      dtype: n.dtype,
      inChannels: xShape[1]!,
      outChannels: wShape[0]!,
      groups: p.groups,
      inShape: xShape.slice(2),
      kernel: wShape.slice(2),
      strides: p.strides,
      padding: p.padding,
      lhsDilation: p.lhsDilation,
      rhsDilation: p.rhsDilation,
      fma: this.fma,
    };
    const geo = convGeometry(spec);
    const x = this.slotOf(n.inputs[0]!);
    const w = this.slotOf(n.inputs[1]!);
    const out = this.alloc(n.id, n.dtype, n.shape);
    const work = images * spec.outChannels * geo.P * geo.K;
    const parallel = this.pool !== undefined && images >= 2 && work >= MIN_PARALLEL_WORK;
    const scratch = [this.plan.reserve(geo.scratchBytes)];
    if (parallel) scratch.push(this.plan.reserve(geo.scratchBytes, 0, 128));
    for (const at of scratch) this.tableFills.push([at, geo.table]);
    const xStep = sizeOf(xShape.slice(1)) * geo.size;
    const outStep = sizeOf(n.shape.slice(1)) * geo.size;
    this.kernelSteps++;
    this.listing.push(
      `v${n.id} = conv ${n.dtype} ${images}× [${spec.inChannels}${JSON.stringify(spec.inShape)} → ${spec.outChannels}` +
        `${JSON.stringify(geo.out)}] of v${n.inputs[0]}, v${n.inputs[1]}: im2col ${geo.contiguous ? "rows" : "gathered"} ` +
        `K ${geo.K} + gemm${spec.fma ? " fma" : ""}${parallel ? " 2 threads" : ""} [wasm]`,
    );
    if (images === 0 || sizeOf(n.shape) === 0) return true;
    const pool = this.pool;
    this.steps.push(({ arena, kernel, shared }) => {
      const build = () => convFunctions(spec, "k");
      const f = kernel(convKey(spec), build);
      const all = () => {
        for (let i = 0; i < images; i++) f(w.at, x.at + i * xStep, out.at + i * outStep, scratch[0]!);
      };
      if (!parallel) return { run: all, warm: all };
      const module = kernelModule(convKey(spec), shared, build);
      const job = pool!.job(arena, module, "k", [w.at, x.at, out.at, scratch[1]!, xStep, outStep, images]);
      return {
        run: () => {
          if (!job.start()) return all();
          this.prepareOutputs();
          for (let i = job.next(); i < images; i = job.next()) f(w.at, x.at + i * xStep, out.at + i * outStep, scratch[0]!);
          // the worker was lost during the job: its images may be missing (every image again)
          if (!job.finish()) all();
        },
        warm: all,
      };
    });
    return true;
  }

  /** The slot and transposition of a matmul operand (a transpose of the last two axes is folded). */
  private matmulOperand(id: number): { slot: Slot; transposed: boolean } {
    const t = this.lazy.get(id);
    if (t !== undefined && t.op === "transpose" && !this.slots.has(id)) {
      const perm = (t.params as { perm: number[] }).perm;
      const r = perm.length;
      if (r >= 2 && perm.every((q, i) => (i < r - 2 ? q === i : i === r - 2 ? q === r - 1 : q === r - 2))) {
        return { slot: this.slotOf(t.inputs[0]!), transposed: true };
      }
    }
    return { slot: this.slotOf(id), transposed: false };
  }

  /** A GEMM step (its epilogue group in its stores, if any); false when an operand's batch does not broadcast. */
  private emitMatmul(n: PNode & { dtype: KernelDtype }): boolean {
    const r = n.shape.length;
    const batchShape = n.shape.slice(0, -2);
    const batch = sizeOf(batchShape);
    const m = n.shape[r - 2]!;
    const nn = n.shape[r - 1]!;
    const A = this.matmulOperand(n.inputs[0]!);
    const B = this.matmulOperand(n.inputs[1]!);
    const aShape = this.operands.aval(n.inputs[0]!).shape;
    const bShape = this.operands.aval(n.inputs[1]!).shape;
    const k = aShape[aShape.length - 1]!;
    const stride = (shape: readonly number[], per: number): number | undefined => {
      const b = shape.slice(0, -2);
      if (sizeOf(b) === 1) return batch === 1 ? per : 0;
      const padded = [...Array<number>(batchShape.length - b.length).fill(1), ...b];
      return padded.every((d, i) => d === batchShape[i]) ? per : undefined;
    };
    const batchA = stride(aShape, m * k);
    const batchB = stride(bShape, k * nn);
    if (batchA === undefined || batchB === undefined) return false;
    const fused = this.fusion.epilogues.get(n.id);
    const { epilogue, out } =
      fused !== undefined ? this.epilogue(n, fused) : { epilogue: undefined, out: this.alloc(n.id, n.dtype, n.shape) };
    const { fma } = this;
    const spec: GemmSpec = {
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
    };
    const base: GemmSpec = epilogue ? { ...spec, epilogue } : spec;
    // blocks of 2 panels of columns for two threads (1 panel, or 16 blocks, measured no faster)
    const cols = 2 * defaultTile(n.dtype, fma).vecs * (n.dtype === "float32" ? 4 : 2);
    const parallel = this.pool !== undefined && batch === 1 && Math.floor(nn / cols) >= 2 && m * nn * k >= MIN_PARALLEL_WORK;
    this.kernelSteps++;
    this.listing.push(
      `v${n.id} = gemm ${n.dtype} ${batch > 1 ? `${batch}×` : ""}${m}×${nn}×${k} ` +
        `${A.transposed ? "Aᵀ" : "A"}·${B.transposed ? "Bᵀ" : "B"}${fma ? " fma" : ""}${parallel ? " 2 threads" : ""} [wasm]`,
    );
    const at = { a: A.slot.at, b: B.slot.at, c: out.at };
    if (parallel) this.twoThreadGemm(base, cols, B.transposed, at);
    else this.oneThreadGemm(base, at);
    return true;
  }

  /** The epilogue of a GEMM: the group's kernel nodes on the product (not stored: C's addresses only place the operands, C at 0). */
  private epilogue(n: PNode & { dtype: KernelDtype }, fused: FusionGroup): { epilogue: GemmEpilogue; out: Slot } {
    const plan = this.kernelOperands(fused, n.id);
    const ins = plan.operands.map((id) => (id === -1 ? undefined : this.slotOf(id)));
    const outs = plan.stores.map((j) => this.alloc(fused.members[j]!.id, n.dtype, fused.shape));
    const epilogue: GemmEpilogue = {
      cBase: 0,
      operands: plan.kinds.map((kind, i) => (plan.operands[i] === -1 ? { kind: "product" as const, at: 0 } : { kind, at: ins[i]!.at })),
      nodes: plan.nodes,
      stores: plan.stores.map((node, s) => ({ node, at: outs[s]!.at })),
    };
    this.listing.push(
      `${outs.map((_, s) => `v${fused.members[plan.stores[s]!]!.id}`).join(", ")} = epilogue of v${n.id} ` +
        `[${fused.members.map((m) => `v${m.id} = ${m.op}`).join(", ")}] (below)`,
    );
    return { epilogue, out: { at: 0, dtype: n.dtype, shape: n.shape } };
  }

  private oneThreadGemm(spec: GemmSpec, at: { a: number; b: number; c: number }): void {
    this.scratchBytes = Math.max(this.scratchBytes, gemmScratchBytes(spec));
    this.steps.push(({ kernel, scratchAt }) => {
      const f = kernel(gemmKey(spec), () => gemmFunction(spec, "k"));
      return { run: () => f(at.a, at.b, at.c, scratchAt), warm: () => f(at.a, at.b, at.c, scratchAt) };
    });
  }

  /** Two threads: blocks of `cols` columns taken from a shared counter (each thread packs its own panels of B). */
  private twoThreadGemm(base: GemmSpec, cols: number, transB: boolean, { a, b, c }: { a: number; b: number; c: number }): void {
    const { k, n: nn } = base;
    const blocks = Math.floor(nn / cols);
    const size = base.dtype === "float32" ? 4 : 8;
    const block: GemmSpec = { ...base, n: cols, ldb: transB ? k : nn, ldc: nn, packA: false };
    const rest = nn - blocks * cols;
    const tail: GemmSpec = { ...block, n: rest };
    const bStep = (transB ? cols * k : cols) * size;
    const cStep = cols * size;
    this.scratchBytes = Math.max(this.scratchBytes, gemmScratchBytes(block), gemmScratchBytes(tail));
    const pool = this.pool!;
    this.steps.push(({ arena, kernel, scratchAt, scratch2At, shared }) => {
      const f = kernel(gemmKey(block), () => gemmFunction(block, "k"));
      const g = rest > 0 ? kernel(gemmKey(tail), () => gemmFunction(tail, "k")) : undefined;
      const module = kernelModule(gemmKey(block), shared, () => [gemmFunction(block, "k")]);
      const job = pool.job(arena, module, "k", [a, b, c, scratch2At, bStep, cStep, blocks]);
      const all = () => {
        for (let i = 0; i < blocks; i++) f(a, b + i * bStep, c + i * cStep, scratchAt);
      };
      const last = () => g?.(a, b + blocks * bStep, c + blocks * cStep, scratchAt);
      return {
        run: () => {
          if (!job.start()) all();
          else {
            // the worker is taking blocks: the output arrays' page faults overlap with its work
            this.prepareOutputs();
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
  }
}

interface Instantiated {
  readonly arena: Arena;
  readonly built: { run: () => void; warm?: () => void }[];
  /** Builders of every kernel the program runs, by cache key (for `wat()`). */
  readonly builders: Map<string, () => FuncDef[]>;
}

/** Creates the memory (constants filled in), instantiates each step's kernels and warms new ones up. */
function instantiateProgram(planner: ProgramPlanner, memory: { scratchAt: number; scratch2At: number; shared: boolean }): Instantiated {
  const arena = planner.plan.create(memory.shared);
  for (const [slot, c] of planner.constantFills) arena.view(slot.dtype as never, slot.at, Math.max(1, c.size)).set(c.data);
  for (const [at, words] of planner.tableFills) arena.i32(at, words.length).set(words);
  const instances = new Map<string, KernelFn>();
  const fresh = new Set<string>();
  const builders = new Map<string, () => FuncDef[]>();
  const kernel = (key: string, build: () => FuncDef | FuncDef[]): KernelFn => {
    let f = instances.get(key);
    if (f === undefined) {
      const funcs = () => {
        const built = build();
        return Array.isArray(built) ? built : [built];
      };
      builders.set(key, funcs);
      const before = kernelModulesCompiled();
      const module = kernelModule(key, memory.shared, funcs);
      if (kernelModulesCompiled() > before) fresh.add(key);
      f = instantiate(module, arena.memory)["k"]!;
      instances.set(key, f);
    }
    return f;
  };
  const built = planner.steps.map((s) => s({ arena, kernel, ...memory }));
  // warm-up: a new kernel first runs on V8's baseline compiler; a few calls get it optimized
  if (fresh.size > 0) for (let w = 0; w < 3; w++) for (const b of built) b.warm?.();
  return { arena, built, builders };
}

type Calls = Pick<KernelProgram, "run" | "runInto" | "profile">;

/**
 * The calling convention: inputs copied into the memory, the steps run, outputs copied out (into
 * given arrays, or new ones); with `profile`, every step and copy timed.
 */
function runner(
  planner: ProgramPlanner,
  program: Instantiated,
  inputSlots: Slot[],
  outputSlots: Slot[],
  options: KernelProgramOptions,
): Calls {
  const { arena, built } = program;
  const samples: number[][] = Array.from({ length: built.length + 2 }, () => []);
  const runs = built.map((b, i) => (options.profile ? timed(b.run, samples[i]!) : b.run));
  const inputViews = inputSlots.map((s) => viewOf(arena, s));
  const inputRank0 = inputSlots.map((s) => s.shape.length === 0);
  const outputs = outputCopier(arena, outputSlots);
  planner.prepareOutputs = outputs.prepare;
  const runInto = (xs: readonly unknown[], into: readonly (ArrayLike<number> | undefined)[] | undefined): unknown[] => {
    outputs.begin(into);
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
    const out = outputs.copy(into);
    if (options.profile) samples[built.length + 1]!.push(performance.now() - t2);
    return out;
  };
  const run = (...xs: unknown[]): unknown[] => runInto(xs, undefined);
  return { run, runInto, profile: () => profileReport(planner.listing, samples) };
}

function timed(run: () => void, samples: number[]): () => void {
  return () => {
    const t0 = performance.now();
    run();
    samples.push(performance.now() - t0);
  };
}

/** Median µs per step (listing order), input and output copies, since the last report. */
function profileReport(listing: readonly string[], samples: number[][]): string {
  const median = (xs: number[]) => (xs.length === 0 ? 0 : xs.slice().sort((a, b) => a - b)[xs.length >> 1]!);
  // epilogue lines ("… (below)") run inside the GEMM step listed after them: no step of their own
  const stepLines = listing.filter((l) => !l.endsWith("(below)"));
  const text = [...stepLines, "input copies", "output copies"]
    .map((l, i) => `${(median(samples[i]!) * 1000).toFixed(1).padStart(8)} µs  ${l}`)
    .join("\n");
  for (const s of samples) s.length = 0;
  return text;
}

/**
 * Copies of the outputs out of the memory. `prepare` makes new arrays for this call's outputs
 * (none given by the caller), with one element per 4 KiB page written: a new array's pages are
 * fresh from the OS (~0.1 ms of page faults per 256 KiB in a training loop). A two-thread GEMM
 * calls it once the worker is taking blocks, so the faults overlap with its work; the copies out
 * then land in mapped pages.
 */
function outputCopier(arena: Arena, outputSlots: Slot[]) {
  const outputViews = outputSlots.map((s) => viewOf(arena, s));
  const outputCtors = outputViews.map((v) => v.constructor as new (from: ArrayLike<number>) => typeof v);
  const outputRank0 = outputSlots.map((s) => s.shape.length === 0);
  const outputEmpty = outputSlots.map((s) => sizeOf(s.shape) === 0);
  let prepared: (ArrayLike<number> | undefined)[] | undefined;
  let given: readonly (ArrayLike<number> | undefined)[] | undefined;
  const prepare = () => {
    if (prepared !== undefined) return;
    prepared = outputViews.map((v, j) => {
      if (outputRank0[j] || outputEmpty[j] || given?.[j] !== undefined) return undefined;
      const fresh = new (outputCtors[j] as unknown as new (length: number) => typeof v)(v.length);
      const stride = 4096 / fresh.BYTES_PER_ELEMENT;
      for (let i = 0; i < fresh.length; i += stride) fresh[i] = 0;
      return fresh;
    });
  };
  const begin = (into: readonly (ArrayLike<number> | undefined)[] | undefined) => {
    prepared = undefined;
    given = into;
  };
  const copy = (into: readonly (ArrayLike<number> | undefined)[] | undefined): unknown[] => {
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
    prepared = undefined;
    given = undefined;
    return out;
  };
  return { prepare, begin, copy };
}
