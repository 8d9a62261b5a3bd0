import { internalError } from "@chainrule/ir";
/**
 * A cache with a fixed maximum number of entries: reading an entry makes it the most recently
 * used, and adding one beyond the limit drops the least recently used (a Map keeps insertion
 * order, so the first key is always the least recently used).
 */
export class BoundedCache<K, V> {
  private readonly entries = new Map<K, V>();

  constructor(
    readonly limit: number,
    /** Called with each entry dropped to make room. */
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isSafeInteger(limit) || limit < 1) throw internalError("a cache limit is an integer ≥ 1");
  }

  get(key: K): V | undefined {
    const value = this.entries.get(key);
    if (value !== undefined) {
      this.entries.delete(key);
      this.entries.set(key, value);
    }
    return value;
  }

  /** The entry without making it the most recently used (for inspection). */
  peek(key: K): V | undefined {
    return this.entries.get(key);
  }

  set(key: K, value: V): void {
    this.entries.delete(key);
    while (this.entries.size >= this.limit) {
      const [oldest, dropped] = this.entries.entries().next().value as [K, V];
      this.entries.delete(oldest);
      this.onEvict?.(oldest, dropped);
    }
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }
}
