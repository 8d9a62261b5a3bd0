/** Compile-cache bookkeeping: global statistics and compile events with their reasons. */
import { ArgumentError, describeValue } from "@chainrule/ir";
import { BoundedCache } from "@chainrule/wasm";

export interface CompileEvent {
  /** Which transformation compiled: "grad", "jvp", "jit", … */
  readonly transform: string;
  /** Why: "first call", or "signature changed: <before> → <after>". */
  readonly reason: string;
  readonly signature: string;
  /** Traced graph size and size after optimization. */
  readonly nodes: number;
  readonly optimizedNodes: number;
  /** Milliseconds spent tracing + optimizing + generating + building the function. */
  readonly milliseconds: number;
}

export interface CompileStats {
  /** Graphs compiled (cache misses). */
  compiles: number;
  /** Calls answered by an already compiled function. */
  cacheHits: number;
  /** Calls run by the interpreter (on tracers of an enclosing transformation, or in NaN-debug mode). */
  interpreted: number;
  /** Entries dropped because a function's cache exceeded its size limit. */
  evictions: number;
  /**
   * Graphs traced for `jit(f)` called inside another transformation (once per signature: later
   * calls evaluate the cached graph on the enclosing transformation's tracers, f does not run again).
   */
  nestedTraces: number;
  /** The most recent compile events (at most 100). */
  readonly events: CompileEvent[];
}

export const stats: CompileStats = { compiles: 0, cacheHits: 0, interpreted: 0, evictions: 0, nestedTraces: 0, events: [] };

const listeners = new Set<(event: CompileEvent) => void>();

/** The JIT's counters; `events` lists recent compiles with the reason for each. */
export function compileStats(): Readonly<CompileStats> {
  return stats;
}

export function resetCompileStats(): void {
  stats.compiles = 0;
  stats.cacheHits = 0;
  stats.interpreted = 0;
  stats.evictions = 0;
  stats.nestedTraces = 0;
  stats.events.length = 0;
}

/** Calls `listener` on every compile (returns an unsubscribe function): makes recompilation storms visible. */
export function onCompile(listener: (event: CompileEvent) => void): () => void {
  if (typeof listener !== "function") throw new ArgumentError(`onCompile: expected a listener function, got ${describeValue(listener)}`);
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export function recordCompile(event: CompileEvent): void {
  stats.compiles++;
  stats.events.push(event);
  if (stats.events.length > 100) stats.events.shift();
  for (const l of listeners) l(event);
}

/**
 * Per-function cache: signature key → compiled entry, at most `limit` entries (`cacheSize`,
 * default 64); the least recently used signature is dropped first (counted in `evictions`).
 */
export class SignatureCache<E> {
  private readonly entries: BoundedCache<string, E>;
  lastSignature: string | undefined;
  constructor(readonly limit = 64) {
    this.entries = new BoundedCache(limit, () => stats.evictions++);
  }

  get(key: string): E | undefined {
    return this.entries.get(key);
  }

  /** The entry without refreshing it (reading `.source` does not count as a use). */
  peek(key: string): E | undefined {
    return this.entries.peek(key);
  }

  set(key: string, entry: E): void {
    this.entries.set(key, entry);
  }

  get size(): number {
    return this.entries.size;
  }
}
