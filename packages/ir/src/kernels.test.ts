import { fc, test } from "@fast-check/vitest";
import { describe, expect, it } from "vitest";
import { sameTensors } from "./__tests__/random-programs.js";
import { broadcastOperand } from "./kernels.js";
import {
  add,
  arange,
  broadcastTo,
  concat,
  equal,
  matmul,
  max,
  mul,
  pad,
  reshape,
  slice,
  sum,
  take,
  tensor,
  toOperands,
  transpose,
  zeros,
  type Tensor,
} from "./index.js";

/** Small integer-valued tensors, so that sums are exact and laws can be checked bitwise. */
const shapeArb = fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 4 });
const intTensor = (shape: number[]) =>
  fc
    .array(fc.integer({ min: -9, max: 9 }), { minLength: shape.reduce((a, b) => a * b, 1), maxLength: shape.reduce((a, b) => a * b, 1) })
    .map((v) => tensor(v, { shape }));
const tensorArb = shapeArb.chain(intTensor);

/** A shape that `shape` broadcasts to: leading axes added, some size-1 axes expanded. */
const broadcastTarget = (shape: readonly number[]) =>
  fc
    .tuple(
      fc.array(fc.integer({ min: 0, max: 3 }), { maxLength: 2 }),
      fc.array(fc.integer({ min: 1, max: 3 }), { minLength: shape.length, maxLength: shape.length }),
    )
    .map(([lead, grow]) => [...lead, ...shape.map((d, i) => (d === 1 ? grow[i]! : d))]);

describe("no extra copies on the eager path", () => {
  it("same-shape and one-element operands are used in place; only genuine broadcasts are materialized", () => {
    const x = zeros([3, 4]);
    const [sameData, sameStride] = broadcastOperand(x, [3, 4]);
    expect(sameData).toBe(x.data);
    expect(sameStride).toBe(1);
    const s = tensor(2);
    const [scalarData, scalarStride] = broadcastOperand(s, [3, 4]);
    expect(scalarData).toBe(s.data);
    expect(scalarStride).toBe(0);
    const one = tensor([[2]]);
    expect(broadcastOperand(one, [3, 4])[0]).toBe(one.data);
    expect(broadcastOperand(one, [1, 1])[0]).toBe(one.data);
    const column = zeros([3, 1]);
    const [expanded, stride] = broadcastOperand(column, [3, 4]);
    expect(expanded).not.toBe(column.data);
    expect(expanded.length).toBe(12);
    expect(stride).toBe(1);
  });

  it("operands of the op's dtype are not converted; a JS number becomes a one-element scalar", () => {
    const x = zeros([1000], "float32");
    const [a, b] = toOperands("add", [x, 2]);
    expect(a).toBe(x);
    expect(b!.size).toBe(1);
    expect(b!.dtype).toBe("float32");
    const y = zeros([1000], "float32");
    const [c, d] = toOperands("mul", [x, y]);
    expect(c).toBe(x);
    expect(d).toBe(y);
  });

  it("reshape shares the buffer (tensors are immutable)", () => {
    const x = arange(6);
    expect(reshape(x, [2, 3]).data).toBe(x.data);
  });
});

describe("matmul kernel (i-k-j loops, broadcast batches by offsets)", () => {
  const naive = (a: Tensor, b: Tensor): number[] => {
    const [m, k] = a.shape.slice(-2) as [number, number];
    const n = b.shape[b.rank - 1]!;
    const out: number[] = [];
    for (let i = 0; i < m; i++)
      for (let j = 0; j < n; j++) {
        let s = 0;
        for (let p = 0; p < k; p++) s += a.data[i * k + p]! * b.data[p * n + j]!;
        out.push(s);
      }
    return out;
  };

  test.prop([
    fc.integer({ min: 0, max: 4 }),
    fc.integer({ min: 0, max: 4 }),
    fc.integer({ min: 0, max: 4 }),
    fc.integer({ min: 1, max: 3 }),
    fc.integer({ min: 1, max: 3 }),
  ])("each batch of a broadcast batched product is the textbook product of its matrices", (m, k, n, b1, b2) => {
    const a = reshape(arange(b1 * m * k), [b1, 1, m, k]);
    const b = reshape(arange(b2 * k * n), [b2, k, n]);
    const out = matmul(a, b);
    expect(out.shape).toEqual([b1, b2, m, n]);
    for (let i = 0; i < b1; i++)
      for (let j = 0; j < b2; j++) {
        const ai = reshape(slice(a, [i, 0, 0, 0], [i + 1, 1, m, k]), [m, k]);
        const bj = reshape(slice(b, [j, 0, 0], [j + 1, k, n]), [k, n]);
        expect(Array.from(slice(out, [i, j, 0, 0], [i + 1, j + 1, m, n]).data)).toEqual(naive(ai, bj));
      }
  });
});

