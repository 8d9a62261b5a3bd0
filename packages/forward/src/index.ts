/**
 * @chainrule/forward — forward-mode automatic differentiation with dual numbers: each value
 * carries its tangent(s) beside it while the function runs as plain JavaScript. Vector mode
 * (k directions per pass), safe nesting (hessian, hvp, grad∘grad∘grad), no eval.
 */
import { engine } from "./engine.js";

export { engine, createEngine, DEFAULT_CHUNK_SIZE, TANGENT_BUDGET, type ForwardEngine, type ForwardOptions } from "./engine.js";
export { traceForward, formatForwardTrace, type ForwardTrace, type ForwardStep, type Direction, type TraceOptions } from "./learner.js";
/** The JVP rules are ir's (`DEFINITIONS[prim].jvp`); forward mode applies them to chunks of tangents. */
export type { JvpRule } from "@chainrule/ir";
export { Chunk, ChunkOps, type Tangent } from "./tangents.js";

export const { grad, valueAndGrad, jvp, vjp, jacobian, hessian, hvp } = engine;
// vmap (issue 19): ir's batching trace, which composes with this engine's transformations
export { vmap, vmapFallbacks, type VmapOptions, type AxisSpec } from "@chainrule/ir";
// issue 19 (xforms): the named Jacobians, linearize and checkpoint (forward mode stores no intermediates: f runs as is)
export const { jacfwd, jacrev, linearize, checkpoint } = engine;
