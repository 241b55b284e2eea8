/**
 * Gateway benchmark (`npm run bench:gateway`, issue 6 "Measure"): what Ward's safeguards cost
 * on the model path. An OpenAI-compatible upstream on 127.0.0.1 that answers at once (the
 * fake of src/models/testing: `echo: <prompt>` cut to 4 x max_tokens characters) is loaded with
 * autocannon at 10 and 100 connections through three targets, all in one run:
 *
 *   (a) upstream direct: the model server alone, for reference;
 *   (b) minimal proxy: node:http forwarding with a keep-alive agent and no safeguards
 *       (bench/gateway-proxy.ts): the baseline;
 *   (c) Ward: the real `ward serve` on a fresh data directory (`ward init`, SQLite, the
 *       embedded default) with an API key of an `integration` service (authentication), the
 *       shipped policy (purpose of use TREAT), the PHI scan of the prompt and of the answer,
 *       the identifier guard (its blind-index lookup) and a hash-chained audit entry per call;
 *       the rate limit is off (`gateway.requestsPerMinute: 0`), as a benchmark would trip it.
 *   (d) when PostgreSQL is reachable: the same Ward on PostgreSQL (labelled; not the main figure).
 *
 * The request: non-streaming `POST /v1/chat/completions`, a short system message and a ~1 KB
 * synthetic administrative user message holding synthetic PHI (a name, an MRN, dates, a phone
 * number) so the scans do real work, `max_tokens: 64`. Every server runs in its own child
 * process (the machine has 2 shared cores): the load generator never shares an event loop with
 * what it measures. Latency percentiles come from every 200 response's own time (autocannon's
 * histogram has 1 ms steps); every status is checked and anything but 200 is reported.
 *
 * Rounds: after a warm-up of each target, WARD_BENCH_ROUNDS rounds, each running every
 * (connections x target) for WARD_BENCH_SECONDS, targets in a rotated order per round so drift
 * on the machine hits every target alike. Reported per target and connections: the best of the
 * rounds (highest req/s, lowest p50 and p99, lowest server CPU per request: interference from
 * other tenants only ever slows a run down), with every round printed too. Ratios are against
 * the minimal proxy of the same run. Server CPU per request (from /proc) is far less disturbed
 * by the shared machine than wall-clock figures, and says what Ward adds per call.
 * Then, in-process: the PHI scan (deid `analyze`) of the same prompt and answer, per call.
 *
 * Goals (issue 6, 1 KB prompts): Ward at least 0.8x the minimal proxy's throughput; at most
 * 2 ms of added p99 latency at 10 connections. Figures and ratios, never pass/fail.
 * Last line: one-line summary `gateway: key=value ...`.
 *
 * Env: WARD_BENCH_SECONDS (per target x connections x round, default 8),
 *      WARD_BENCH_ROUNDS (default 2), WARD_BENCH_WARMUP_SECONDS (per target, default 3),
 *      WARD_BENCH_CONNECTIONS (default "10,100"),
 *      WARD_BENCH_SKIP_PG=1 (or WARD_TEST_DIALECTS without postgres) to leave PostgreSQL out,
 *      WARD_TEST_PG_URL (default the local test server),
 *      WARD_BENCH_PROFILE=1: run Ward under `node --cpu-prof` and print where its CPU went
 *      (the Ward figures of that run carry the profiler's overhead and are labelled so).
 */
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { analyze } from '../src/deid/analyzer.js';
import { loadDictionaries } from '../src/deid/load-dictionaries.js';
import { identifierCandidates } from '../src/guards/identifier-scope-guard.js';
import { WARD_BIN, cleanEnv, runWard } from '../src/cli/testing/run-ward.js';
import { countWardDb, queryWardDb } from '../src/cli/testing/ward-db-reader.js';
import type { WardDbTarget } from '../src/cli/testing/ward-db-reader.js';
import { createTestPgDatabase, testDialects } from '../src/storage/testing/test-databases.js';
import { cpuMsOf, killAllChildren, startChild } from './gateway-children.js';
import type { BenchChild } from './gateway-children.js';
import { load } from './gateway-load.js';
import type { LoadFigures, LoadRequest } from './gateway-load.js';
import { summarizeProfile } from './gateway-profile.js';

