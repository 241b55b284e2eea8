/**
 * Authorization benchmark (`npm run bench:authz`): decisions per second and per-decision
 * latency (p50/p99/p999) of the policy engine on the shipped default policy, in-process.
 * Goal from issue 3: p99 at most 20 µs per decision.
 *
 * Requests: every role x action x purpose of use (and none) x relationship (and none) x
 * break-glass grant (none, active, expired): the "matrix" mix, shuffled; and the "permitted"
 * mix, the cells the policy permits (the everyday path of legitimate work).
 *
 * Latency is timed per decision with process.hrtime.bigint(). The timer's own cost is measured
 * in the same run by timing an empty call the same way; figures are shown raw and net of that
 * overhead (raw minus the empty loop's p50). Same-run baseline: the linear scan over every
 * rule that `explain` uses (without its trace), so the ratio shows what the index buys.
 * Figures, never pass/fail: the machine is shared and noisy. Last line: one-line summary.
 * Env: WARD_BENCH_SECONDS (throughput run per engine and mix, default 2),
 *      WARD_BENCH_ROUNDS (latency passes over each mix, default 4).
 */
import { readFileSync } from 'node:fs';
import { roles } from '../src/auth/roles.js';
import type { AccessRequest, Relationship } from '../src/policy/access-request.js';
import type { AccessDecision } from '../src/policy/access-decision.js';
import { actionCatalog, actionCodes } from '../src/policy/action-catalog.js';
import type { CompiledPolicy } from '../src/policy/compiled-policy.js';
import { DATA_VIEW_NAMES } from '../src/policy/data-views.js';
import { decide } from '../src/policy/decide.js';
import { decideByScan } from '../src/policy/explain.js';
import { parsePolicy } from '../src/policy/parse-policy.js';
import { purposesOfUse } from '../src/policy/purpose-of-use.js';

const SECONDS = Number(process.env.WARD_BENCH_SECONDS ?? 2);
const ROUNDS = Number(process.env.WARD_BENCH_ROUNDS ?? 4);
const NOW = '2026-11-29T10:00:00.000Z';

const file = new URL('../data/policy/default-policy.json', import.meta.url);
const policy = parsePolicy(readFileSync(file, 'utf8'), { roles, views: DATA_VIEW_NAMES });

type Engine = (p: CompiledPolicy, r: AccessRequest) => AccessDecision;
const engines: { name: string; fn: Engine }[] = [
  { name: 'index (decide)', fn: decide },
  { name: 'linear scan', fn: (p, r) => decideByScan(p, r) },
];
const EMPTY_DECISION: AccessDecision = { effect: 'deny', policyVersion: 'x', code: 'policy.no_matching_rule', reasons: [] };
/** The timer baseline: a call of the same shape that does nothing. */
const emptyEngine: Engine = () => EMPTY_DECISION;

function buildMatrix(): AccessRequest[] {
  const out: AccessRequest[] = [];
  const rels: (Relationship | undefined)[] = ['care-team', 'assigned', 'none', undefined];
  for (const role of roles) {
    const kind = role === 'workflow' || role === 'integration' ? 'service' : 'person';
    for (const action of actionCodes) {
      const patient = actionCatalog[action].patient === 'none' ? undefined : `pat_${out.length % 97}`;
      for (const purpose of [...purposesOfUse, undefined]) {
        for (const relationship of rels) {
          for (const grant of ['none', 'active', 'expired'] as const) {
            out.push({
              principal: { id: `acct_${out.length % 101}`, kind, roles: [role] },
              action,
              ...(purpose !== undefined ? { purpose } : {}),
              ...(patient !== undefined ? { patient } : {}),
              ...(relationship !== undefined ? { relationship } : {}),
              ...(grant !== 'none' && patient !== undefined && purpose !== undefined
                ? { breakGlass: { id: 'bg_1', patient, purpose, expiresAt: grant === 'active' ? '2026-11-29T14:00:00.000Z' : '2026-11-29T06:00:00.000Z' } }
                : {}),
              now: NOW,
            });
          }
        }
      }
    }
  }
  return out;
}

/** Deterministic shuffle (mulberry32), so branch prediction cannot learn the order. */
function shuffle<T>(items: T[], seed = 42): T[] {
  let s = seed >>> 0;
  const rand = (): number => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
  return items;
}

let sink = 0;

function throughput(fn: Engine, requests: readonly AccessRequest[]): number {
  let n = 0;
  const started = performance.now();
  const end = started + SECONDS * 1000;
  while (performance.now() < end) {
    for (let i = 0; i < requests.length && i < 10_000; i++) {
      const r = requests[(n + i) % requests.length] as AccessRequest;
      if (fn(policy, r).effect === 'permit') sink++;
    }
    n += Math.min(10_000, requests.length);
  }
  return n / ((performance.now() - started) / 1000);
}

