/**
 * Per-op table rows: shape ops (issue 17, family "shapes": ops-nn). Rearrangements are linear, so
 * any input is inside their domain; each row runs on several shapes, including size-1 axes.
 */
import * as ir from "@chainrule/ir";
import type { Tensor } from "@chainrule/ir";
import { anyReal, type OpFn, type OpRow, type Shape } from "../optable.js";

function row(name: string, fn: OpFn, shapes: readonly Shape[]): OpRow {
  return { name, primitive: false, fn, domain: [anyReal], shapes: shapes.map((s) => [s]) };
}

/** The parts of a split, each scaled by a different factor and joined again: every part's gradient differs. */
function rejoin(parts: readonly Tensor[], axis: number): Tensor {
  return ir.concat(
    parts.map((p, i) => ir.mul(p, i + 1)),
    axis,
  );
}

export function shapeRows(): OpRow[] {
  return [
    row("split(x, 2) (parts rejoined)", (x) => rejoin(ir.split(x!, 2), 0), [[4], [2, 3], [6, 1, 2]]),
    row("split(x, [1, 3], -1) (parts rejoined)", (x) => rejoin(ir.split(x!, [1, 3], -1), -1), [[5], [2, 4], [2, 1, 3]]),
    row("split(x, [2], 1)[1]", (x) => ir.split(x!, [2], 1)[1]!, [
      [2, 3],
      [1, 4, 2],
    ]),
    row("flip()", (x) => ir.flip(x!), [[5], [2, 3], [2, 1, 3]]),
    row("flip(axis 0)", (x) => ir.flip(x!, 0), [[4], [3, 2]]),
    row("flip([0, -1])", (x) => ir.flip(x!, [0, -1]), [
      [2, 3],
      [2, 2, 3],
    ]),
    row("tile(x, 2)", (x) => ir.tile(x!, 2), [[], [3], [2, 3]]),
    row("tile(x, [2, 1, 3])", (x) => ir.tile(x!, [2, 1, 3]), [[], [2], [2, 1], [1, 2, 1]]),
    row("repeat(x, 2) (flattened)", (x) => ir.repeat(x!, 2), [[], [3], [2, 3]]),
    row("repeat(x, 3, -1)", (x) => ir.repeat(x!, 3, -1), [
      [2, 2],
      [2, 1, 3],
    ]),
    row("repeat(x, [1, 0, 2], 0)", (x) => ir.repeat(x!, [1, 0, 2], 0), [[3], [3, 2]]),
    row("roll(x, 2) (flattened)", (x) => ir.roll(x!, 2), [[5], [2, 3]]),
    row("roll(x, -1, 1)", (x) => ir.roll(x!, -1, 1), [
      [2, 3],
      [2, 4, 1],
    ]),
    row("roll(x, [1, -1], [0, 1])", (x) => ir.roll(x!, [1, -1], [0, 1]), [
      [2, 3],
      [3, 2, 2],
    ]),
    row("diag(v) (vector to matrix)", (x) => ir.diag(x!), [[1], [3]]),
    row("diag(v, -1)", (x) => ir.diag(x!, -1), [[2], [3]]),
    row("diag(m, 1) (matrix to diagonal)", (x) => ir.diag(x!, 1), [
      [3, 3],
      [2, 4],
    ]),
    row("diagonal()", (x) => ir.diagonal(x!), [
      [3, 3],
      [2, 4],
      [4, 2, 1],
    ]),
    row("diagonal(x, -1, 0, 2)", (x) => ir.diagonal(x!, -1, 0, 2), [
      [3, 2, 3],
      [2, 1, 4],
    ]),
    row("triu()", (x) => ir.triu(x!), [
      [3, 3],
      [2, 4],
      [2, 3, 3],
    ]),
    row("triu(x, 1)", (x) => ir.triu(x!, 1), [
      [3, 3],
      [4, 2],
    ]),
    row("tril(x, -1)", (x) => ir.tril(x!, -1), [
      [3, 3],
      [2, 4],
      [2, 3, 3],
    ]),
    row("swapaxes(x, 0, -1)", (x) => ir.swapaxes(x!, 0, -1), [
      [2, 3],
      [2, 3, 4],
    ]),
    row("moveaxis(x, 0, -1)", (x) => ir.moveaxis(x!, 0, -1), [
      [3, 2],
      [2, 3, 4],
    ]),
    row("moveaxis(x, [0, 1], [-1, 0])", (x) => ir.moveaxis(x!, [0, 1], [-1, 0]), [
      [2, 3, 4],
      [1, 2, 3],
    ]),
  ];
}
