/** The hand-written baselines as implementations: every ratio in the report is relative to `hand`. */
import {
  handWrittenMlp,
  matmulIkj32,
  matmulIkj64,
  matmulUnrolled32,
  matmulUnrolled64,
  rosenbrock32,
  rosenbrock64,
  rosenbrockGrad32,
  rosenbrockGrad64,
  rosenbrockGradInto,
  rosenbrockJvp32,
  rosenbrockJvp64,
  seedGradient,
} from "../baselines.js";
import { conv3x3Forward32, handWrittenCnn } from "../baselines-cnn.js";
import { cnnSegments, mlpSegments } from "../reference.js";
import type { Built, Implementation, Unsupported, Variant } from "../workloads.js";

function build(variant: Variant, unrolled: boolean): Built | Unsupported {
  switch (variant.workload) {
    case "W1": {
      if (unrolled) return { unsupported: "nothing to unroll", quiet: true };
      const { x, y } = variant;
      const run = () => seedGradient(x, y);
      return { case: { run }, result: run };
    }
    case "W2": {
      if (unrolled) return { unsupported: "nothing to unroll", quiet: true };
      const { input, kind } = variant;
      let run: () => unknown;
      if (input.x instanceof Float64Array) {
        const x = input.x;
        const v = input.v as Float64Array;
        run = kind === "primal" ? () => rosenbrock64(x) : kind === "grad" ? () => rosenbrockGrad64(x) : () => rosenbrockJvp64(x, v);
      } else {
        const x = input.x;
        const v = input.v as Float32Array;
        run = kind === "primal" ? () => rosenbrock32(x) : kind === "grad" ? () => rosenbrockGrad32(x) : () => rosenbrockJvp32(x, v);
      }
      return { case: { run }, result: run };
    }
    case "W3": {
      const trainer = handWrittenMlp(variant.input, unrolled);
      const result = () => {
        const { loss, grads } = handWrittenMlp(variant.input, unrolled).lossAndGrads();
        return mlpSegments({ loss, ...grads });
      };
      return { case: { run: () => trainer.step() }, result };
    }
    case "W4": {
      const { a, b, size: n } = variant.input;
      let run: () => unknown;
      if (a instanceof Float64Array) {
        const bb = b as Float64Array;
        run = unrolled ? () => matmulUnrolled64(a, bb, n, n, n) : () => matmulIkj64(a, bb, n, n, n);
      } else {
        const bb = b as Float32Array;
        run = unrolled ? () => matmulUnrolled32(a, bb, n, n, n) : () => matmulIkj32(a, bb, n, n, n);
      }
      return { case: { run }, result: run };
    }
    case "W5": {
      if (unrolled) return { unsupported: "not written unrolled", quiet: true };
      const trainer = handWrittenCnn(variant.input);
      const result = () => {
        const { loss, grads } = handWrittenCnn(variant.input).lossAndGrads();
        return cnnSegments({ loss, ...grads });
      };
      return { case: { run: () => trainer.step() }, result };
    }
    case "W6": {
      if (unrolled) return { unsupported: "not written unrolled", quiet: true };
      const { x, w, batch, channels, size } = variant.input;
      const y = new Float32Array(batch * channels * size * size);
      const run = () => {
        conv3x3Forward32(x, w, y, batch, channels, channels, size);
        return [y];
      };
      return { case: { run }, result: run };
    }
  }
}

export const handWritten: Implementation = {
  id: "hand",
  label: "hand-written JS",
  group: "hand-written",
  build: (variant) => build(variant, false),
};

export const handWrittenUnrolled: Implementation = {
  id: "hand-unrolled",
  label: "hand-written JS, 4× unrolled",
  group: "hand-written",
  build: (variant) => build(variant, true),
};

/**
 * The W2 gradient written into one output buffer reused on every call (the baseline of a compiled
 * gradient that writes into a donated buffer: `jit-donate`). Other variants: n/a.
 */
export const handWrittenReuse: Implementation = {
  id: "hand-reuse",
  label: "hand-written JS, output buffer reused",
  group: "hand-written",
  build: (variant) => {
    if (variant.workload !== "W2" || variant.kind !== "grad") return { unsupported: "W2 gradient only", quiet: true };
    const x = variant.input.x;
    const g = x instanceof Float64Array ? new Float64Array(x.length) : new Float32Array(x.length);
    const run = () => rosenbrockGradInto(x, g);
    return { case: { run }, result: () => rosenbrockGradInto(x, g).slice() };
  },
};