describe("laws", () => {
  test.prop([shapeArb.chain((s) => fc.tuple(intTensor(s), intTensor(s)))])("add and mul commute (bitwise)", ([x, y]) => {
    expect(sameTensors([add(x, y)], [add(y, x)])).toBe(true);
    expect(sameTensors([mul(x, y)], [mul(y, x)])).toBe(true);
  });

  test.prop([tensorArb.chain((x) => fc.tuple(fc.constant(x), broadcastTarget(x.shape)))])(
    "broadcastTo then sum over the broadcast axes is x times the size factor",
    ([x, target]) => {
      const b = broadcastTo(x, target);
      expect(b.shape).toEqual(target);
      const lead = target.length - x.rank;
      const axes = target.flatMap((d, i) => (i < lead || (x.shape[i - lead] === 1 && d !== 1) ? [i] : []));
      const factor = axes.reduce((f, a) => f * target[a]!, 1);
      const summed = reshape(sum(b, axes, true), x.shape);
      // + 0 turns the −0 of (negative x) · 0 into the 0 an empty sum gives
      expect(sameTensors([summed], [add(mul(x, factor), 0)])).toBe(true);
    },
  );

  test.prop([tensorArb, fc.nat()])("reshape is undone by reshaping back", (x, pick) => {
    const sizes = [[x.size], [1, x.size], [x.size, 1], [...x.shape, 1], [1, ...x.shape]];
    const y = reshape(x, sizes[pick % sizes.length]!);
    expect(sameTensors([reshape(y, x.shape)], [x])).toBe(true);
  });

  test.prop([
    tensorArb.chain((x) => fc.tuple(fc.constant(x), fc.shuffledSubarray([...x.shape.keys()], { minLength: x.rank, maxLength: x.rank }))),
  ])("transpose by p then by p⁻¹ is the identity; transposing twice by reversal too", ([x, perm]) => {
    const inverse = perm.map((_, i) => perm.indexOf(i));
    const y = transpose(x, perm);
    expect(y.shape).toEqual(perm.map((p) => x.shape[p]));
    expect(sameTensors([transpose(y, inverse)], [x])).toBe(true);
    expect(sameTensors([transpose(transpose(x))], [x])).toBe(true);
  });

  test.prop([
    tensorArb.chain((x) =>
      fc.tuple(
        fc.constant(x),
        fc.array(fc.nat(2), { minLength: x.rank, maxLength: x.rank }),
        fc.array(fc.nat(2), { minLength: x.rank, maxLength: x.rank }),
      ),
    ),
  ])("slice(pad(x, low, high), low, low + shape) = x, and padding adds only zeros", ([x, low, high]) => {
    const p = pad(x, low, high);
    expect(p.shape).toEqual(x.shape.map((d, i) => d + low[i]! + high[i]!));
    expect(
      sameTensors(
        [
          slice(
            p,
            low,
            low.map((l, i) => l + x.shape[i]!),
          ),
        ],
        [x],
      ),
    ).toBe(true);
    expect(sum(p).item()).toBe(sum(x).item());
  });

  test.prop([tensorArb.filter((x) => x.rank > 0), fc.nat()])("concat of slices along an axis rebuilds the tensor", (x, pick) => {
    const axis = pick % x.rank;
    const cut = x.shape[axis]! === 0 ? 0 : pick % (x.shape[axis]! + 1);
    const begin = x.shape.map(() => 0);
    const parts = [
      slice(
        x,
        begin,
        x.shape.map((d, i) => (i === axis ? cut : d)),
      ),
      slice(
        x,
        x.shape.map((_, i) => (i === axis ? cut : 0)),
      ),
    ];
    expect(sameTensors([concat(parts, axis)], [x])).toBe(true);
  });

  test.prop([tensorArb.filter((x) => x.rank > 0), fc.nat()])("take with 0..n-1 along an axis is the identity", (x, pick) => {
    const axis = pick % x.rank;
    expect(sameTensors([take(x, arange(x.shape[axis]!, undefined, 1, "int32"), axis)], [x])).toBe(true);
  });

  test.prop([tensorArb])("summing all axes at once equals summing them one at a time; max bounds every element", (x) => {
    let y: Tensor = x;
    for (let i = x.rank - 1; i >= 0; i--) y = sum(y, i);
    expect(y.item()).toBe(sum(x).item());
    if (x.size > 0) {
      const m = max(x).item();
      expect(Array.from(x.data).every((v) => v <= m)).toBe(true);
      expect(Array.from(x.data)).toContain(m);
      expect(equal(max(x, undefined, true), x).shape).toEqual(x.shape);
    }
  });
});