const SECONDS = Number(process.env.WARD_BENCH_SECONDS ?? 8);
const ROUNDS = Number(process.env.WARD_BENCH_ROUNDS ?? 2);
const WARMUP_SECONDS = Number(process.env.WARD_BENCH_WARMUP_SECONDS ?? 3);
const CONNECTIONS = (process.env.WARD_BENCH_CONNECTIONS ?? '10,100').split(',').map((s) => Number(s.trim())).filter((n) => Number.isInteger(n) && n > 0);
const PROFILE = process.env.WARD_BENCH_PROFILE === '1';
const MAX_TOKENS = 64;
const started = performance.now();
const here = (file: string): string => fileURLToPath(new URL(file, import.meta.url));

// ---------------------------------------------------------------------------------------------
// The request. Synthetic: no real person, number or address.

const SYSTEM = 'You are the front-desk assistant of an outpatient clinic. Write plain, friendly administrative text.';
const USER = [
  'Please draft a prior-authorization status letter for the front desk. Patient: Maria Gonzalez, MRN 48213097, born 03/14/1958, phone (617) 555-0143.',
  'She was seen in the orthopedics clinic on 10/02/2026 for chronic right knee pain after a fall; conservative care (physical therapy twice weekly',
  'for eight weeks, anti-inflammatory medication and a home exercise program) did not relieve it. The ordering provider requests an MRI of the right',
  'knee without contrast to evaluate a suspected medial meniscus tear. The insurer asked for the clinic notes, the therapy attendance log and the',
  'imaging order; the office sent them by fax last Tuesday. Summarize the status in three short paragraphs: what was requested, what was sent and',
  'when, and what the patient should expect next (a decision usually comes within fourteen days). Keep a neutral tone, give no medical advice, and',
  'end with the general phone line of the clinic and its office hours, Monday to Friday, 8 am to 5 pm.',
].join(' ');
const BODY = JSON.stringify({ model: 'bench', messages: [{ role: 'system', content: SYSTEM }, { role: 'user', content: USER }], max_tokens: MAX_TOKENS });
/** What the fake upstream answers: the last user message echoed, cut to 4 characters a token. */
const ANSWER = `echo: ${USER}`.slice(0, MAX_TOKENS * 4);

const fmt = (n: number, d = 0): string => (Number.isFinite(n) ? n.toLocaleString('en-US', { maximumFractionDigits: d, minimumFractionDigits: d }) : 'n/a');
const summary: Record<string, string> = {};

// ---------------------------------------------------------------------------------------------
// Cleanup: children and temporary directories go whatever happens.

const temps: string[] = [];
const pgDrops: (() => Promise<void>)[] = [];
function cleanupSync(): void {
  killAllChildren();
  for (const d of temps.splice(0)) rmSync(d, { recursive: true, force: true });
}
process.on('exit', cleanupSync);
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.on(signal, () => {
    console.error(`\ngateway bench: ${signal}, cleaning up`);
    cleanupSync();
    void Promise.allSettled(pgDrops.map((d) => d())).finally(() => process.exit(130));
  });
}

// ---------------------------------------------------------------------------------------------
// The targets.

interface Target {
  name: string;
  key: string;
  /** The process answering the load (its CPU per request is reported). */
  front: BenchChild;
  request: LoadRequest;
  db?: WardDbTarget;
  /** 200 answers counted by the load generator (sanity checks, warm-up and rounds). */
  ok: number;
  profileDir?: string;
}

const READY = /listening on (http:\/\/127\.0\.0\.1:\d+\/v1)/;

async function startUpstream(): Promise<BenchChild> {
  return startChild({ label: 'upstream', args: ['--import', 'tsx', here('./gateway-upstream.ts')], ready: READY, stdinPipe: true });
}

async function startProxy(upstreamUrl: string): Promise<BenchChild> {
  return startChild({ label: 'minimal proxy', args: ['--import', 'tsx', here('./gateway-proxy.ts'), upstreamUrl], ready: READY, stdinPipe: true });
}

const KEY_SHAPE = /\bkey: (wak_[a-z2-7]{12}_[A-Za-z0-9_-]{43})\n/;

