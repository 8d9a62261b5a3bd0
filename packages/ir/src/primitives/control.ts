/**
 * Structured control flow (issue 19): the one higher-order primitive, `control`.
 *
 * A staged `cond`, `switchCase`, `scan`, `forLoop` or `whileLoop` (see ../control.ts) becomes a
 * `ControlCall`: its sub-graphs (branches, loop body, loop condition) and the avals of its
 * outputs. Graph params are plain JSON data, so a call is kept in a registry and a graph node
 * names it by id: `control{call, output}` is output `output` of call `call`, one node per output
 * (nodes of one call share their inputs; the JIT runs the call once for all of them).
 *
 * Engines never see this primitive through `bind`: every staged call goes through
 * `Trace.processControl`, whose default interprets the sub-graphs op by op on the trace's own
 * values (so define-by-run engines differentiate the primitives inside), and which the JIT's
 * traces override to stage derivative calls (a JVP of a loop is a loop). The rules below are
 * therefore never reached by ir's engines; they say so if a third-party engine binds the node.
 */
import { ArgumentError, GraphError, internalError } from "../errors.js";
import type { Aval } from "../primitives.js";
import type { Tensor } from "../tensor.js";
import type { Definitions } from "./define.js";

/** A graph as seen by the control primitive (the structure of ir's `Graph`, declared here to keep imports acyclic). */
export interface SubGraph {
  readonly inputs: readonly { readonly id: number; readonly shape: readonly number[]; readonly dtype: Aval["dtype"] }[];
  readonly nodes: readonly unknown[];
  readonly outputs: readonly number[];
}

/**
 * The calls, by kind. Inputs and sub-graph inputs are flat lists of tensors:
 *
 * - cond: inputs `[index (int32 scalar, already clamped), ...operands, ...consts]`; every branch
 *   takes `[...operands, ...consts]` and returns the outputs.
 * - scan: inputs `[...carry, ...xs, ...consts]`; the body takes `[step index?, ...carry,
 *   ...x slices, ...consts]` and returns `[...carry, ...y slices]`; the call returns
 *   `[...carry, ...ys stacked on a leading axis of length `length`]`. `indexed` (a forLoop's lower
 *   bound) makes the body's first input the int32 index `indexed + step`; `reverse` runs the
 *   steps from last to first (ys stay in step order).
 * - while: inputs `[...carry, ...consts]`; `cond` and `body` both take `[...carry, ...consts]`;
 *   `cond` returns one bool/number scalar, `body` the new carry.
 */
export type ControlCall<G extends SubGraph = SubGraph> =
  | { readonly kind: "cond"; readonly branches: readonly G[]; readonly operands: number; readonly outs: readonly Aval[] }
  | {
      readonly kind: "scan";
      readonly body: G;
      readonly length: number;
      readonly reverse: boolean;
      readonly indexed: number | null;
      readonly carry: number;
      readonly xs: number;
      readonly outs: readonly Aval[];
    }
  | { readonly kind: "while"; readonly cond: G; readonly body: G; readonly carry: number; readonly outs: readonly Aval[] };

const CALLS = new Map<number, ControlCall>();
let nextCall = 1;

/**
 * Registers a call and returns its id. Calls live as long as the process: a JIT compiles each
 * traced loop once, so the registry grows with the number of distinct compiled programs.
 */
export function registerControlCall(call: ControlCall): number {
  const id = nextCall++;
  CALLS.set(id, Object.freeze(call));
  return id;
}

/** The call registered under `id`; a GraphError for an id this process never registered (a graph from outside). */
export function controlCall(id: number): ControlCall {
  const call = CALLS.get(id);
  if (call === undefined) {
    throw new GraphError(
      `control: expected the id of a control-flow call traced in this process, got ${id} (control-flow nodes do not serialize)`,
    );
  }
  return call;
}

/** Interprets a call on concrete or traced inputs; set by ../control.ts (which can import graphs). */
export const CONTROL_RUNTIME: {
  interpret: ((call: ControlCall, inputs: readonly Tensor[]) => Tensor[]) | null;
  /** The call on a batch (one level below a vmap, batch axes in front), all outputs batched; set by ../vmap.ts. */
  batch: ((call: ControlCall, values: readonly Tensor[], batched: readonly boolean[], k: number) => Tensor[]) | null;
} = { interpret: null, batch: null };

export interface ControlParams {
  /** Output `output` of the registered control-flow call `call` (see ControlCall). */
  control: { call: number; output: number };
}

function notBound(what: string): never {
  throw internalError(
    `control: the ${what} of a staged control-flow node is applied through Trace.processControl (all outputs at once), not per node`,
  );
}

export const CONTROL: Definitions<keyof ControlParams> = {
  control: {
    name: "control",
    arity: "variadic",
    params: { call: "int", output: "int" },
    shape: (_avals, { call, output }) => {
      const outs = controlCall(call).outs;
      if (!Number.isInteger(output) || output < 0 || output >= outs.length) {
        throw new ArgumentError(`control: expected output in [0, ${outs.length - 1}], got ${output}`);
      }
      return outs[output]!;
    },
    // evaluates the whole call and keeps one output (the JIT's code and toFunction run a call once per node group)
    kernel: (inputs, { call, output }) => {
      const interpret = CONTROL_RUNTIME.interpret ?? notBound("interpreter");
      return interpret(controlCall(call), inputs)[output]!;
    },
    // derivatives of a call are calls of derived sub-graphs (Trace.processControl and the JIT's traces)
    jvp: () => notBound("JVP"),
    vjp: { saves: "inputs", vjp: () => notBound("VJP") },
    // one call of batched sub-graphs (vmap.ts's batchControl; the whole call per output node, as the kernel)
    batch: (args, batched, { call, output }, k) => {
      const batch = CONTROL_RUNTIME.batch ?? notBound("batching rule");
      return batch(controlCall(call), args, batched, k)[output]!;
    },
  },
};
