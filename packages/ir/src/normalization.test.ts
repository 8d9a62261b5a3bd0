/** Normalization, dropout and embedding (issue 18): values against hand-computed results and naive loops. */
import { describe, expect, it } from "vitest";
import { ArgumentError, batchNorm, dropout, embedding, groupNorm, layerNorm, random, ShapeError, Tensor, tensor } from "./index.js";

const close = (got: Tensor, want: number[], digits = 12) => {
  expect(got.data.length).toBe(want.length);
  got.data.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, digits));
};

/** Standardizes each consecutive block of `size` values (biased variance), a naive loop. */
function standardizeBlocks(values: number[], size: number, eps: number): number[] {
  const out: number[] = [];
  for (let start = 0; start < values.length; start += size) {
    const block = values.slice(start, start + size);
    const m = block.reduce((s, v) => s + v, 0) / size;
    const v = block.reduce((s, x) => s + (x - m) ** 2, 0) / size;
    for (const x of block) out.push((x - m) / Math.sqrt(v + eps));
  }
  return out;
}

describe("layerNorm", () => {
  it("normalizes the last axis by default: [1, 2, 3] → (x − 2)/√(2/3 + 1e-5)", () => {
    const s = Math.sqrt(2 / 3 + 1e-5);
    close(layerNorm(tensor([1, 2, 3])), [-1 / s, 0, 1 / s]);
  });

  it("normalizes the trailing axes of normalizedShape, then weight and bias", () => {
    const values = [0.5, -1, 2, 3, 0, 1.5, 4, -2, 1, 2.5, -0.5, 0];
    const x = new Tensor("float64", [2, 2, 3], Float64Array.from(values));
    close(layerNorm(x, [2, 3]), standardizeBlocks(values, 6, 1e-5));
    const weight = tensor([2, -1, 0.5]);
    const bias = tensor([0.1, 0.2, 0.3]);
    const want = standardizeBlocks(values, 3, 1e-3).map((v, i) => v * [2, -1, 0.5][i % 3]! + [0.1, 0.2, 0.3][i % 3]!);
    close(layerNorm(x, 3, { eps: 1e-3, weight, bias }), want);
  });

  it("keeps float32 and rejects shapes that are not trailing axes", () => {
    expect(layerNorm(tensor([1, 2], { dtype: "float32" })).dtype).toBe("float32");
    expect(() => layerNorm(tensor([[1, 2, 3]]), [2])).toThrow(
      /layerNorm: expected normalizedShape to be the trailing axes of x \[1,3\], got \[2\]/,
    );
    expect(() => layerNorm(tensor([1, 2, 3]), 3, { weight: tensor([1, 2]) })).toThrow(
      /layerNorm: expected weight of shape \[3\], got \[2\]/,
    );
    expect(() => layerNorm(tensor([1, 2, 3]), 3, { eps: 0 })).toThrow(/layerNorm: expected eps > 0, got 0/);
  });
});

describe("batchNorm", () => {
  // x [N = 2, C = 2]: channel 0 holds 1, 3 (mean 2, biased var 1, unbiased 2); channel 1 holds 2, 6 (mean 4, var 4, unbiased 8)
  const x = tensor([
    [1, 2],
    [3, 6],
  ]);

  it("training: batch statistics normalize; running statistics get momentum 0.1 of the batch's (unbiased variance)", () => {
    const { y, runningMean, runningVar } = batchNorm(x);
    const [a, b] = [1 / Math.sqrt(1 + 1e-5), 2 / Math.sqrt(4 + 1e-5)];
    close(y, [-a, -b, a, b]);
    close(runningMean, [0.2, 0.4]);
    close(runningVar, [0.9 + 0.2, 0.9 + 0.8]);
  });

  it("training with given running statistics, weight, bias and momentum", () => {
    const { y, runningMean, runningVar } = batchNorm(x, {
      runningMean: tensor([1, 1]),
      runningVar: tensor([2, 2]),
      weight: tensor([3, -1]),
      bias: tensor([0.5, 0]),
      momentum: 0.5,
      eps: 1e-3,
    });
    const [a, b] = [1 / Math.sqrt(1 + 1e-3), 2 / Math.sqrt(4 + 1e-3)];
    close(y, [0.5 - 3 * a, b, 0.5 + 3 * a, -b]);
    close(runningMean, [1.5, 2.5]);
    close(runningVar, [2, 5]);
  });

  it("normalizes over N and the spatial axes per channel (x [2, 2, 3])", () => {
    const values = [1, 2, 3, 10, 20, 30, 4, 5, 6, 40, 50, 60];
    const t = new Tensor("float64", [2, 2, 3], Float64Array.from(values));
    const channel = (c: number) => [...values.slice(3 * c, 3 * c + 3), ...values.slice(6 + 3 * c, 6 + 3 * c + 3)];
    const [y0, y1] = [standardizeBlocks(channel(0), 6, 1e-5), standardizeBlocks(channel(1), 6, 1e-5)];
    close(batchNorm(t).y, [...y0.slice(0, 3), ...y1.slice(0, 3), ...y0.slice(3), ...y1.slice(3)]);
  });

  it("eval mode normalizes with the running statistics and returns them unchanged", () => {
    const runningMean = tensor([1, 2]);
    const runningVar = tensor([4, 9]);
    const out = batchNorm(x, { runningMean, runningVar, training: false, eps: 0.5 });
    close(out.y, [0, 0, 2 / Math.sqrt(4.5), 4 / Math.sqrt(9.5)]);
    expect(out.runningMean).toBe(runningMean);
    expect(out.runningVar).toBe(runningVar);
  });

  it("checks its arguments", () => {
    expect(() => batchNorm(tensor([1, 2]))).toThrow(/batchNorm: expected x of rank ≥ 2 \[N, C, \.\.\.\], got shape \[2\]/);
    expect(() => batchNorm(tensor([[1, 2]]))).toThrow(/batchNorm: expected more than 1 value per channel in training/);
    expect(() => batchNorm(x, { momentum: 2 })).toThrow(/batchNorm: expected momentum in \[0, 1\], got 2/);
    expect(() => batchNorm(x, { runningMean: tensor([1, 2, 3]) })).toThrow(/batchNorm: expected runningMean of shape \[2\], got \[3\]/);
    expect(() => batchNorm(x, { training: "yes" as never })).toThrow(ArgumentError);
  });
});

