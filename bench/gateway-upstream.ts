/**
 * Child process of the gateway benchmark (bench/gateway.bench.ts): the fake OpenAI-compatible
 * upstream on 127.0.0.1 (src/models/testing/fake-openai-upstream.ts), answering at once with
 * `echo: <last user message>` cut to 4 x max_tokens characters. Prints one line
 * `gateway-upstream: listening on <url>` on stdout, and exits when its stdin closes (the
 * benchmark ended or died) or on SIGTERM/SIGINT.
 */
import { startFakeOpenAiUpstream } from '../src/models/testing/fake-openai-upstream.js';

const upstream = await startFakeOpenAiUpstream({ modelName: 'bench' });
// The fake keeps every request it receives (tests read them); a benchmark sends hundreds of
// thousands, so the list is emptied often to keep memory, and GC work, flat.
const trim = setInterval(() => {
  upstream.received.length = 0;
}, 500);

let closing = false;
const close = (): void => {
  if (closing) return;
  closing = true;
  clearInterval(trim);
  const hard = setTimeout(() => process.exit(0), 2_000);
  hard.unref();
  void upstream.close().finally(() => process.exit(0));
};
process.on('SIGTERM', close);
process.on('SIGINT', close);
process.stdin.on('end', close);
process.stdin.on('error', close);
process.stdin.resume();

process.stdout.write(`gateway-upstream: listening on ${upstream.url}\n`);
