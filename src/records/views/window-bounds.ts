/**
 * The instants a view's window spans, shared by `applyView` (which compares each resource's
 * clinical instant) and `viewPlan` (which turns them into years for the store), so the two can
 * never disagree about what "the last 365 days" means.
 */
import { WardError } from '../../shared/ward-error.js';
import type { ViewWindow } from './data-view.js';

export const DAY_MS = 86_400_000;

export interface WindowBounds {
  /** Earliest instant kept, ms since the epoch (inclusive). */
  readonly from: number;
  /** Latest instant kept, ms since the epoch (inclusive). */
  readonly to: number;
}

/** [now - pastDays, now + futureDays] in 24-hour days; throws on an invalid `now` (fail closed). */
export function windowBounds(window: ViewWindow, now: Date): WindowBounds {
  const t = now.getTime();
  if (!Number.isFinite(t)) throw new WardError('views.invalid_clock', 'a data view window needs a valid current time', { status: 500 });
  return { from: t - window.pastDays * DAY_MS, to: t + window.futureDays * DAY_MS };
}
