/**
 * The workload variants (W1–W6, defined in bench/README.md) with their inputs and expected answers, and the
 * interface every implementation (hand-written, chainrule engine, peer) offers for them.
 */
import type { Segments } from "./check.js";
import {
  cnnInput,
  convInput,
  matmulInput,
  mlpInput,
  rosenbrockInput,
  type CnnInput,
  type ConvInput,
  type FloatDType,
  type MatmulInput,
  type MlpInput,
  type RosenbrockInput,
} from "./data.js";
import { cnnReference, cnnSegments, convReference, expectedRosenbrock, matmulReference, mlpReference, mlpSegments } from "./reference.js";
import type { Case } from "./timing.js";

export type WorkloadId = "W1" | "W2" | "W3" | "W4" | "W5" | "W6";

interface VariantBase {
  /** Unique, e.g. `W2 grad n=1e5 f64`. */
  readonly key: string;
  readonly workload: WorkloadId;
  /** Human title for tables. */
  readonly title: string;
  /** max |actual − expected| ≤ tolerance · max |expected|, per output. */
  readonly tolerance: number;
  readonly expected: Segments;
}

export interface SeedVariant extends VariantBase {
  readonly workload: "W1";
  readonly kind: "grad";
  readonly x: number;
  readonly y: number;
}

export interface RosenbrockVariant extends VariantBase {
  readonly workload: "W2";
  readonly kind: "primal" | "grad" | "jvp";
  readonly input: RosenbrockInput;
}

export interface MlpVariant extends VariantBase {
  readonly workload: "W3";
  readonly kind: "step";
  readonly input: MlpInput;
}

export interface MatmulVariant extends VariantBase {
  readonly workload: "W4";
  readonly kind: "matmul";
  readonly input: MatmulInput;
  /** 2n³. */
  readonly flops: number;
}

export interface CnnVariant extends VariantBase {
  readonly workload: "W5";
  readonly kind: "step";
  readonly input: CnnInput;
}

export interface ConvVariant extends VariantBase {
  readonly workload: "W6";
  readonly kind: "conv";
  readonly input: ConvInput;
  /** 2 · N · O · H · W · C · 9. */
  readonly flops: number;
}

export type Variant = SeedVariant | RosenbrockVariant | MlpVariant | MatmulVariant | CnnVariant | ConvVariant;

/** A case ready to time, and the call whose answer is checked first. */
export interface Built {
  readonly case: Case;
  /** The answer to check (for W3: loss and gradients at the initial parameters). */
  readonly result: () => unknown;
  /** The row's label for this variant when it says more than the implementation's (what exactly runs). */
  readonly label?: string;
  /** Facts about what was built, read after the check and shown beside it (e.g. the kernel settings in effect). */
  readonly facts?: () => string;
}

/** Why an implementation does not run a variant (shown in the table). */
export interface Unsupported {
  readonly unsupported: string;
  /** Leave the row out of the table (e.g. a baseline with nothing to unroll). */
  readonly quiet?: boolean;
}

export interface Implementation {
  /** Stable id (`reverse`, `tfjs-wasm`, …). */
  readonly id: string;
  /** Row label. */
  readonly label: string;
  readonly group: "hand-written" | "chainrule" | "peer";
  build(variant: Variant): Built | Unsupported | Promise<Built | Unsupported>;
}

export function isUnsupported(value: Built | Unsupported): value is Unsupported {
  return "unsupported" in value;
}

export const TOLERANCE: Record<FloatDType, number> = { float64: 1e-9, float32: 2e-3 };

const SHORT: Record<FloatDType, string> = { float64: "f64", float32: "f32" };

function exponent(n: number): string {
  const e = Math.log10(n);
  return Number.isInteger(e) ? `1e${e}` : String(n);
}

export function seedVariant(): SeedVariant {
  return {
    key: "W1 grad",
    workload: "W1",
    kind: "grad",
    title: "W1 grad of (x+y)(x−y) at (3,2), JS numbers",
    tolerance: 1e-12,
    x: 3,
    y: 2,
    expected: [[6, -4]],
  };
}

export function rosenbrockVariants(
  n: number,
  dtype: FloatDType,
  kinds: readonly ("primal" | "grad" | "jvp")[] = ["grad", "primal", "jvp"],
): RosenbrockVariant[] {
  const input = rosenbrockInput(n, dtype);
  const expected = expectedRosenbrock(input);
  return kinds.map((kind) => ({
    key: `W2 ${kind} n=${exponent(n)} ${SHORT[dtype]}`,
    workload: "W2",
    kind,
    title: `W2 Rosenbrock ${kind}, n = ${n.toLocaleString("en-US")}, ${dtype}`,
    tolerance: TOLERANCE[dtype],
    input,
    expected: expected[kind],
  }));
}

