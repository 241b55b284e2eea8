/**
 * Child process of the gateway benchmark (bench/gateway.bench.ts): the baseline, a minimal
 * Node reverse proxy with no safeguards. node:http in, node:http out over a keep-alive agent;
 * the request body is piped to the upstream as it arrives and the answer piped back, with no
 * authentication, no parsing and no logging. What any proxy in front of a model server costs,
 * so the ratio against it isolates what Ward's safeguards cost.
 *
 * Usage: `tsx bench/gateway-proxy.ts <upstream base URL, e.g. http://127.0.0.1:1234/v1>`.
 * Prints `gateway-proxy: listening on <url>` (the same `/v1` base) on stdout; exits when its
 * stdin closes or on SIGTERM/SIGINT.
 */
import { Agent, createServer, request } from 'node:http';
import type { OutgoingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

const target = new URL(process.argv[2] ?? '');
if (target.protocol !== 'http:') throw new Error('gateway-proxy: pass the upstream base URL (http://...)');
const prefix = target.pathname.replace(/\/$/, '');
const agent = new Agent({ keepAlive: true, maxSockets: 1024, maxFreeSockets: 1024 });

/** Hop-by-hop headers (RFC 9110 section 7.6.1) are not forwarded; the rest passes as is. */
const HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardable(headers: Record<string, string | string[] | undefined>): OutgoingHttpHeaders {
  const out: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(headers)) if (v !== undefined && !HOP.has(k)) out[k] = v;
  return out;
}

const server = createServer((req, res) => {
  const path = (req.url ?? '/').replace(/^\/v1(?=\/|$)/, '');
  const upstream = request(
    { agent, host: target.hostname, port: target.port, method: req.method, path: `${prefix}${path}`, headers: forwardable(req.headers) },
    (answer) => {
      res.writeHead(answer.statusCode ?? 502, forwardable(answer.headers));
      answer.pipe(res);
    },
  );
  upstream.on('error', () => {
    if (!res.headersSent) res.writeHead(502);
    res.end();
  });
  req.pipe(upstream);
});
server.keepAliveTimeout = 5_000;

await new Promise<void>((resolve, reject) => {
  server.once('error', reject);
  server.listen(0, '127.0.0.1', () => resolve());
});

let closing = false;
const close = (): void => {
  if (closing) return;
  closing = true;
  const hard = setTimeout(() => process.exit(0), 2_000);
  hard.unref();
  server.closeAllConnections();
  server.close(() => process.exit(0));
  agent.destroy();
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
process.stdin.on('end', close);
process.stdin.on('error', close);
process.stdin.resume();

process.stdout.write(`gateway-proxy: listening on http://127.0.0.1:${(server.address() as AddressInfo).port}/v1\n`);