/** A fresh `ward` data directory (init, ward.json, an integration key), then `ward serve --port 0`. */
async function startWard(label: string, upstreamUrl: string, databaseUrl?: string): Promise<{ child: BenchChild; key: string; db: WardDbTarget; profileDir?: string }> {
  const root = mkdtempSync(join(tmpdir(), 'ward-bench-gateway-'));
  temps.push(root);
  const data = join(root, 'ward-data');
  const env: Record<string, string> = databaseUrl !== undefined ? { DATABASE_URL: databaseUrl } : {};
  const init = await runWard(['init', '--data', data], { env, timeoutMs: 120_000 });
  if (init.code !== 0) throw new Error(`${label}: ward init failed (${String(init.code)}): ${init.stderr.slice(0, 500)}`);
  writeFileSync(join(data, 'ward.json'), JSON.stringify({
    logLevel: 'warn',
    gateway: { requestsPerMinute: 0 },
    models: [{ id: 'bench', adapter: 'openai-compatible', endpoint: upstreamUrl, zone: 'on-prem', limits: { concurrency: 128, queue: 1024 } }],
  }), { mode: 0o600 });
  const created = await runWard(['api-keys', 'create', '--service', 'bench-app', '--role', 'integration', '--scope', 'model.*', '--data', data], { env, timeoutMs: 60_000 });
  const key = KEY_SHAPE.exec(created.stdout)?.[1];
  if (created.code !== 0 || key === undefined) throw new Error(`${label}: ward api-keys create failed (${String(created.code)}): ${created.stderr.slice(0, 500)}`);
  const profileDir = PROFILE ? join(root, 'cpu-profile') : undefined;
  const child = await startChild({
    label,
    args: [...(profileDir !== undefined ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : []), WARD_BIN, 'serve', '--data', data, '--port', '0'],
    env: cleanEnv(env),
    cwd: root,
    ready: /^ward: serving on (http:\/\/127\.0\.0\.1:\d+)$/m,
    timeoutMs: 120_000,
  });
  const db: WardDbTarget = databaseUrl !== undefined ? { dialect: 'postgres', url: databaseUrl } : { dialect: 'sqlite', file: join(data, 'ward.db') };
  return { child, key, db, ...(profileDir !== undefined ? { profileDir } : {}) };
}

function requestFor(baseUrl: string, key: string): LoadRequest {
  // The same headers go to every target: the upstream and the proxy ignore what they do not need.
  return {
    url: `${baseUrl.replace(/\/v1$/, '')}/v1/chat/completions`,
    headers: { 'content-type': 'application/json', authorization: `Bearer ${key}`, 'x-purpose-of-use': 'TREAT' },
    body: BODY,
  };
}

/** One request through the target: a 200 with the echoed answer, and Ward's headers where Ward answers. */
async function sanityCheck(t: Target, ward: boolean): Promise<void> {
  const res = await fetch(t.request.url, { method: 'POST', headers: t.request.headers, body: t.request.body });
  const text = await res.text();
  if (res.status !== 200) throw new Error(`${t.name}: sanity request answered ${res.status}: ${text.slice(0, 300)}`);
  const body = JSON.parse(text) as { choices?: { message?: { content?: string } }[] };
  const content = body.choices?.[0]?.message?.content;
  if (content !== ANSWER) throw new Error(`${t.name}: unexpected answer (${String(content?.length)} chars)`);
  if (ward && res.headers.get('x-ward-model-zone') !== 'on-prem') throw new Error(`${t.name}: no x-ward-model-zone header: not Ward answering?`);
  t.ok += 1;
}

interface Run extends LoadFigures {
  target: string;
  round: number;
  /** CPU ms per response of the front process and of the upstream. */
  frontCpu: number;
  upstreamCpu: number;
}

async function measure(t: Target, upstream: BenchChild, connections: number, seconds: number, round: number): Promise<Run> {
  const front0 = cpuMsOf(t.front.pid);
  const up0 = cpuMsOf(upstream.pid);
  const f = await load(t.request, connections, seconds);
  const frontCpu = (cpuMsOf(t.front.pid) - front0) / Math.max(1, f.responses);
  const upstreamCpu = t.front === upstream ? Number.NaN : (cpuMsOf(upstream.pid) - up0) / Math.max(1, f.responses);
  t.ok += f.responses - f.non200;
  return { ...f, target: t.name, round, frontCpu, upstreamCpu };
}

