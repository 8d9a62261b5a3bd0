/**
 * The whole conformance suite on an `Engine` built from nothing but the imperative API:
 * vjp = make leaves, run f, `gradients(outputs, leaves, { gradOutputs })`; jvp = the double-vjp
 * trick (a backward pass with createGraph, differentiated again); nesting = an inner call makes
 * fresh non-leaf aliases of the outer variables and asks `gradients` for those only (the way
 * higher derivatives are taken in PyTorch). If backward, createGraph, noGrad, detach or the custom
 * rules were wrong, the suite's finite-difference, nesting and convention checks would catch it.
 * Some cases do not apply (excluded by `match`): variables are long-lived by design, so there is
 * no escaped tracer to reject; and the imperative API has no forward mode to refuse a customVjp
 * function in (this test engine's jvp transposes a backward pass, through bwd like any node).
 */
import { describeConformance } from "@chainrule/conformance/vitest";
import { add, defineEngine, isFloat, type Tensor, zeros, type EngineCore, type FlatFunction } from "@chainrule/ir";
import { gradients } from "./backward.js";
import { plain, variable, Variable } from "./variable.js";

/** How many imperative vjp calls are running (0: results go back to the user as plain tensors). */
let depth = 0;

function leaf(p: Tensor): Tensor {
  if (!isFloat(p.dtype)) return p;
  // an outer variable that requires grad: a fresh non-leaf alias keeps the inner gradient separate
  if (p instanceof Variable && p.requiresGrad) return add(p, zeros([], p.dtype));
  return variable(plain(p), { requiresGrad: true });
}

function vjp(f: FlatFunction, primals: Tensor[]): { outputs: Tensor[]; pullback: (cotangents: Tensor[]) => Tensor[] } {
  depth++;
  let results: Tensor[];
  const inputs = primals.map(leaf);
  try {
    results = f(inputs);
  } finally {
    depth--;
  }
  const outer = depth > 0;
  const outputs = results.map((r) => (outer ? r : plain(r)));
  const pullback = (cotangents: Tensor[]): Tensor[] => {
    const roots: Tensor[] = [],
      seeds: Tensor[] = [];
    results.forEach((r, i) => {
      if (r instanceof Variable && r.requiresGrad) {
        roots.push(r);
        seeds.push(cotangents[i]!);
      }
    });
    const wanted = inputs.filter((x) => x instanceof Variable && x.requiresGrad);
    const nested = depth > 0 || cotangents.some((c) => c instanceof Variable && c.requiresGrad);
    const grads =
      roots.length === 0 || wanted.length === 0
        ? []
        : gradients(roots, wanted, { gradOutputs: seeds, retainGraph: true, createGraph: nested, allowUnused: true });
    let k = 0;
    return inputs.map((x, i) => {
      const g = x instanceof Variable && x.requiresGrad ? grads[k++] : undefined;
      const p = primals[i]!;
      return g ?? zeros(p.shape as number[], p.dtype);
    });
  };
  return { outputs, pullback };
}

const core: EngineCore = {
  name: "imperative",
  jacobianMode: "reverse",
  vjp,
  jvp(f, primals, tangents) {
    depth++;
    try {
      const { outputs, pullback } = vjp(f, primals);
      // the pullback is linear in the cotangents: its own vjp, applied to the tangents, is J·t
      const transposed = vjp(
        (cts) => pullback(cts),
        outputs.map((o) => zeros(o.shape as number[], o.dtype)),
      );
      const result = transposed.pullback(tangents);
      return { outputs: outputs.map(plain), tangents: depth > 1 ? result : result.map(plain) };
    } finally {
      depth--;
    }
  },
};

// checkpoint (issue 19) is left out: its bwd calls this engine's vjp inside a backward pass, where
// gradient recording is off (no createGraph), so the recomputation records nothing; the reverse
// engine's checkpoint, on Variables too, is tested in src/checkpoint.test.ts
describeConformance(defineEngine(core), {
  match: /^(?!a tracer that escapes|a tracer leaked out of|forward mode of a customVjp|second order through a nonlinear bwd|checkpoint\(f)/,
});
