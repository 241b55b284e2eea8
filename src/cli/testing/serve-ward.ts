/**
 * `ward serve --port 0` in a child process for CLI suites that need a server running beside
 * the console commands (e.g. one holding the SQLite database open, as in production), with a
 * bounded wait for its "serving on" line and a graceful stop.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { WARD_BIN, cleanEnv } from './run-ward.js';

export interface ServedWard {
  url: string;
  stderr(): string;
  /** SIGTERM, then wait (bounded) for the exit; SIGKILL if it does not come. */
  stop(timeoutMs?: number): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export async function serveWard(data: string, options: { env?: Record<string, string>; timeoutMs?: number } = {}): Promise<ServedWard> {
  const child = spawn(process.execPath, [WARD_BIN, 'serve', '--data', data, '--port', '0'], { cwd: tmpdir(), env: cleanEnv(options.env), stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ward serve did not report its address in time; stderr: ${stderr.slice(0, 500)}`));
    }, options.timeoutMs ?? 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      const m = /^ward: serving on (https?:\/\/127\.0\.0\.1:(\d+))$/m.exec(stderr);
      if (m !== null && Number(m[2]) > 0) {
        clearTimeout(timer);
        resolve(m[1] ?? '');
      }
    });
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`ward serve exited (${String(code ?? signal)}) before serving; stderr: ${stderr.slice(0, 500)}`));
    });
  });
  return {
    url,
    stderr: () => stderr,
    async stop(timeoutMs = 30_000) {
      if (child.exitCode !== null || child.signalCode !== null) return exited;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        return await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}
