import { describe, expect, it } from "vitest";
import { expectError } from "./__tests__/helpers.js";
import {
  ArgumentError,
  describeTree,
  flatten,
  leafCount,
  mapTree,
  numberLeaves,
  sameStructure,
  tensor,
  unflatten,
  type TreeDef,
} from "./index.js";

describe("pytrees", () => {
  it("flatten lists leaves depth-first (object keys in insertion order) and unflatten rebuilds", () => {
    const t = tensor([1, 2]);
    const tree = { b: [1, t], a: { c: 2, d: null }, e: undefined };
    const { leaves, def } = flatten(tree);
    expect(leaves).toEqual([1, t, 2]);
    expect(leaves[1]).toBe(t);
    expect(leafCount(def)).toBe(3);
    expect(numberLeaves(def)).toEqual([true, false, true]);
    expect(describeTree(def)).toBe("{b: [number, Tensor], a: {c: number, d: null}, e: undefined}");
    const back = unflatten(def, leaves) as typeof tree;
    expect(back).toEqual(tree);
    expect(back.b[1]).toBe(t);
    expect("e" in back).toBe(true);
  });

  it("round trips leaves of any type through unflatten (e.g. gradients)", () => {
    const { def } = flatten([1, [2, 3]]);
    expect(unflatten(def, ["a", "b", "c"])).toEqual(["a", ["b", "c"]]);
    expect(flatten(5).def).toEqual({ kind: "number" });
    expect(unflatten(flatten(5).def, [7])).toBe(7);
    expect(unflatten(flatten([]).def, [])).toEqual([]);
    expect(unflatten(flatten({}).def, [])).toEqual({});
  });

  it("mapTree keeps the structure", () => {
    expect(mapTree({ x: [1, 2], y: 3 }, (leaf) => (leaf as number) * 10)).toEqual({ x: [10, 20], y: 30 });
  });

  it("sameStructure compares structures (number and Tensor leaves equal unless strict)", () => {
    const a = flatten({ x: [1, tensor(2)] }).def;
    const b = flatten({ x: [tensor(1), 2] }).def;
    expect(sameStructure(a, b)).toBe(true);
    expect(sameStructure(a, b, false)).toBe(false);
    expect(sameStructure(a, flatten({ y: [1, 2] }).def)).toBe(false);
    expect(sameStructure(a, flatten({ x: [1] }).def)).toBe(false);
    expect(sameStructure(flatten([1]).def, flatten({ 0: 1 }).def)).toBe(false);
  });

  it('keeps a "__proto__" key an own property (regression: it replaced the prototype)', () => {
    const def: TreeDef = { kind: "object", keys: ["__proto__"], children: [{ kind: "number" }] };
    const out = unflatten(def, [1]) as Record<string, unknown>;
    expect(Object.getPrototypeOf(out)).toBe(Object.prototype);
    expect(Object.keys(out)).toEqual(["__proto__"]);
    expect(Object.getOwnPropertyDescriptor(out, "__proto__")?.value).toBe(1);
    expect(({} as Record<string, unknown>)["polluted"]).toBeUndefined();
    const parsed = JSON.parse('{"__proto__": 1, "a": 2}') as unknown;
    const { leaves, def: d2 } = flatten(parsed);
    expect(leaves).toEqual([1, 2]);
    expect(Object.keys(unflatten(d2, leaves) as object)).toEqual(["__proto__", "a"]);
  });

  it("rejects non-tree leaves, cycles and wrong leaf counts with exact messages", () => {
    expectError(
      () => flatten({ a: "s" }),
      ArgumentError,
      'flatten: expected numbers, Tensors, arrays or plain objects, got string "s" at args.a',
    );
    expectError(
      () => flatten([true], "grad", "args[0]"),
      ArgumentError,
      "grad: expected numbers, Tensors, arrays or plain objects, got boolean at args[0][0]",
    );
    expectError(
      () => flatten(new Map()),
      ArgumentError,
      "flatten: expected numbers, Tensors, arrays or plain objects, got an object ([object Map]) at args",
    );
    expectError(
      () => flatten([() => 1]),
      ArgumentError,
      "flatten: expected numbers, Tensors, arrays or plain objects, got a function at args[0]",
    );
    const cyclic: Record<string, unknown> = { a: 1 };
    cyclic["self"] = cyclic;
    expectError(() => flatten(cyclic), ArgumentError, "flatten: expected a tree, got a cyclic reference at args.self");
    const shared = [1];
    expect(flatten({ a: shared, b: shared }).leaves).toEqual([1, 1]); // shared, not cyclic
    const { def } = flatten([1, 2]);
    expectError(() => unflatten(def, [1]), ArgumentError, "unflatten: expected more leaves, got 1");
    expectError(() => unflatten(def, [1, 2, 3]), ArgumentError, "unflatten: expected 2 leaves, got 3");
  });
});
