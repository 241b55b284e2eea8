/**
 * Runs the real `ward` binary (bin/ward.js) in a child process for CLI tests, with an
 * environment stripped of every Ward setting so nothing inherited can redirect it.
 */
import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';

export const WARD_BIN = fileURLToPath(new URL('../../../bin/ward.js', import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

const WARD_ENV = ['DATABASE_URL', 'WARD_DATA', 'WARD_PORT', 'WARD_HOST', 'WARD_LOG_LEVEL', 'WARD_ALLOW_PLAIN_HTTP', 'WARD_DEID_KEY', 'WARD_PKCS11_PIN', 'NODE_OPTIONS'];

/** The environment of a user with no Ward settings, plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const k of WARD_ENV) delete env[k];
  return { ...env, ...extra };
}

export function runWard(args: string[], options: { cwd?: string; env?: Record<string, string>; timeoutMs?: number } = {}): Promise<RunResult> {
  const timeoutMs = options.timeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [WARD_BIN, ...args], { cwd: options.cwd ?? tmpdir(), env: cleanEnv(options.env), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`ward ${args.join(' ')} did not finish within ${timeoutMs} ms; stderr: ${stderr.slice(0, 500)}`));
    }, timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}
