/** Comparisons: broadcasting binary predicates with bool outputs, piecewise constant (derivative 0). */
import type { Empty } from "../primitives.js";
import { comparison, type Definitions } from "./define.js";

export interface ComparisonParams {
  greater: Empty;
  greaterEqual: Empty;
  less: Empty;
  lessEqual: Empty;
  equal: Empty;
  notEqual: Empty;
}

export const COMPARISON: Definitions<keyof ComparisonParams> = {
  greater: comparison("greater", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! > b[i * sb]! ? 1 : 0;
  }),
  greaterEqual: comparison("greaterEqual", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! >= b[i * sb]! ? 1 : 0;
  }),
  less: comparison("less", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! < b[i * sb]! ? 1 : 0;
  }),
  lessEqual: comparison("lessEqual", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! <= b[i * sb]! ? 1 : 0;
  }),
  equal: comparison("equal", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! === b[i * sb]! ? 1 : 0;
  }),
  notEqual: comparison("notEqual", (a, sa, b, sb, out) => {
    for (let i = 0; i < out.length; i++) out[i] = a[i * sa]! !== b[i * sb]! ? 1 : 0;
  }),
};