export function mlpVariant(input: MlpInput = mlpInput()): MlpVariant {
  return {
    key: "W3 step f32",
    workload: "W3",
    kind: "step",
    title: `W3 MLP ${input.inputs}-${input.hidden}-${input.classes} training step, batch ${input.batch}, float32`,
    tolerance: TOLERANCE.float32,
    input,
    expected: mlpSegments(mlpReference(input)),
  };
}

export function matmulVariant(size: number, dtype: FloatDType): MatmulVariant {
  const input = matmulInput(size, dtype);
  return {
    key: `W4 matmul ${SHORT[dtype]}`,
    workload: "W4",
    kind: "matmul",
    title: `W4 matmul ${size}×${size}×${size}, ${dtype}`,
    tolerance: dtype === "float64" ? 1e-12 : 1e-5,
    input,
    expected: matmulReference(input),
    flops: 2 * size ** 3,
  };
}

export function cnnVariant(input: CnnInput = cnnInput()): CnnVariant {
  const { batch, size, c1, c2, classes } = input;
  return {
    key: "W5 step f32",
    workload: "W5",
    kind: "step",
    title:
      `W5 CNN training step, batch ${batch}, 1×${size}×${size}: conv 3×3·${c1} → ReLU → max-pool 2 → conv 3×3·${c2} → ` +
      `ReLU → max-pool 2 → dense ${classes} → softmax CE → SGD, float32`,
    tolerance: TOLERANCE.float32,
    input,
    expected: cnnSegments(cnnReference(input)),
  };
}

export function convVariant(input: ConvInput = convInput()): ConvVariant {
  const { batch, channels, size } = input;
  return {
    key: "W6 conv f32",
    workload: "W6",
    kind: "conv",
    title: `W6 conv2d forward ${channels}→${channels}, 3×3, "same", ${size}×${size}, batch ${batch}, float32`,
    tolerance: 1e-4,
    input,
    expected: convReference(input),
    flops: 2 * batch * channels * channels * 9 * size * size,
  };
}

/** The variants a child process can build (the jit's kernel rows), described in JSON. */
export type KernelVariant = MlpVariant | MatmulVariant | CnnVariant | ConvVariant;

/** A W3–W6 variant described in JSON (what a child process is told to build). */
export type VariantSpec =
  | { readonly workload: "W3"; readonly batch: number; readonly inputs: number; readonly hidden: number; readonly classes: number }
  | { readonly workload: "W4"; readonly size: number; readonly dtype: FloatDType }
  | {
      readonly workload: "W5";
      readonly batch: number;
      readonly size: number;
      readonly c1: number;
      readonly c2: number;
      readonly classes: number;
    }
  | { readonly workload: "W6"; readonly batch: number; readonly channels: number; readonly size: number };

export function isKernelVariant(variant: Variant): variant is KernelVariant {
  return variant.workload === "W3" || variant.workload === "W4" || variant.workload === "W5" || variant.workload === "W6";
}

export function specOf(variant: KernelVariant): VariantSpec {
  switch (variant.workload) {
    case "W4":
      return { workload: "W4", size: variant.input.size, dtype: variant.input.dtype };
    case "W3": {
      const { batch, inputs, hidden, classes } = variant.input;
      return { workload: "W3", batch, inputs, hidden, classes };
    }
    case "W5": {
      const { batch, size, c1, c2, classes } = variant.input;
      return { workload: "W5", batch, size, c1, c2, classes };
    }
    case "W6": {
      const { batch, channels, size } = variant.input;
      return { workload: "W6", batch, channels, size };
    }
  }
}

export function variantOf(spec: VariantSpec): KernelVariant {
  switch (spec.workload) {
    case "W4":
      return matmulVariant(spec.size, spec.dtype);
    case "W3":
      return mlpVariant(mlpInput(spec.batch, spec.inputs, spec.hidden, spec.classes));
    case "W5":
      return cnnVariant(cnnInput(spec.batch, spec.size, spec.c1, spec.c2, spec.classes));
    case "W6":
      return convVariant(convInput(spec.batch, spec.channels, spec.size));
  }
}
