/**
 * `jacobian` for the forward engine: the argument/result plumbing of `defineEngine`'s jacobian
 * (pytrees, argnums, numbers in → numbers out), with the blocks cut straight out of the chunked
 * columns. Anything unusual (bad arguments, non-float leaves) is handed to the base engine's
 * jacobian, which reports it with the standard message.
 */
import {
  bind,
  findTopTrace,
  flatten,
  isFloat,
  reshape,
  scalar,
  type Tensor,
  Tracer,
  unflatten,
  type Argnums,
  type FlatFunction,
  type TreeDef,
} from "@chainrule/ir";
import type { Columns } from "./engine.js";

type AnyFunction = (...args: never[]) => unknown;

function asNumberIf(value: Tensor, wanted: boolean): Tensor | number {
  return wanted && value.rank === 0 && !(value instanceof Tracer) ? value.item() : value;
}

export function chunkedJacobian(
  f: AnyFunction,
  argnums: Argnums,
  args: readonly unknown[],
  columnsOf: (f: FlatFunction, primals: readonly Tensor[]) => Columns,
  fallback: () => unknown,
): unknown {
  const op = "jacobian";
  const nums = typeof argnums === "number" ? [argnums] : Array.isArray(argnums) ? argnums.slice() : [];
  if (nums.length === 0 || nums.some((a) => !Number.isInteger(a) || a < 0 || a >= args.length) || new Set(nums).size !== nums.length) {
    return fallback();
  }
  const tensors: Tensor[] = [];
  const wasNumber: boolean[] = [];
  const defs: TreeDef[] = [];
  const counts: number[] = [];
  for (const a of nums) {
    let flat: ReturnType<typeof flatten>;
    try {
      flat = flatten(args[a], op, `args[${a}]`);
    } catch {
      return fallback();
    }
    defs.push(flat.def);
    counts.push(flat.leaves.length);
    for (const leaf of flat.leaves) {
      if (typeof leaf === "number") {
        tensors.push(scalar(leaf));
        wasNumber.push(true);
      } else {
        // non-float leaves and leaked tracers: the base engine reports them
        if (!isFloat(leaf.dtype) || (leaf instanceof Tracer && !leaf.trace.active)) return fallback();
        tensors.push(leaf);
        wasNumber.push(false);
      }
    }
  }
  let outDef: TreeDef | undefined;
  let outWasNumber: boolean[] = [];
  const flatF: FlatFunction = (xs) => {
    const call = args.slice();
    let k = 0;
    nums.forEach((a, i) => {
      call[a] = unflatten(defs[i]!, xs.slice(k, k + counts[i]!));
      k += counts[i]!;
    });
    const { leaves, def } = flatten((f as (...a: unknown[]) => unknown)(...call), op, "f's result");
    for (const l of leaves) if (l instanceof Tracer) findTopTrace(op, [l]);
    outDef = def;
    outWasNumber = leaves.map((l) => typeof l === "number");
    return leaves.map((l) => (typeof l === "number" ? scalar(l) : l));
  };
  const { outputs, jacobians, sizes } = columnsOf(flatF, tensors);
  const allNumbers = wasNumber.every(Boolean);
  const perOutput = outputs.map((out, o) => {
    const jac = jacobians[o]!;
    const byArg: unknown[] = [];
    let leaf = 0;
    let offset = 0;
    defs.forEach((def, i) => {
      const blocks: unknown[] = [];
      for (let j = 0; j < counts[i]!; j++, leaf++) {
        const input = tensors[leaf]!;
        const n = sizes[leaf]!;
        // rows offset..offset+n of J (∂out/∂input, [n, outSize]) → out.shape ++ in.shape
        const rows = bind("slice", [jac], { begin: [offset, 0], end: [offset + n, out.size] });
        let block = reshape(bind("transpose", [rows], { perm: [1, 0] }), [...out.shape, ...input.shape]);
        // like the base engine's rows (pullbacks are cast to the input's dtype)
        if (block.dtype !== input.dtype) block = bind("cast", [block], { dtype: input.dtype });
        offset += n;
        const wanted = wasNumber[leaf]! && (allNumbers || outWasNumber[o] === true) && out.rank === 0;
        blocks.push(asNumberIf(block, wanted));
      }
      byArg.push(unflatten(def, blocks));
    });
    return typeof argnums === "number" ? byArg[0] : byArg;
  });
  return unflatten(outDef!, perOutput);
}