const problemsOf = (r: LoadFigures): string => {
  const parts = [];
  if (r.non200 > 0) parts.push(`non-200 ${Object.entries(r.statuses).map(([s, n]) => `${s}x${n}`).join(',')}`);
  if (r.errors > 0) parts.push(`errors ${r.errors}`);
  if (r.timeouts > 0) parts.push(`timeouts ${r.timeouts}`);
  return parts.join('; ') || 'ok';
};

function runLine(r: Run): string {
  return `  ${r.target.padEnd(16)} ${String(r.connections).padStart(5)} ${String(r.round).padStart(5)}  ${fmt(r.rps).padStart(7)}  ${fmt(r.p50, 2).padStart(6)}  ${fmt(r.p99, 2).padStart(6)}  ${fmt(r.frontCpu * 1000).padStart(6)}  ${fmt(r.upstreamCpu * 1000).padStart(6)}  ${fmt(r.loaderCpuMsPerResponse * 1000).padStart(6)}  ${fmt(r.responses).padStart(7)}  ${problemsOf(r)}`;
}

interface Best {
  rps: number;
  p50: number;
  p99: number;
  frontCpu: number;
  upstreamCpu: number;
  non200: number;
  errors: number;
}

function bestOf(runs: readonly Run[]): Best {
  return {
    rps: Math.max(...runs.map((r) => r.rps)),
    p50: Math.min(...runs.map((r) => r.p50)),
    p99: Math.min(...runs.map((r) => r.p99)),
    frontCpu: Math.min(...runs.map((r) => r.frontCpu)),
    upstreamCpu: Math.min(...runs.map((r) => r.upstreamCpu)),
    non200: runs.reduce((n, r) => n + r.non200, 0),
    errors: runs.reduce((n, r) => n + r.errors + r.timeouts, 0),
  };
}

/** Where a profiled Ward's CPU went (WARD_BENCH_PROFILE=1), from the profile it wrote at exit. */
function printProfile(name: string, dir: string, window: { fromUs: number; toUs: number } | undefined): void {
  const file = readdirSync(dir).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) {
    console.log(`\nprofile of ${name}: none written`);
    return;
  }
  const p = summarizeProfile(join(dir, file), { top: 20, ...(window !== undefined ? { window } : {}) });
  console.log(`\nwhere ${name}'s CPU went (V8 sampling profile ${window !== undefined ? 'of the measured rounds' : 'of the whole run, start-up included'}: ${fmt(p.busyMs)} ms busy of ${fmt(p.totalMs)} ms sampled), self time by area:`);
  for (const a of p.areas.filter((x) => x.area !== '(idle)').slice(0, 18)) console.log(`  ${fmt((a.ms / p.busyMs) * 100, 1).padStart(5)}%  ${a.area}`);
  console.log('  top functions by self time:');
  for (const f of p.functions) console.log(`  ${fmt((f.ms / p.busyMs) * 100, 1).padStart(5)}%  ${f.name}`);
  console.log("  Ward's own functions by inclusive time (share of busy time with the function on the stack):");
  for (const f of p.wardInclusive) console.log(`  ${fmt((f.ms / p.busyMs) * 100, 1).padStart(5)}%  ${f.name}`);
}

// ---------------------------------------------------------------------------------------------
// In-process: the PHI scan of this prompt and answer, what Ward runs on every call.

