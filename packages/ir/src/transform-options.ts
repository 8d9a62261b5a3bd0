/**
 * The options of the transformations (`grad(f, argnums, { hasAux: true })`) and the split of
 * `f`'s `[out, aux]` result under `hasAux`. An option a transformation does not have is an error,
 * never ignored (it would silently change the result).
 */
import { ArgumentError, describeValue } from "./errors.js";
import { flatten, type TreeDef } from "./pytree.js";
import { scalar, type Tensor } from "./tensor.js";
import { checkNotEscaped } from "./trace.js";

/** The options each transformation takes, by name; the others take none. */
export const TRANSFORM_OPTIONS: Readonly<Record<string, readonly string[]>> = {
  grad: ["hasAux"],
  valueAndGrad: ["hasAux"],
  jacobian: ["hasAux"],
  jacfwd: ["hasAux"],
  jacrev: ["hasAux"],
  vjp: ["hasAux"],
  checkpoint: ["policy"],
};

/** A plain object (an options bag), as opposed to a Tensor, an array or a number. */
export function isOptionsObject(value: unknown): value is Record<string, unknown> {
  const proto = value !== null && typeof value === "object" ? Object.getPrototypeOf(value) : undefined;
  return proto === Object.prototype || proto === null;
}

/** `options` checked for `op`: undefined or an object of known keys; `hasAux` a boolean. */
export function transformOptions(op: string, signature: string, options: unknown): { hasAux: boolean } {
  if (options === undefined) return { hasAux: false };
  if (!isOptionsObject(options)) throw new ArgumentError(`${op}: expected ${signature}, got an extra argument ${describeValue(options)}`);
  const known = TRANSFORM_OPTIONS[op] ?? [];
  const unknown = Object.keys(options).filter((key) => !known.includes(key));
  if (unknown.length > 0) {
    const takes = known.length === 0 ? "no options" : `the options ${known.join(", ")}`;
    throw new ArgumentError(
      `${op}: unknown option${unknown.length === 1 ? "" : "s"} ${unknown.join(", ")} (${op} takes ${signature}, ${takes})`,
    );
  }
  const hasAux = options["hasAux"];
  if (hasAux !== undefined && typeof hasAux !== "boolean") {
    throw new ArgumentError(`${op}: expected hasAux to be a boolean, got ${describeValue(hasAux)}`);
  }
  return { hasAux: hasAux === true };
}

/**
 * `vjp(f, ...primals, { hasAux })`: the trailing options object, told apart from a primal (a
 * pytree) by its `hasAux` key holding a boolean (a pytree's leaves are numbers or Tensors).
 */
export function splitVjpOptions(args: readonly unknown[]): { primals: unknown[]; hasAux: boolean } {
  const last = args[args.length - 1];
  if (args.length > 0 && isOptionsObject(last) && typeof last["hasAux"] === "boolean") {
    return { primals: args.slice(0, -1), hasAux: transformOptions("vjp", "(f, ...primals, { hasAux })", last).hasAux };
  }
  return { primals: args.slice(), hasAux: false };
}

/** What `f`'s aux was: its structure, its leaves as tensors, which leaves were JS numbers. */
export interface AuxRecord {
  def: TreeDef | undefined;
  tensors: Tensor[];
  wasNumber: boolean[];
}

export const newAuxRecord = (): AuxRecord => ({ def: undefined, tensors: [], wasNumber: [] });

/**
 * With `hasAux`, `f` returns `[out, aux]`: records aux's leaves (they ride along as extra outputs
 * the transformation does not differentiate) and returns `out`.
 */
export function takeAux(op: string, result: unknown, record: AuxRecord): unknown {
  if (!Array.isArray(result) || result.length !== 2) {
    throw new ArgumentError(`${op}: expected f to return a pair [out, aux] (hasAux is true), got ${describeValue(result)}`);
  }
  const { leaves, def } = flatten(result[1], op, "f's aux");
  for (const leaf of leaves) checkNotEscaped(op, leaf);
  record.def = def;
  record.wasNumber = leaves.map((l) => typeof l === "number");
  record.tensors = leaves.map((l) => (typeof l === "number" ? scalar(l) : l));
  return result[0];
}
