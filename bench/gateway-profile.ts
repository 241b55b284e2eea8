/**
 * Where a Ward child's CPU went, from the V8 CPU profile `node --cpu-prof` writes at exit (the
 * gateway benchmark with WARD_BENCH_PROFILE=1): self time grouped by area of the code (Ward's
 * own directories, the main libraries, Node internals, garbage collection, idle) and the
 * functions with the most self time. A hint, not a measurement: the profiler slows the
 * process it samples, so these figures come from a run whose throughput is not reported as
 * Ward's.
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

interface CpuProfile {
  nodes: ProfileNode[];
  /** Microseconds on the monotonic clock (the one process.hrtime reads). */
  startTime: number;
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled ms in total, and outside idle. */
  totalMs: number;
  busyMs: number;
  areas: { area: string; ms: number }[];
  functions: { name: string; ms: number }[];
  /** Ward's own functions (src/) by inclusive time: the sample's stack holds them. */
  wardInclusive: { name: string; ms: number }[];
}

/** The area a frame belongs to: `src/<dir>` for Ward, the package for a dependency, else Node's part. */
export function areaOf(frame: ProfileNode['callFrame']): string {
  const { url, functionName } = frame;
  if (functionName === '(idle)') return '(idle)';
  if (functionName === '(garbage collector)') return '(garbage collector)';
  if (functionName === '(program)') return '(program: native, not JS)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1] !== undefined) return pkg[1];
  const own = /\/src\/([^/]+)\//.exec(url);
  if (own?.[1] !== undefined) return `ward src/${own[1]}`;
  if (url.startsWith('node:')) return `node ${url.slice(5).split('/')[0] ?? ''}`;
  if (url === '') return '(native / builtins)';
  return url.replace(/^.*\//, '');
}

/** A function and its file; line numbers only for dependencies (Ward's own files run transformed by tsx, so theirs would mislead). */
function frameName(frame: ProfileNode['callFrame']): string {
  const file = frame.url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '');
  const where = frame.url === '' ? '' : file.startsWith('src/') ? ` ${file}` : ` ${file}:${frame.lineNumber + 1}`;
  const fn = frame.functionName || '(anonymous)';
  // A regular expression's frame is named by its whole source: keep the start.
  return `${fn.length > 100 ? `${fn.slice(0, 97)}...` : fn}${where}`;
}

/**
 * `window`: only samples taken between these monotonic times (µs, as process.hrtime gives
 * them / 1000), so start-up (module loading, migrations) stays out of a steady-state picture.
 */
export function summarizeProfile(file: string, options: { top?: number; window?: { fromUs: number; toUs: number } } = {}): ProfileSummary {
  const top = options.top ?? 15;
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  const parent = new Map<number, number>();
  for (const n of profile.nodes) {
    byId.set(n.id, n);
    for (const c of n.children ?? []) parent.set(c, n.id);
  }
  // Self time per node: the time delta that follows each sample belongs to that sample's node.
  const selfUs = new Map<number, number>();
  const inclusive = new Map<string, number>();
  let at = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    at += profile.timeDeltas[i] ?? 0;
    if (options.window !== undefined && (at < options.window.fromUs || at > options.window.toUs)) continue;
    const id = profile.samples[i] ?? -1;
    const dt = Math.max(0, profile.timeDeltas[i + 1] ?? 0);
    selfUs.set(id, (selfUs.get(id) ?? 0) + dt);
    // Each Ward function on the stack once (recursion is not counted twice).
    const seen = new Set<string>();
    for (let n: number | undefined = id; n !== undefined; n = parent.get(n)) {
      const frame = byId.get(n)?.callFrame;
      if (frame === undefined || !/\/src\//.test(frame.url) || /node_modules/.test(frame.url)) continue;
      const name = frameName(frame);
      if (seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + dt);
    }
  }
  const areas = new Map<string, number>();
  const functions = new Map<string, number>();
  let total = 0;
  let idle = 0;
  for (const [id, us] of selfUs) {
    const node = byId.get(id);
    if (node === undefined) continue;
    total += us;
    const area = areaOf(node.callFrame);
    if (area === '(idle)') idle += us;
    areas.set(area, (areas.get(area) ?? 0) + us);
    if (area === '(idle)') continue;
    const name = frameName(node.callFrame);
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    busyMs: (total - idle) / 1000,
    areas: sorted(areas).map(([area, us]) => ({ area, ms: us / 1000 })),
    functions: sorted(functions).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000 })),
    wardInclusive: sorted(inclusive).slice(0, top * 2).map(([name, us]) => ({ name, ms: us / 1000 })),
  };
}
