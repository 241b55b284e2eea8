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
  hitCount?: number;
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileSummary {
  /** Sampled ms in total, and outside idle. */
  totalMs: number;
  busyMs: number;
  areas: { area: string; ms: number }[];
  functions: { name: string; ms: number }[];
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

export function summarizeProfile(file: string, top = 15): ProfileSummary {
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of profile.nodes) byId.set(n.id, n);
  // Self time per node: the time delta that follows each sample belongs to that sample's node.
  const selfUs = new Map<number, number>();
  for (let i = 0; i < profile.samples.length; i++) {
    const id = profile.samples[i] ?? -1;
    const dt = profile.timeDeltas[i + 1] ?? 0;
    selfUs.set(id, (selfUs.get(id) ?? 0) + Math.max(0, dt));
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
    const where = node.callFrame.url === '' ? '' : ` ${node.callFrame.url.replace(/^.*\/(node_modules|src)\//, '$1/').replace(/^file:\/\//, '')}:${node.callFrame.lineNumber + 1}`;
    const name = `${node.callFrame.functionName || '(anonymous)'}${where}`;
    functions.set(name, (functions.get(name) ?? 0) + us);
  }
  const sorted = (m: Map<string, number>): [string, number][] => [...m.entries()].sort((a, b) => b[1] - a[1]);
  return {
    totalMs: total / 1000,
    busyMs: (total - idle) / 1000,
    areas: sorted(areas).map(([area, us]) => ({ area, ms: us / 1000 })),
    functions: sorted(functions).slice(0, top).map(([name, us]) => ({ name, ms: us / 1000 })),
  };
}
