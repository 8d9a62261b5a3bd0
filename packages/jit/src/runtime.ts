/**
 * Helper kernels used by generated code for the ops that are not fused into elementwise loops.
 * This is fixed source text written here (never built from graph data); generated code calls
 * these functions with numbers and identifiers it formatted itself. The same text is embedded
 * in modules written by `emitModule`, which is why it is a string and not TypeScript.
 */
import { WINDOW_SOURCE } from "@chainrule/ir";

export const RUNTIME_SOURCE = `
function rt_reduce(x, shape, reduced, out, isMax) {
  const rank = shape.length;
  out.fill(isMax ? -Infinity : 0);
  if (isMax && out instanceof Int32Array) out.fill(-2147483648);
  const outStrides = [];
  let s = 1;
  for (let a = rank - 1; a >= 0; a--) { if (!reduced[a]) { outStrides[a] = s; s *= shape[a]; } else outStrides[a] = 0; }
  const index = new Array(rank).fill(0);
  let o = 0;
  const n = x.length;
  for (let i = 0; i < n; i++) {
    const v = x[i];
    if (isMax) { if (v > out[o] || v !== v) out[o] = v; } else out[o] += v;
    for (let a = rank - 1; a >= 0; a--) {
      index[a]++;
      o += outStrides[a];
      if (index[a] < shape[a]) break;
      o -= outStrides[a] * shape[a];
      index[a] = 0;
    }
  }
}
function rt_argmax(x, outer, length, inner, out) {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      let bestValue = x[o * length * inner + j];
      for (let i = 1; i < length && bestValue === bestValue; i++) {
        const v = x[(o * length + i) * inner + j];
        if (v > bestValue || v !== v) { best = i; bestValue = v; }
      }
      out[o * inner + j] = best;
    }
  }
}
function rt_linearScan(a, b, outer, length, inner, reverse, out) {
  const integer = out instanceof Int32Array;
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let h = 0;
      for (let t = 0; t < length; t++) {
        const at = (o * length + (reverse ? length - 1 - t : t)) * inner + j;
        out[at] = t === 0 ? b[at] : integer ? Math.imul(a[at], h) + b[at] : a[at] * h + b[at];
        h = out[at];
      }
    }
  }
}
function rt_argcummax(x, outer, length, inner, out) {
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      let best = 0;
      let bestValue = x[o * length * inner + j];
      for (let i = 0; i < length; i++) {
        const v = x[(o * length + i) * inner + j];
        if (bestValue === bestValue && (v >= bestValue || v !== v)) { best = i; bestValue = v; }
        out[(o * length + i) * inner + j] = best;
      }
    }
  }
}
function rt_argsort(x, outer, length, inner, descending, out) {
  const sign = descending ? -1 : 1;
  const order = new Array(length);
  for (let o = 0; o < outer; o++) {
    for (let j = 0; j < inner; j++) {
      const base = o * length * inner + j;
      for (let i = 0; i < length; i++) order[i] = i;
      order.sort((p, q) => {
        const u = x[base + p * inner], v = x[base + q * inner];
        const c = u !== u ? (v !== v ? 0 : 1) : v !== v ? -1 : u < v ? -1 : u > v ? 1 : 0;
        return sign * c || p - q;
      });
      for (let i = 0; i < length; i++) out[base + i * inner] = order[i];
    }
  }
}
function rt_concat(out, x, outer, block, rowLength, column) {
  for (let o = 0; o < outer; o++) out.set(x.subarray(o * block, (o + 1) * block), o * rowLength + column);
}
function rt_index(op, index, size) {
  const i = index < 0 ? index + size : index;
  if (!(i >= 0 && i < size)) throw rt_error(op + ": expected indices in [" + (-size) + ", " + (size - 1) + "], got " + index);
  return i;
}
function rt_checkIndex(v, op, what, low, size) {
  if (!Number.isInteger(v)) throw rt_error(op + ": expected integer " + what + ", got " + v, "DTYPE");
  if (size >= 0 && !(v >= low && v < size))
    throw rt_error(op + ": expected " + what + " in [" + low + ", " + (size - 1) + "], got " + v, "ARGUMENT");
}
function rt_checkIndices(x, op, what, low, size) {
  for (let i = 0; i < x.length; i++) rt_checkIndex(x[i], op, what, low, size);
}
function rt_gather(x, idx, outer, length, inner, out) {
  const m = idx.length;
  for (let j = 0; j < m; j++) {
    const source = rt_index("take", idx[j], length);
    for (let o = 0; o < outer; o++) {
      const from = (o * length + source) * inner;
      const to = (o * m + j) * inner;
      for (let k = 0; k < inner; k++) out[to + k] = x[from + k];
    }
  }
}
function rt_scatterAdd(u, idx, outer, size, inner, out) {
  out.fill(0);
  const m = idx.length;
  for (let j = 0; j < m; j++) {
    const target = rt_index("scatterAdd", idx[j], size);
    for (let o = 0; o < outer; o++) {
      const from = (o * m + j) * inner;
      const to = (o * size + target) * inner;
      for (let k = 0; k < inner; k++) out[to + k] += u[from + k];
    }
  }
}
function rt_scatter(x, u, idx, outer, size, inner, out, op, mode) {
  if (out !== x) out.set(x);
  const m = idx.length;
  for (let j = 0; j < m; j++) {
    const target = rt_index(op, idx[j], size);
    for (let o = 0; o < outer; o++) {
      const from = (o * m + j) * inner;
      const to = (o * size + target) * inner;
      for (let k = 0; k < inner; k++) {
        const a = out[to + k], b = u[from + k];
        out[to + k] = mode === 0 ? a * b : mode === 1 ? (b < a || b !== b ? b : a) : (b > a || b !== b ? b : a);
      }
    }
  }
}
function rt_matmul(a, b, out, batches, m, k, n) {
  out.fill(0);
  for (let t = 0; t < batches; t++) {
    const aBase = t * m * k, bBase = t * k * n, cBase = t * m * n;
    for (let i = 0; i < m; i++) {
      const cRow = cBase + i * n;
      for (let p = 0; p < k; p++) {
        const aip = a[aBase + i * k + p];
        const bRow = bBase + p * n;
        for (let j = 0; j < n; j++) out[cRow + j] += aip * b[bRow + j];
      }
    }
  }
}
// family: convolution and pooling (issue 18): ir's window loops, from the source text of their one implementation
const rt_window = ${WINDOW_SOURCE};
`;

/** Names of the helpers, for including only those a program uses. */
export const RUNTIME_HELPERS = [
  "rt_reduce",
  "rt_argmax",
  "rt_concat",
  "rt_index",
  "rt_checkIndex",
  "rt_checkIndices",
  "rt_gather",
  "rt_scatterAdd",
  "rt_scatter",
  "rt_matmul",
  // family: reductions, scans and sorting (issue 17)
  "rt_linearScan",
  "rt_argcummax",
  "rt_argsort",
  // family: convolution and pooling (issue 18)
  "rt_window.conv",
  "rt_window.reduceWindow",
] as const;