function phiScanCost(): { promptUs: number; answerUs: number; systemUs: number } {
  const dictionaries = loadDictionaries();
  let sink = 0;
  /** CPU µs of this process per analyze() call, best of 5 passes (CPU time: other tenants of the machine barely move it). */
  const per = (text: string): number => {
    for (let i = 0; i < 50; i++) sink += analyze(text, dictionaries).length; // warm-up
    const samples: number[] = [];
    for (let pass = 0; pass < 5; pass++) {
      const n = 300;
      const c0 = process.cpuUsage();
      for (let i = 0; i < n; i++) sink += analyze(text, dictionaries).length;
      const c = process.cpuUsage(c0);
      samples.push((c.user + c.system) / n);
    }
    return Math.min(...samples);
  };
  const found = analyze(USER, dictionaries);
  const answerFound = analyze(ANSWER, dictionaries);
  const types = [...new Set(found.map((d) => d.type))].sort().join(', ');
  const strong = identifierCandidates(ANSWER, answerFound).map((c) => c.type).join(', ');
  console.log(`PHI the scan finds in the user message: ${found.length} spans (${types}); strong identifiers in the answer (looked up by the output guard): ${strong || 'none'}`);
  const out = { promptUs: per(USER), answerUs: per(ANSWER), systemUs: per(SYSTEM) };
  if (sink < 0) console.log(sink);
  return out;
}

// ---------------------------------------------------------------------------------------------

const cpuModel = cpus()[0]?.model ?? 'unknown cpu';
console.log(`gateway benchmark: node ${process.version}, ${availableParallelism()} cores (${cpuModel}), load average ${loadavg().map((l) => fmt(l, 2)).join(' ')}`);
console.log(`request: POST /v1/chat/completions, non-streaming, max_tokens ${MAX_TOKENS}; system message ${fmt(SYSTEM.length)} chars + user message ${fmt(USER.length)} chars (body ${fmt(Buffer.byteLength(BODY))} bytes); the upstream answers at once with ${fmt(ANSWER.length)} chars`);
console.log(`load: autocannon 9 in this process, ${CONNECTIONS.join(' and ')} connections, ${SECONDS} s per target x connections x round, ${ROUNDS} round(s), warm-up ${WARMUP_SECONDS} s per target`);

const scan = phiScanCost();
console.log(`in-process PHI scan (deid analyze, CPU time, best of 5 passes of 300 calls): user message ${fmt(scan.promptUs)} µs, system message ${fmt(scan.systemUs)} µs, answer ${fmt(scan.answerUs)} µs; ${fmt(scan.promptUs + scan.systemUs + scan.answerUs)} µs per call in all`);
summary.phi_scan_us_per_call = (scan.promptUs + scan.systemUs + scan.answerUs).toFixed(0);

