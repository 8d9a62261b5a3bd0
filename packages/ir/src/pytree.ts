/**
 * Pytrees: nested arrays and plain objects whose leaves are numbers or Tensors. Transformations
 * flatten their arguments to a list of leaves, work on the leaves, and rebuild results of the
 * same structure. `null`/`undefined` are empty subtrees. A JS number leaf is remembered as such,
 * so a number in gives a number out.
 */
import { ArgumentError, describeValue } from "./errors.js";
import { Tensor } from "./tensor.js";

export type PyTree = number | Tensor | null | undefined | readonly PyTree[] | { readonly [key: string]: PyTree };

export type TreeDef =
  | { readonly kind: "number" }
  | { readonly kind: "tensor" }
  | { readonly kind: "none"; readonly value: null | undefined }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

const NUMBER: TreeDef = { kind: "number" };
const TENSOR: TreeDef = { kind: "tensor" };

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Leaves in depth-first order (object keys in insertion order) and the structure to rebuild. */
export function flatten(tree: unknown, op = "flatten", path = "args"): { leaves: (number | Tensor)[]; def: TreeDef } {
  const leaves: (number | Tensor)[] = [];
  const def = flattenInto(tree, leaves, op, path, new Set());
  return { leaves, def };
}

function flattenInto(tree: unknown, leaves: (number | Tensor)[], op: string, path: string, ancestors: Set<object>): TreeDef {
  if (typeof tree === "number") {
    leaves.push(tree);
    return NUMBER;
  }
  if (tree instanceof Tensor) {
    leaves.push(tree);
    return TENSOR;
  }
  if (tree === null || tree === undefined) return { kind: "none", value: tree };
  if (typeof tree === "object" && (Array.isArray(tree) || isPlainObject(tree))) {
    if (ancestors.has(tree)) throw new ArgumentError(`${op}: expected a tree, got a cyclic reference at ${path}`);
    ancestors.add(tree);
    let def: TreeDef;
    if (Array.isArray(tree)) {
      const children: TreeDef[] = [];
      for (let i = 0; i < tree.length; i++) children.push(flattenInto(tree[i], leaves, op, `${path}[${i}]`, ancestors));
      def = { kind: "array", children };
    } else {
      const keys = Object.keys(tree);
      const children = keys.map((k) => flattenInto((tree as Record<string, unknown>)[k], leaves, op, `${path}.${k}`, ancestors));
      def = { kind: "object", keys, children };
    }
    ancestors.delete(tree);
    return def;
  }
  throw new ArgumentError(`${op}: expected numbers, Tensors, arrays or plain objects, got ${describeValue(tree)} at ${path}`);
}

/** Rebuilds a tree of structure `def` from leaves (any values, in flatten order). */
export function unflatten<T = unknown>(def: TreeDef, leaves: readonly T[]): unknown {
  let position = 0;
  const build = (d: TreeDef): unknown => {
    switch (d.kind) {
      case "number":
      case "tensor":
        if (position >= leaves.length) throw new ArgumentError(`unflatten: expected more leaves, got ${leaves.length}`);
        return leaves[position++];
      case "none":
        return d.value;
      case "array":
        return d.children.map(build);
      case "object": {
        const out: Record<string, unknown> = {};
        // defineProperty, not assignment: a key "__proto__" must stay an own data property
        d.keys.forEach((k, i) =>
          Object.defineProperty(out, k, { value: build(d.children[i]!), enumerable: true, writable: true, configurable: true }),
        );
        return out;
      }
    }
  };
  const out = build(def);
  if (position !== leaves.length) throw new ArgumentError(`unflatten: expected ${position} leaves, got ${leaves.length}`);
  return out;
}

/** The number of leaves of a structure. */
export function leafCount(def: TreeDef): number {
  switch (def.kind) {
    case "number":
    case "tensor":
      return 1;
    case "none":
      return 0;
    default:
      return def.children.reduce((n, c) => n + leafCount(c), 0);
  }
}

/** Which leaves were JS numbers, in flatten order. */
export function numberLeaves(def: TreeDef): boolean[] {
  const out: boolean[] = [];
  const walk = (d: TreeDef): void => {
    if (d.kind === "number") out.push(true);
    else if (d.kind === "tensor") out.push(false);
    else if (d.kind === "array" || d.kind === "object") d.children.forEach(walk);
  };
  walk(def);
  return out;
}

/** Structural equality of tree definitions (leaf kinds number/tensor are considered equal when `loose`). */
export function sameStructure(a: TreeDef, b: TreeDef, loose = true): boolean {
  const leafA = a.kind === "number" || a.kind === "tensor";
  const leafB = b.kind === "number" || b.kind === "tensor";
  if (leafA || leafB) return leafA && leafB && (loose || a.kind === b.kind);
  if (a.kind !== b.kind) return false;
  if (a.kind === "none") return true;
  if (a.kind === "object" && b.kind === "object") {
    if (a.keys.length !== b.keys.length || a.keys.some((k, i) => k !== b.keys[i])) return false;
  }
  const ca = (a as { children: readonly TreeDef[] }).children;
  const cb = (b as { children: readonly TreeDef[] }).children;
  return ca.length === cb.length && ca.every((c, i) => sameStructure(c, cb[i]!, loose));
}

/** A short human description of a structure, for error messages. */
export function describeTree(def: TreeDef): string {
  switch (def.kind) {
    case "number":
      return "number";
    case "tensor":
      return "Tensor";
    case "none":
      return String(def.value);
    case "array":
      return `[${def.children.map(describeTree).join(", ")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${k}: ${describeTree(def.children[i]!)}`).join(", ")}}`;
  }
}

/** Applies `fn` to every leaf, keeping the structure. */
export function mapTree(tree: unknown, fn: (leaf: number | Tensor, index: number) => unknown): unknown {
  const { leaves, def } = flatten(tree, "mapTree");
  return unflatten(def, leaves.map(fn));
}
