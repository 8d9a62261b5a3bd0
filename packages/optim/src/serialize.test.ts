/** treeFromJSON checks every value against what treeToJSON writes: nothing truncated, wrapped or re-prototyped. */
import { ArgumentError, tensor, type Tensor } from "@chainrule/ir";
import { describe, expect, it } from "vitest";
import { treeFromJSON, treeToJSON, type Json } from "./index.js";

const encoded = (dtype: string, data: Json[], shape: number[] = [data.length]): Json => ({ $tensor: dtype, shape, data });

describe("treeFromJSON", () => {
  it("int32 data: a fraction or a value out of range is an error, not truncated (1.5 → 1) or wrapped (1e10)", () => {
    for (const [bad, shown] of [
      [1.5, "1.5"],
      [1e10, "10000000000"],
      [2 ** 31, "2147483648"],
      ["NaN", '"NaN"'],
      ["-0", '"-0"'],
    ] as const) {
      const load = () => treeFromJSON({ k: encoded("int32", [0, bad]) });
      expect(load).toThrow(ArgumentError);
      expect(load).toThrow(`treeFromJSON: expected an int32 (an integer in [-2^31, 2^31 - 1]) at tree.k.data[1], got ${shown}`);
    }
    const ok = treeFromJSON<{ k: Tensor }>({ k: encoded("int32", [-(2 ** 31), 2 ** 31 - 1]) });
    expect(Array.from(ok.k.data)).toEqual([-(2 ** 31), 2 ** 31 - 1]);
  });

  it("bool data is 0 or 1; float32 data within float32's range", () => {
    expect(() => treeFromJSON(encoded("bool", [1, 2]))).toThrow("treeFromJSON: expected a bool (0 or 1) at tree.data[1], got 2");
    expect(() => treeFromJSON(encoded("float32", [1e39]))).toThrow(/expected a float32 .* at tree.data\[0\], got 1e\+39/);
    const round = treeFromJSON<Tensor>(treeToJSON(tensor([3.4028234663852886e38, 0.1], { dtype: "float32" })));
    expect(round.data[0]).toBe(3.4028234663852886e38);
  });

  it("encoded tensors: a known dtype, a valid shape, data of the shape's size, no other fields", () => {
    expect(() => treeFromJSON(encoded("complex64", [1]))).toThrow(/expected tree.\$tensor to be a dtype \(float64, .*\), got "complex64"/);
    expect(() => treeFromJSON(encoded("float64", [1, 2], [3]))).toThrow(
      "treeFromJSON: expected tree.data to be an array of 3 numbers (shape [3]), got an array of length 2",
    );
    expect(() => treeFromJSON(encoded("float64", [1], [-1]))).toThrow(/expected tree.shape to be at most 64 integers ≥ 0, got an array/);
    expect(() => treeFromJSON({ $tensor: "float64", shape: [1], data: [1], extra: 1 })).toThrow(
      'treeFromJSON: expected an encoded tensor { $tensor, shape, data } at tree, got an extra field "extra"',
    );
    expect(() => treeFromJSON({ a: [true] } as never)).toThrow(
      "treeFromJSON: expected numbers, arrays, objects or encoded tensors at tree.a[0], got true",
    );
  });

  it("__proto__, constructor and prototype keys are plain own data; the prototype is untouched", () => {
    const text = '{"__proto__": {"polluted": 1}, "constructor": 2, "prototype": [3], "x": 4}';
    const tree = treeFromJSON<Record<string, unknown>>(JSON.parse(text) as Json);
    expect(Object.getPrototypeOf(tree)).toBe(Object.prototype);
    expect((tree as { polluted?: unknown }).polluted).toBeUndefined();
    expect(Object.keys(tree)).toEqual(["__proto__", "constructor", "prototype", "x"]);
    expect(Object.getOwnPropertyDescriptor(tree, "__proto__")?.value).toEqual({ polluted: 1 });
    expect(tree["constructor"]).toBe(2);
    expect(tree["prototype"]).toEqual([3]);
    expect(({} as { polluted?: unknown }).polluted).toBeUndefined();
    // and it survives a round trip through treeToJSON (ir's flatten/unflatten keep such keys as data too)
    expect(JSON.stringify(treeToJSON(tree))).toBe(text.replace(/": /g, '":').replace(/, /g, ","));
  });

  it("nesting deeper than the limit is an error, not a stack overflow", () => {
    let deep: Json = 1;
    for (let i = 0; i < 100_000; i++) deep = [deep];
    expect(() => treeFromJSON(deep)).toThrow(ArgumentError);
    expect(() => treeFromJSON(deep)).toThrow(/treeFromJSON: expected nesting at most 1000 deep, got deeper at tree\[0\]\[0\]/);
  });
});
