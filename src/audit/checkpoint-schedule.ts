/**
 * When to sign the next checkpoint: every `intervalMs`, and sooner once `everyEntries` new
 * entries have been written, so the unsigned window stays bounded in time and in size (and
 * so does the work of re-verifying it before signing). Pure: the caller supplies time and the
 * entry count, and reports how the checkpoint went.
 */
export class CheckpointSchedule {
  private lastTimed: number;
  private entriesAtCheckpoint = 0;
  private inFlight = false;

  constructor(
    private readonly intervalMs: number,
    private readonly everyEntries: number,
    now: number,
  ) {
    this.lastTimed = now;
  }

  /** Whether a checkpoint should start now; if so, the caller must call `finished` after it. */
  due(now: number, entries: number): boolean {
    if (this.inFlight) return false;
    const timed = now - this.lastTimed >= this.intervalMs;
    if (!timed && entries - this.entriesAtCheckpoint < this.everyEntries) return false;
    if (timed) this.lastTimed = now;
    this.inFlight = true;
    return true;
  }

  /** Record the outcome of the checkpoint `due` asked for; `entries` is the count when it started. */
  finished(ok: boolean, entries: number): void {
    this.inFlight = false;
    if (ok) this.entriesAtCheckpoint = entries;
  }
}
