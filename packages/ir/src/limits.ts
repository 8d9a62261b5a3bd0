/**
 * Documented limits on what ir accepts from users, so that a huge or deeply nested input gives a
 * clear error naming the op instead of a bare `RangeError` (an invalid typed-array length, or a
 * stack overflow).
 */
import { ArgumentError } from "./errors.js";

/**
 * The most elements one tensor may hold: 2³¹ − 1, so that every element index fits an int32 (as
 * `gather`'s indices and `argmax`'s results are). Allocating more throws an `ArgumentError` naming
 * the op and the size. Memory may run out before this limit; that is reported the same way.
 */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/**
 * The deepest nesting ir walks: pytree depth (arrays and plain objects), nested-array depth in
 * `tensor()`, tree definitions, and tensor rank. Deeper inputs throw an `ArgumentError` with the
 * limit instead of overflowing the stack.
 */
export const MAX_DEPTH = 1000;

/** Throws when `depth` (0 at the top) passes `MAX_DEPTH`; `what` names the nested thing. */
export function checkDepth(op: string, depth: number, what: string, path: string): void {
  if (depth > MAX_DEPTH) {
    throw new ArgumentError(
      `${op}: expected ${what} nested at most ${MAX_DEPTH} levels deep (MAX_DEPTH), got deeper nesting at ${shortPath(path)}`,
    );
  }
}

/** A path of a thousand levels is too long to print whole. */
function shortPath(path: string): string {
  return path.length > 80 ? `${path.slice(0, 40)}…${path.slice(-30)}` : path;
}
