/**
 * Pytrees: nested arrays and plain objects whose leaves are numbers or Tensors. Transformations
 * flatten their arguments to a list of leaves, work on the leaves, and rebuild results of the
 * same structure. `null`/`undefined` are empty subtrees. A JS number leaf is remembered as such,
 * so a number in gives a number out.
 */
import { ArgumentError, checkArity, count, describeValue, formatValue } from "./errors.js";
import { checkDepth } from "./limits.js";
import { Tensor } from "./tensor.js";

export type PyTree = number | Tensor | null | undefined | readonly PyTree[] | { readonly [key: string]: PyTree };

export type TreeDef =
  | { readonly kind: "number" }
  | { readonly kind: "tensor" }
  | { readonly kind: "none"; readonly value: null | undefined }
  | { readonly kind: "array"; readonly children: readonly TreeDef[] }
  | { readonly kind: "object"; readonly keys: readonly string[]; readonly children: readonly TreeDef[] };

// shared by every flattened tree, so frozen
const NUMBER: TreeDef = Object.freeze({ kind: "number" });
const TENSOR: TreeDef = Object.freeze({ kind: "tensor" });
const NULL: TreeDef = Object.freeze({ kind: "none", value: null });
const UNDEFINED: TreeDef = Object.freeze({ kind: "none", value: undefined });