/** Per-decision latency in ns, ROUNDS passes over the requests. */
function latencies(fn: Engine, requests: readonly AccessRequest[]): Float64Array {
  const out = new Float64Array(requests.length * ROUNDS);
  let k = 0;
  for (let round = 0; round < ROUNDS; round++) {
    for (let i = 0; i < requests.length; i++) {
      const r = requests[i] as AccessRequest;
      const t0 = process.hrtime.bigint();
      const d = fn(policy, r);
      const t1 = process.hrtime.bigint();
      if (d.effect === 'permit') sink++;
      out[k++] = Number(t1 - t0);
    }
  }
  return out.sort();
}

function pct(sorted: Float64Array, p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

const fmt = (n: number, d = 0): string => n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d });

const matrix = shuffle(buildMatrix());
const permitted = matrix.filter((r) => decide(policy, r).effect === 'permit');
const mixes = [
  { name: 'matrix', requests: matrix },
  { name: 'permitted', requests: permitted },
];

console.log(`policy ${policy.version}: ${policy.rules.length} rules, ${roles.length} roles, ${actionCodes.length} actions, ${purposesOfUse.length} purposes of use`);
console.log(`requests: matrix ${fmt(matrix.length)} (${fmt(permitted.length)} permitted, ${fmt(matrix.length - permitted.length)} denied); node ${process.version}`);

// Warm-up: every engine over every request, until the JIT has settled.
for (let i = 0; i < 3; i++) for (const e of [...engines, { name: 'empty', fn: emptyEngine }]) for (const m of mixes) for (const r of m.requests) if (e.fn(policy, r).effect === 'permit') sink++;

const timer = latencies(emptyEngine, matrix);
const overhead = pct(timer, 50);
console.log(`\ntimer overhead (empty call timed the same way, same run): p50 ${fmt(overhead)} ns, p99 ${fmt(pct(timer, 99))} ns, p999 ${fmt(pct(timer, 99.9))} ns`);

const summary: Record<string, string> = {};
const results = new Map<string, { dps: number; p50: number; p99: number; p999: number }>();
console.log('\nmix        engine            decisions/s   p50 ns   p99 ns  p999 ns   net of timer: p50 / p99 / p999 ns');
for (const m of mixes) {
  for (const e of engines) {
    const dps = throughput(e.fn, m.requests);
    const lat = latencies(e.fn, m.requests);
    const r = { dps, p50: pct(lat, 50), p99: pct(lat, 99), p999: pct(lat, 99.9) };
    results.set(`${m.name}/${e.name}`, r);
    const net = (v: number): string => fmt(Math.max(0, v - overhead));
    console.log(
      `${m.name.padEnd(10)} ${e.name.padEnd(16)} ${fmt(dps).padStart(12)} ${fmt(r.p50).padStart(8)} ${fmt(r.p99).padStart(8)} ${fmt(r.p999).padStart(8)}   ${net(r.p50)} / ${net(r.p99)} / ${net(r.p999)}`,
    );
  }
}

console.log('\nindex vs linear scan (same run; ratio = scan / index):');
for (const m of mixes) {
  const idx = results.get(`${m.name}/index (decide)`);
  const scan = results.get(`${m.name}/linear scan`);
  if (idx === undefined || scan === undefined) continue;
  const netRatio = (a: number, b: number): string => fmt(Math.max(1, a - overhead) / Math.max(1, b - overhead), 1);
  console.log(
    `  ${m.name.padEnd(10)} throughput ${fmt(idx.dps / scan.dps, 1)}x   p50 ${fmt(scan.p50 / idx.p50, 1)}x raw, ${netRatio(scan.p50, idx.p50)}x net   p99 ${fmt(scan.p99 / idx.p99, 1)}x raw, ${netRatio(scan.p99, idx.p99)}x net`,
  );
  summary[`${m.name}_dps`] = String(Math.round(idx.dps));
  summary[`${m.name}_p50_ns`] = String(Math.round(idx.p50));
  summary[`${m.name}_p99_ns`] = String(Math.round(idx.p99));
  summary[`${m.name}_p999_ns`] = String(Math.round(idx.p999));
  summary[`${m.name}_scan_p99_ns`] = String(Math.round(scan.p99));
  summary[`${m.name}_speedup_dps`] = (idx.dps / scan.dps).toFixed(1);
}
summary.timer_p50_ns = String(Math.round(overhead));
const p99 = results.get('matrix/index (decide)')?.p99 ?? Number.NaN;
console.log(`\ngoal p99 <= 20,000 ns per decision: matrix p99 ${fmt(p99)} ns raw (${fmt(p99 / 20_000 * 100, 1)}% of the goal)`);
if (sink < 0) console.log(sink); // keeps the decisions observable to the JIT
console.log(`\nauthz: ${Object.entries(summary).map(([k, v]) => `${k}=${v}`).join(' ')}`);
