/**
 * Load for the gateway benchmark: autocannon 9 driven programmatically from the benchmark's
 * own process (no workers). autocannon's latency histogram has 1 ms resolution, too coarse for
 * a "2 ms added p99" goal on a server answering in well under a millisecond, so every
 * response's own time (autocannon measures it with process.hrtime, in fractional ms) is kept
 * here and the percentiles are computed from those. Throughput is responses over wall time.
 */
import { createRequire } from 'node:module';
import type { EventEmitter } from 'node:events';

interface AutocannonOptions {
  url: string;
  connections: number;
  /** Seconds. */
  duration: number;
  method: 'POST';
  headers: Record<string, string>;
  body: string;
  pipelining: number;
  /** Seconds before a request counts as timed out. */
  timeout: number;
}

interface AutocannonResult {
  errors: number;
  timeouts: number;
  non2xx: number;
  resets: number;
  mismatches: number;
}

type Autocannon = (opts: AutocannonOptions, done: (err: Error | null, result: AutocannonResult) => void) => EventEmitter;

// autocannon ships CommonJS without type declarations: load it through require, typed here.
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

export interface LoadFigures {
  connections: number;
  /** Responses (any status) per second of wall time. */
  rps: number;
  /** Latency of 200 answers, ms. */
  p50: number;
  p99: number;
  mean: number;
  responses: number;
  /** Answers with a status other than 200. */
  non200: number;
  /** Status codes seen other than 200, with counts. */
  statuses: Record<string, number>;
  /** Socket errors, timeouts and resets autocannon reported. */
  errors: number;
  timeouts: number;
  /** CPU of the load generator (this process), ms per response. */
  loaderCpuMsPerResponse: number;
  seconds: number;
}

export interface LoadRequest {
  url: string;
  headers: Record<string, string>;
  body: string;
}

export function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((sorted.length * p) / 100))] ?? Number.NaN;
}

export function load(target: LoadRequest, connections: number, seconds: number): Promise<LoadFigures> {
  let latencies = new Float64Array(1 << 16);
  let n = 0;
  let responses = 0;
  const statuses: Record<string, number> = {};
  return new Promise((resolve, reject) => {
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const instance = autocannon(
      { url: target.url, connections, duration: seconds, method: 'POST', headers: target.headers, body: target.body, pipelining: 1, timeout: 10 },
      (err, result) => {
        const wall = (performance.now() - t0) / 1000;
        const cpu = process.cpuUsage(cpu0);
        if (err !== null) {
          reject(err);
          return;
        }
        const sorted = latencies.subarray(0, n).sort();
        let sum = 0;
        for (const v of sorted) sum += v;
        const non200 = Object.values(statuses).reduce((a, b) => a + b, 0);
        resolve({
          connections,
          rps: responses / wall,
          p50: percentile(sorted, 50),
          p99: percentile(sorted, 99),
          mean: n > 0 ? sum / n : Number.NaN,
          responses,
          non200,
          statuses,
          errors: result.errors + result.resets + result.mismatches,
          timeouts: result.timeouts,
          loaderCpuMsPerResponse: (cpu.user + cpu.system) / 1000 / Math.max(1, responses),
          seconds: wall,
        });
      },
    );
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTime: number) => {
      responses += 1;
      if (statusCode !== 200) {
        statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
        return;
      }
      if (n === latencies.length) {
        const grown = new Float64Array(latencies.length * 2);
        grown.set(latencies);
        latencies = grown;
      }
      latencies[n++] = responseTime;
    });
  });
}
