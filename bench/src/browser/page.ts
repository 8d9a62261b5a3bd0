/**
 * The benchmark page, bundled by Vite (bundle.ts) and run in headless Chromium: the bench's own
 * row builders — the W3 whole step exactly as impls/jit-kernels.ts `wholeStepTrainer` builds it
 * (valueAndGrad of mlpLoss and the SGD update in one `jit` with `{ donate: [0] }`), W4 as
 * `kernelMatmul` builds it (`jit((a, b) => matmul(a, b), { threads })`), the hand-written i-k-j
 * loop of baselines.ts — on the variants of workloads.ts (the same seeded data generator and
 * float64 reference, computed here), checked and timed by run.ts `runVariant`, one row at a time.
 */
import * as jitPackage from "@chainrule/jit";
import type { ChildRow } from "../children.js";
import { asSegments } from "../check.js";
import { handWritten } from "../impls/hand.js";
import { fmaInEffect, kernelMatmul, wholeStepTrainer } from "../impls/jit-kernels.js";
import { runVariant } from "../run.js";
import type { TimingOptions } from "../timing.js";
import {
  isUnsupported,
  variantOf,
  type Built,
  type Implementation,
  type MatmulVariant,
  type MlpVariant,
  type Variant,
  type VariantSpec,
} from "../workloads.js";
import { browserRowId, browserRowLabel } from "./rows.js";
import type { BenchPageApi, BrowserRowSpec, PageInfo } from "./protocol.js";

/** Variants by spec: the reference is computed once per variant. */
const variants = new Map<string, Variant>();
function variantFor(spec: VariantSpec): Variant {
  const key = JSON.stringify(spec);
  let v = variants.get(key);
  if (v === undefined) {
    v = variantOf(spec);
    variants.set(key, v);
  }
  return v;
}

/** The answer scaled by 1.01 (tests: a wrong answer must be FAILED by the same check). */
function scaled(answer: unknown): number[][] {
  return asSegments(answer).map((s) => Array.from(s, (x) => x * 1.01));
}

/** The jit row on `threads` threads: relaxed-SIMD FMA wherever the kernels use it here (Chromium ships it). */
function jitRow(threads: 1 | 2): Implementation {
  const fma = fmaInEffect(jitPackage);
  return {
    id: browserRowId({ kind: "jit", threads }),
    label: browserRowLabel({ kind: "jit", threads }, fma),
    group: "chainrule",
    build(variant: Variant): Built {
      if (variant.workload !== "W3" && variant.workload !== "W4")
        throw new Error(`the browser rows run W3 and W4, got ${variant.workload}`);
      const built =
        variant.workload === "W3"
          ? wholeStepTrainer(
              jitPackage.engine,
              jitPackage,
              variant as MlpVariant,
              threads,
              fma,
              browserRowLabel({ kind: "jit", threads }, fma, "whole step jitted, params donated, "),
            )
          : kernelMatmul(jitPackage, variant as MatmulVariant, threads, fma);
      if (threads === 1) return built;
      // the Node side awaited startThreads() before the first two-thread row: the worker must be running
      const prepare = () => {
        const info = jitPackage.kernelInfo();
        if (!info.threadsReady)
          throw new Error(
            "the second thread is not running (kernelInfo().threads " +
              `${String(info.threads)}${info.threadsUnavailable === undefined ? "" : `: ${info.threadsUnavailable}`})`,
          );
      };
      return { ...built, case: { ...built.case, prepare } };
    },
  };
}

function implementationFor(row: BrowserRowSpec): Implementation {
  const impl = row.kind === "hand" ? { ...handWritten, label: browserRowLabel(row, false) } : jitRow(row.threads);
  if (row.wrong !== true) return impl;
  return {
    ...impl,
    async build(variant) {
      const built = await impl.build(variant);
      if (isUnsupported(built)) return built;
      return { ...built, result: async () => scaled(await built.result()) };
    },
  };
}

function info(): PageInfo {
  const k = jitPackage.kernelInfo();
  return {
    crossOriginIsolated: (globalThis as { crossOriginIsolated?: boolean }).crossOriginIsolated ?? false,
    userAgent: (globalThis as { navigator?: { userAgent?: string } }).navigator?.userAgent ?? "",
    simd: k.simd,
    relaxedFma: k.relaxedFma,
    sharedMemory: k.sharedMemory,
    threads: k.threads,
    threadsReady: k.threadsReady,
    ...(k.threadsUnavailable === undefined ? {} : { threadsUnavailable: k.threadsUnavailable }),
    ...(k.kernelsUnavailable === undefined ? {} : { kernelsUnavailable: k.kernelsUnavailable }),
    threadStats: k.threadStats,
    config: { ...k.config },
  };
}

const api: BenchPageApi = {
  info,
  startThreads: (timeoutMs) => jitPackage.startThreads(timeoutMs),
  async row(spec: VariantSpec, row: BrowserRowSpec, timing: TimingOptions): Promise<ChildRow> {
    const [r] = await runVariant(variantFor(spec), [implementationFor(row)], timing);
    if (r === undefined) throw new Error("runVariant returned no row");
    return {
      id: r.impl.id,
      label: r.impl.label,
      status: r.status,
      note: r.note,
      ...(r.label === undefined ? {} : { rowLabel: r.label }),
      ...(r.summary === undefined ? {} : { summary: r.summary }),
      ...(r.reps === undefined ? {} : { reps: r.reps }),
    };
  },
};

(globalThis as { chainruleBench?: BenchPageApi }).chainruleBench = api;
