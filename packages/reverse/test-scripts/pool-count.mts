// Large arrays (over 32 KiB) one W2 gradient's backward sweep allocates, and how many of them come
// from the free list, for the first call and a later one (n = 1e5 float64s; deterministic counts).
// Run: node --conditions=@chainrule/source --import tsx test-scripts/pool-count.mts
import { add, mul, scalar, slice, sub, sum, tensor, type Tensor } from "@chainrule/ir";
import { clearFreeList, freeListBytes, type SweepPool } from "../src/arith.js";
import { reverseVjp } from "../src/tape.js";

function rosenbrock(x: Tensor): Tensor {
  const n = x.shape[0]!;
  const head = slice(x, [0], [n - 1]);
  const tail = slice(x, [1]);
  const t = sub(tail, mul(head, head));
  const u = sub(1, head);
  return sum(add(mul(100, mul(t, t)), mul(u, u)));
}

const x = tensor(Float64Array.from({ length: 100_000 }, (_, i) => 1 + 0.5 * Math.sin(i)));
function sweep(): { allocations: number; reused: number } {
  const { trace, slots } = reverseVjp((xs) => [rosenbrock(xs[0]!)], [x]);
  let seen: SweepPool | undefined;
  trace.backward(slots, [scalar(1)], [0], undefined, false, (p) => {
    seen = p;
  });
  return { allocations: seen!.allocations, reused: seen!.reused };
}
clearFreeList();
const first = sweep();
const later = sweep();
console.log(JSON.stringify({ first, later, freeListBytes: freeListBytes() }));