describe("groupNorm", () => {
  it("standardizes each (sample, group of consecutive channels) over channels and positions", () => {
    const values = Array.from({ length: 2 * 4 * 3 }, (_, i) => Math.sin(i) * 3 + (i % 5));
    const x = new Tensor("float64", [2, 4, 3], Float64Array.from(values));
    close(groupNorm(x, 2), standardizeBlocks(values, 6, 1e-5));
    close(groupNorm(x, 4), standardizeBlocks(values, 3, 1e-5));
    const weight = tensor([1, 2, 3, 4]);
    const bias = tensor([0, -1, 1, 0]);
    const want = standardizeBlocks(values, 12, 1e-5).map((v, i) => {
      const c = Math.floor(i / 3) % 4;
      return v * weight.data[c]! + bias.data[c]!;
    });
    close(groupNorm(x, 1, { weight, bias }), want);
  });

  it("rejects a group count that does not divide the channels", () => {
    expect(() => groupNorm(new Tensor("float64", [1, 4, 2], new Float64Array(8)), 3)).toThrow(
      /groupNorm: expected numGroups to be an integer ≥ 1 dividing the 4 channels, got 3/,
    );
  });
});

describe("embedding", () => {
  const table = tensor([
    [0, 1],
    [10, 11],
    [20, 21],
  ]);

  it("picks rows: out.shape = indices.shape ++ [dim]", () => {
    const out = embedding(new Tensor("int32", [2, 2], Int32Array.from([2, 0, 1, 2])), table);
    expect(out.shape).toEqual([2, 2, 2]);
    expect(Array.from(out.data)).toEqual([20, 21, 0, 1, 10, 11, 20, 21]);
    expect(Array.from(embedding(tensor([1, 1]), table).data)).toEqual([10, 11, 10, 11]);
  });

  it("rejects indices outside [0, numEmbeddings), negative ones included, and a table not of rank 2", () => {
    expect(() => embedding(new Tensor("int32", [1], Int32Array.of(3)), table)).toThrow(/embedding: expected indices in \[0, 2\], got 3/);
    expect(() => embedding(new Tensor("int32", [1], Int32Array.of(-1)), table)).toThrow(/embedding: expected indices in \[0, 2\], got -1/);
    expect(() => embedding(tensor([0.5]), table)).toThrow(/embedding: expected integer indices, got 0.5/);
    expect(() => embedding(tensor([0]), tensor([1, 2]))).toThrow(ShapeError);
  });
});

describe("dropout", () => {
  it("zeroes about `rate` of the elements and scales the others by 1/(1 − rate)", () => {
    const n = 20000;
    const x = new Tensor("float64", [n], new Float64Array(n).fill(3));
    const y = dropout(x, 0.25, random.key(4));
    const zeros = Array.from(y.data).filter((v) => v === 0).length;
    expect(Math.abs(zeros / n - 0.25)).toBeLessThan(5 * Math.sqrt((0.25 * 0.75) / n));
    expect(y.data.every((v) => v === 0 || v === 4)).toBe(true);
    // the mask is random.bernoulli(key, 1 − rate, x.shape)
    const keep = random.bernoulli(random.key(4), 0.75, [n]);
    expect(Array.from(y.data, (v) => (v === 0 ? 0 : 1))).toEqual(Array.from(keep.data));
  });

  it("rate 0 is the identity, rate 1 gives zeros; bad rates and keys are rejected", () => {
    const x = tensor([1, -2, 3]);
    expect(Array.from(dropout(x, 0, random.key(0)).data)).toEqual([1, -2, 3]);
    expect(Array.from(dropout(x, 1, random.key(0)).data)).toEqual([0, 0, 0]);
    expect(() => dropout(x, 1.5, random.key(0))).toThrow(/dropout: expected rate in \[0, 1\], got 1.5/);
    expect(() => dropout(x, 0.5, tensor([1, 2]))).toThrow(/dropout: expected a key \(an int32 tensor of shape \[2\]/);
  });
});
