/**
 * A map that keeps at most `max` entries and forgets the least recently used first: the one
 * bound behind Ward's caches of compiled things (JSON-schema validators, grammars, prepared
 * statements), so a caller sending ever-new inputs cannot grow memory without limit.
 */
export class LruMap<K, V> {
  private readonly map = new Map<K, V>();

  /** `onEvict` runs for each entry pushed out by `set` (to free what the value holds). */
  constructor(
    private readonly max: number,
    private readonly onEvict?: (key: K, value: V) => void,
  ) {
    if (!Number.isInteger(max) || max < 1) throw new RangeError('LruMap needs max >= 1');
  }

  get size(): number {
    return this.map.size;
  }

  /** The value, now the most recently used. */
  get(key: K): V | undefined {
    const value = this.map.get(key);
    if (value === undefined) return undefined;
    this.map.delete(key);
    this.map.set(key, value);
    return value;
  }

  set(key: K, value: V): void {
    this.map.delete(key);
    this.map.set(key, value);
    while (this.map.size > this.max) {
      const oldest = this.map.entries().next();
      if (oldest.done === true) break;
      this.map.delete(oldest.value[0]);
      this.onEvict?.(oldest.value[0], oldest.value[1]);
    }
  }

  delete(key: K): boolean {
    return this.map.delete(key);
  }

  clear(): void {
    this.map.clear();
  }
}