const targets: Target[] = [];
const runs: Run[] = [];
/** When the measured rounds ran (monotonic µs): the profile summary looks at them only. */
let roundsWindow: { fromUs: number; toUs: number } | undefined;
const monotonicUs = (): number => Number(process.hrtime.bigint() / 1000n);
let exitCode = 0;
try {
  const upstream = await startUpstream();
  const proxy = await startProxy(upstream.url);
  targets.push({ name: 'upstream direct', key: 'upstream', front: upstream, request: requestFor(upstream.url, 'not-used'), ok: 0 });
  targets.push({ name: 'minimal proxy', key: 'proxy', front: proxy, request: requestFor(proxy.url, 'not-used'), ok: 0 });
  const ward = await startWard('ward (sqlite)', upstream.url);
  targets.push({ name: PROFILE ? 'ward (profiled)' : 'ward (sqlite)', key: 'ward', front: ward.child, request: requestFor(ward.child.url, ward.key), db: ward.db, ok: 0, ...(ward.profileDir !== undefined ? { profileDir: ward.profileDir } : {}) });

  const pgWanted = process.env.WARD_BENCH_SKIP_PG !== '1' && testDialects().some((d) => d.name === 'postgres');
  if (pgWanted) {
    try {
      const pgDb = await createTestPgDatabase('ward_bench_gw');
      pgDrops.push(pgDb.drop);
      const wardPg = await startWard('ward (postgres)', upstream.url, pgDb.url);
      targets.push({ name: 'ward (postgres)', key: 'pg_ward', front: wardPg.child, request: requestFor(wardPg.child.url, wardPg.key), db: wardPg.db, ok: 0 });
    } catch (e) {
      console.log(`postgresql: not used (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); its row is skipped`);
    }
  }

  for (const t of targets) await sanityCheck(t, t.key.endsWith('ward'));
  console.log(`targets: ${targets.map((t) => `${t.name} pid ${t.front.pid}`).join(', ')}; sanity request through each: 200 with the expected answer`);

  // Warm-up: JIT, connection pools, SQLite page cache. Not recorded, but checked.
  for (const t of targets) {
    for (const c of CONNECTIONS) {
      const w = await load(t.request, c, Math.max(1, WARMUP_SECONDS / CONNECTIONS.length));
      t.ok += w.responses - w.non200;
      if (w.non200 > 0 || w.errors > 0 || w.timeouts > 0) console.log(`  warm-up ${t.name} at ${c}: ${problemsOf(w)}`);
    }
  }

  console.log('\nevery round (server CPU: µs of the answering process per response; upstream: the upstream process behind it; loader: this process):');
  console.log('  target           conns round    req/s  p50 ms  p99 ms  server  upstr.  loader  answers  status');
  const roundsFrom = monotonicUs();
  for (let round = 1; round <= ROUNDS; round++) {
    for (const c of CONNECTIONS) {
      // Rotate the order every round, so no target always runs first (or last) on a drifting machine.
      const order = targets.map((_, i) => targets[(i + round - 1) % targets.length]).filter((t): t is Target => t !== undefined);
      for (const t of order) {
        const r = await measure(t, upstream, c, SECONDS, round);
        runs.push(r);
        console.log(runLine(r));
      }
    }
  }
  roundsWindow = { fromUs: roundsFrom, toUs: monotonicUs() };

  // -------------------------------------------------------------------------------------------
  // Best of the rounds, ratios against the minimal proxy.

  const best = new Map<string, Best>();
  for (const t of targets) for (const c of CONNECTIONS) best.set(`${t.key}@${c}`, bestOf(runs.filter((r) => r.target === t.name && r.connections === c)));
  const b = (key: string, c: number): Best | undefined => best.get(`${key}@${c}`);

  console.log(`\nbest of ${ROUNDS} round(s) (highest req/s, lowest p50/p99/CPU):`);
  console.log('  target           conns    req/s  p50 ms  p99 ms  server µs/req  vs proxy req/s  p99 - proxy ms  non-200/errors');
  for (const c of CONNECTIONS) {
    const proxy = b('proxy', c);
    for (const t of targets) {
      const x = b(t.key, c);
      if (x === undefined || proxy === undefined) continue;
      console.log(`  ${t.name.padEnd(16)} ${String(c).padStart(5)}  ${fmt(x.rps).padStart(7)}  ${fmt(x.p50, 2).padStart(6)}  ${fmt(x.p99, 2).padStart(6)}  ${fmt(x.frontCpu * 1000).padStart(13)}  ${fmt(x.rps / proxy.rps, 2).padStart(14)}  ${fmt(x.p99 - proxy.p99, 2).padStart(14)}  ${x.non200}/${x.errors}`);
      summary[`${t.key}_rps_${c}`] = x.rps.toFixed(0);
      summary[`${t.key}_p99_ms_${c}`] = x.p99.toFixed(2);
    }
  }

  const wardKeys = targets.filter((t) => t.key.endsWith('ward')).map((t) => t.key);
  console.log('\nratios (Ward against the minimal proxy of the same run):');
  for (const wk of wardKeys) {
    const prefix = wk === 'ward' ? '' : 'pg_';
    for (const c of CONNECTIONS) {
      const w = b(wk, c);
      const p = b('proxy', c);
      const u = b('upstream', c);
      if (w === undefined || p === undefined || u === undefined) continue;
      const ratio = w.rps / p.rps;
      const added = w.p99 - p.p99;
      const addedCpu = (w.frontCpu - p.frontCpu) * 1000;
      const goal = c === 10 ? `; goal <= 2 ms added p99 at 10 connections: ${added <= 2 ? 'within' : 'beyond'}` : '';
      console.log(`  ${wk.padEnd(7)} @${String(c).padStart(3)}: throughput ${fmt(ratio, 2)}x the proxy (goal >= 0.8x: ${ratio >= 0.8 ? 'within' : 'beyond'}), p99 ${fmt(added, 2)} ms added, p50 ${fmt(w.p50 - p.p50, 2)} ms added${goal}; Ward's process spends ${fmt(w.frontCpu * 1000)} µs CPU per call against the proxy's ${fmt(p.frontCpu * 1000)} µs (+${fmt(addedCpu)} µs); proxy vs upstream direct: ${fmt(p.rps / u.rps, 2)}x req/s`);
      summary[`${prefix}ward_vs_proxy_rps_${c}`] = ratio.toFixed(2);
      summary[`${prefix}added_p99_ms_${c}`] = added.toFixed(2);
      summary[`${prefix}ward_cpu_us_per_call_${c}`] = (w.frontCpu * 1000).toFixed(0);
      if (wk === 'ward') {
        summary[`proxy_cpu_us_per_call_${c}`] = (p.frontCpu * 1000).toFixed(0);
        summary[`proxy_vs_upstream_rps_${c}`] = (p.rps / u.rps).toFixed(2);
      }
    }
  }
  const mainWard = b('ward', CONNECTIONS[0] ?? 10);
  if (mainWard !== undefined) {
    const share = ((scan.promptUs + scan.systemUs + scan.answerUs) / (mainWard.frontCpu * 1000)) * 100;
    console.log(`  the in-process PHI scan (${fmt(scan.promptUs + scan.systemUs + scan.answerUs)} µs per call) is ${fmt(share, 0)}% of Ward's CPU per call at ${CONNECTIONS[0] ?? 10} connections`);
    summary.phi_scan_share_of_ward_cpu_pct = share.toFixed(0);
  }
  const totalBad = runs.reduce((n, r) => n + r.non200 + r.errors + r.timeouts, 0);
  summary.non200_or_errors = String(totalBad);
  if (totalBad > 0) console.log(`\nWARNING: ${totalBad} non-200 answers or errors in the measured runs: figures with errors are not comparable`);

  // -------------------------------------------------------------------------------------------
  // Ward's audit trail: one entry per answered call.

  for (const t of targets) {
    if (t.db === undefined) continue;
    const reason = t.db.dialect === 'sqlite' ? "json_extract(body, '$.reason')" : "(body::jsonb)->>'reason'";
    const rows = await queryWardDb<{ outcome: string; reason: string | null; n: number | string }>(t.db, `select outcome, ${reason} as reason, count(*) as n from audit_entry where action = $1 group by outcome, reason`, ['model.chat']);
    const success = rows.filter((r) => r.outcome === 'success').reduce((n, r) => n + Number(r.n), 0);
    const others = rows.filter((r) => r.outcome !== 'success').map((r) => `${r.outcome}${r.reason !== null ? ` ${r.reason}` : ''} x${Number(r.n)}`);
    const total = await countWardDb(t.db, 'select count(*) as n from audit_entry');
    console.log(`audit (${t.name}): ${fmt(success)} model.chat success entries for ${fmt(t.ok)} 200 answers counted by the load generator (calls in flight when a run stops are answered and audited, not counted)${others.length > 0 ? `; also ${others.join(', ')}` : ''}; ${fmt(total)} entries in all`);
  }
} catch (e) {
  exitCode = 1;
  console.error(`\ngateway bench failed: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
} finally {
  // Graceful stops (Ward closes its database, writes its CPU profile), then whatever is left.
  for (const t of [...targets].reverse()) await t.front.stop().catch(() => undefined);
  killAllChildren();
  for (const t of targets) if (t.profileDir !== undefined) printProfile(t.name, t.profileDir, roundsWindow);
  await Promise.allSettled(pgDrops.splice(0).map((d) => d()));
  cleanupSync();
}

const [l1, l5, l15] = loadavg();
console.log(`\nload average at the end ${fmt(l1 ?? 0, 2)} ${fmt(l5 ?? 0, 2)} ${fmt(l15 ?? 0, 2)}; total ${fmt((performance.now() - started) / 1000, 0)} s`);
// The headline figures first (the issue's goals), then the rest.
const HEADLINE = ['ward_vs_proxy_rps_10', 'ward_vs_proxy_rps_100', 'added_p99_ms_10', 'added_p99_ms_100'];
const ordered = [...HEADLINE.filter((k) => k in summary), ...Object.keys(summary).filter((k) => !HEADLINE.includes(k))];
console.log(`\ngateway: ${ordered.map((k) => `${k}=${summary[k] ?? ''}`).join(' ')}`);
process.exitCode = exitCode;
