/**
 * Buffer assignment by liveness: every intermediate buffer takes the name of a pooled array of
 * its dtype and size that is no longer live when it is first written (or a new pooled array).
 * Output buffers are allocated per call and never pooled.
 */
import type { Buf } from "./locations.js";
import { ARRAY_CTOR, ident, int } from "./source-text.js";

export interface Pooling {
  /** Declarations of the pooled arrays (allocated once per compiled function). */
  readonly declarations: string[];
  readonly pooledBytes: number;
}

/** Names every buffer in `bufs` (outputs `o<i>`, or `O[i]` when spilled); `reuse: false` gives each its own array. */
export function assignBuffers(bufs: readonly Buf[], spill: boolean, reuse: boolean): Pooling {
  const declarations: string[] = [];
  let pooledBytes = 0;
  let pooled = 0;
  const free = new Map<string, string[]>();
  // buffers in use, a min-heap by last use: a gradient program keeps ~n forward values alive, so a
  // linear scan per buffer was quadratic (5 ms of a 2,000-node program's 11 ms of codegen)
  const active = new LastUseHeap();
  const sorted = bufs.map((b, i) => [b, i] as const).sort((x, y) => x[0].def - y[0].def || x[1] - y[1]);
  for (const [b, i] of sorted) {
    if (b.output) {
      b.name = spill ? `O[${int(i)}]` : ident("o", i);
      continue;
    }
    while (active.size > 0 && active.top.lastUse < b.def) {
      const a = active.pop();
      const key = `${a.dtype}:${a.size}`;
      if (reuse) (free.get(key) ?? free.set(key, []).get(key)!).push(a.name);
    }
    if (b.reads === 0 && b.droppable) continue; // never read: its stores in a fused loop were dropped
    const reused = free.get(`${b.dtype}:${b.size}`)?.pop();
    if (reused !== undefined) b.name = reused;
    else {
      b.name = ident("B", pooled++);
      pooledBytes += b.size * (b.dtype === "float64" ? 8 : b.dtype === "bool" ? 1 : 4);
      declarations.push(`const ${b.name} = new ${ARRAY_CTOR[b.dtype]}(${int(b.size)});`);
    }
    active.push(b);
  }
  return { declarations, pooledBytes };
}

/** A binary min-heap of buffers by last use. */
class LastUseHeap {
  private readonly items: Buf[] = [];

  get size(): number {
    return this.items.length;
  }

  get top(): Buf {
    return this.items[0]!;
  }

  push(b: Buf): void {
    const items = this.items;
    let i = items.push(b) - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]!.lastUse <= b.lastUse) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = b;
  }

  pop(): Buf {
    const items = this.items;
    const top = items[0]!;
    const last = items.pop()!;
    if (items.length > 0) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= items.length) break;
        const c = l + 1 < items.length && items[l + 1]!.lastUse < items[l]!.lastUse ? l + 1 : l;
        if (items[c]!.lastUse >= last.lastUse) break;
        items[i] = items[c]!;
        i = c;
      }
      items[i] = last;
    }
    return top;
  }
}