function isPlainObject(value: object): boolean {
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Leaves in depth-first order (object keys in insertion order) and the structure to rebuild. */
export const flatten = checkArity(
  "flatten",
  1,
  3,
  (tree: unknown, op = "flatten", path = "args"): { leaves: (number | Tensor)[]; def: TreeDef } => {
    if (typeof op !== "string" || typeof path !== "string") {
      throw new ArgumentError(`flatten: expected op and path names (strings), got ${describeValue(op)} and ${describeValue(path)}`);
    }
    const leaves: (number | Tensor)[] = [];
    const def = flattenInto(tree, leaves, op, path, new Set(), 0);
    return { leaves, def };
  },
);

function flattenInto(tree: unknown, leaves: (number | Tensor)[], op: string, path: string, ancestors: Set<object>, depth: number): TreeDef {
  if (typeof tree === "number") {
    leaves.push(tree);
    return NUMBER;
  }
  if (tree instanceof Tensor) {
    leaves.push(tree);
    return TENSOR;
  }
  if (tree === null || tree === undefined) return tree === null ? NULL : UNDEFINED;
  if (typeof tree === "object" && (Array.isArray(tree) || isPlainObject(tree))) {
    checkDepth(op, depth + 1, "a tree", path);
    if (ancestors.has(tree)) throw new ArgumentError(`${op}: expected a tree, got a cyclic reference at ${path}`);
    ancestors.add(tree);
    let def: TreeDef;
    if (Array.isArray(tree)) {
      const children: TreeDef[] = [];
      for (let i = 0; i < tree.length; i++) children.push(flattenInto(tree[i], leaves, op, `${path}[${i}]`, ancestors, depth + 1));
      def = { kind: "array", children };
    } else {
      const keys = Object.keys(tree);
      const children = keys.map((k) => flattenInto((tree as Record<string, unknown>)[k], leaves, op, `${path}.${k}`, ancestors, depth + 1));
      def = { kind: "object", keys, children };
    }
    ancestors.delete(tree);
    return def;
  }
  throw new ArgumentError(`${op}: expected numbers, Tensors, arrays or plain objects, got ${describeValue(tree)} at ${path}`);
}

/**
 * Checks that `def` is a tree definition (as `flatten` makes, or `parseGraph` reads): known kinds,
 * children arrays, string keys matching the children, nested at most `MAX_DEPTH` levels, no node
 * twice. Walks with an explicit stack, so a hostile definition cannot overflow the call stack.
 */
function checkTreeDef(op: string, def: unknown): TreeDef {
  const pending: { d: unknown; path: string; depth: number }[] = [{ d: def, path: "def", depth: 0 }];
  // array and object nodes appear once: a shared node could make the walks below exponential
  const seen = new Set<unknown>();
  while (pending.length > 0) {
    const { d, path, depth } = pending.pop()!;
    checkDepth(op, depth, "a tree definition", path);
    const kind = d !== null && typeof d === "object" ? (d as { kind?: unknown }).kind : undefined;
    if (kind === "number" || kind === "tensor") continue;
    if (kind === "none") {
      const value = (d as { value?: unknown }).value;
      if (value === null || value === undefined) continue;
    }
    const children = kind === "array" || kind === "object" ? (d as { children?: unknown }).children : undefined;
    if (kind === "object") {
      const keys = (d as { keys?: unknown }).keys;
      if (
        !Array.isArray(keys) ||
        !keys.every((k) => typeof k === "string") ||
        !Array.isArray(children) ||
        keys.length !== children.length
      ) {
        throw new ArgumentError(
          `${op}: expected an object tree definition with string keys matching its children at ${path}, got ${formatValue(d)}`,
        );
      }
    }
    if (!Array.isArray(children)) {
      throw new ArgumentError(`${op}: expected a tree definition (as flatten returns) at ${path}, got ${formatValue(d)}`);
    }
    if (seen.has(d))
      throw new ArgumentError(`${op}: expected a tree definition, got a node that appears twice (shared or cyclic) at ${path}`);
    seen.add(d);
    children.forEach((c, i) => pending.push({ d: c, path: `${path}.children[${i}]`, depth: depth + 1 }));
  }
  return def as TreeDef;
}

/** Rebuilds a tree of structure `def` from leaves (any values, in flatten order). */
export const unflatten = checkArity("unflatten", 2, 2, <T = unknown>(def: TreeDef, leaves: readonly T[]): unknown => {
  checkTreeDef("unflatten", def);
  if (!Array.isArray(leaves)) throw new ArgumentError(`unflatten: expected an array of leaves, got ${describeValue(leaves)}`);
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
        return d.children.map((c) => build(c));
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
  if (position !== leaves.length) throw new ArgumentError(`unflatten: expected ${count(position, "leaf", "leaves")}, got ${leaves.length}`);
  return out;
});

/** The number of leaves of a structure. */
export const leafCount = checkArity("leafCount", 1, 1, (def: TreeDef): number => countLeaves(checkTreeDef("leafCount", def)));

function countLeaves(def: TreeDef): number {
  switch (def.kind) {
    case "number":
    case "tensor":
      return 1;
    case "none":
      return 0;
    default:
      return def.children.reduce((n, c) => n + countLeaves(c), 0);
  }
}

/** Which leaves were JS numbers, in flatten order. */
export const numberLeaves = checkArity("numberLeaves", 1, 1, (def: TreeDef): boolean[] => {
  checkTreeDef("numberLeaves", def);
  const out: boolean[] = [];
  const walk = (d: TreeDef): void => {
    if (d.kind === "number") out.push(true);
    else if (d.kind === "tensor") out.push(false);
    else if (d.kind === "array" || d.kind === "object") d.children.forEach((c) => walk(c));
  };
  walk(def);
  return out;
});

/** Structural equality of tree definitions (leaf kinds number/tensor are considered equal when `loose`). */
export const sameStructure = checkArity("sameStructure", 2, 3, (a: TreeDef, b: TreeDef, loose = true): boolean => {
  if (typeof loose !== "boolean") throw new ArgumentError(`sameStructure: expected loose to be a boolean, got ${describeValue(loose)}`);
  return same(checkTreeDef("sameStructure", a), checkTreeDef("sameStructure", b), loose);
});

function same(a: TreeDef, b: TreeDef, loose: boolean): boolean {
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
  return ca.length === cb.length && ca.every((c, i) => same(c, cb[i]!, loose));
}

/** A short human description of a structure, for error messages. */
export const describeTree = checkArity("describeTree", 1, 1, (def: TreeDef): string => describeDef(checkTreeDef("describeTree", def)));

function describeDef(def: TreeDef): string {
  switch (def.kind) {
    case "number":
      return "number";
    case "tensor":
      return "Tensor";
    case "none":
      return String(def.value);
    case "array":
      return `[${def.children.map((c) => describeDef(c)).join(", ")}]`;
    case "object":
      return `{${def.keys.map((k, i) => `${k}: ${describeDef(def.children[i]!)}`).join(", ")}}`;
  }
}

/** Applies `fn` to every leaf, keeping the structure. */
export const mapTree = checkArity("mapTree", 2, 2, (tree: unknown, fn: (leaf: number | Tensor, index: number) => unknown): unknown => {
  if (typeof fn !== "function") throw new ArgumentError(`mapTree: expected a function, got ${describeValue(fn)}`);
  const { leaves, def } = flatten(tree, "mapTree");
  return unflatten(
    def,
    leaves.map((leaf, i) => fn(leaf, i)),
  );
});
