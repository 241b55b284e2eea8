/**
 * Child processes of the gateway benchmark: each server (upstream, minimal proxy, Ward) runs in
 * its own process, so the load generator in the benchmark's process never shares an event loop
 * with what it measures. Every child is tracked and killed when the benchmark ends, fails or
 * is interrupted; the tsx children also exit on their own when their stdin closes (the
 * benchmark died without running its handlers). CPU time per child comes from /proc (Linux).
 */
import { execFileSync, spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';

export interface BenchChild {
  readonly label: string;
  readonly pid: number;
  /** The base URL the child printed. */
  readonly url: string;
  /** Everything the child wrote (stdout and stderr), for error messages. */
  output(): string;
  /** SIGTERM, then SIGKILL after `timeoutMs`; resolves when the child has exited. */
  stop(timeoutMs?: number): Promise<void>;
}

const live = new Set<ChildProcess>();

/** Kill every child still running, now (safe from an `exit` handler: synchronous). */
export function killAllChildren(): void {
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  }
  live.clear();
}

export interface StartChildOptions {
  label: string;
  /** Arguments after the node binary (a script and its arguments, flags first). */
  args: string[];
  env?: NodeJS.ProcessEnv;
  cwd?: string;
  /** Matched against stdout + stderr; group 1 is the URL. */
  ready: RegExp;
  /** Pipe stdin (never written): the tsx children exit when it closes. */
  stdinPipe?: boolean;
  timeoutMs?: number;
}

export async function startChild(options: StartChildOptions): Promise<BenchChild> {
  const child = spawn(process.execPath, options.args, {
    cwd: options.cwd,
    env: options.env ?? process.env,
    stdio: [options.stdinPipe === true ? 'pipe' : 'ignore', 'pipe', 'pipe'],
  });
  live.add(child);
  let output = '';
  const exited = new Promise<void>((resolve) => {
    child.on('close', () => {
      live.delete(child);
      resolve();
    });
  });
  const url = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${options.label} did not report its address in time; output: ${output.slice(0, 800)}`));
    }, options.timeoutMs ?? 60_000);
    const onData = (d: Buffer): void => {
      // Keep reading (so a chatty child never blocks on a full pipe) but keep only the start.
      if (output.length < 20_000) output += d.toString('utf8');
      const m = options.ready.exec(output);
      if (m?.[1] !== undefined) {
        clearTimeout(timer);
        resolve(m[1]);
      }
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onData);
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`${options.label} exited (${String(child.exitCode ?? child.signalCode)}) before serving; output: ${output.slice(0, 800)}`));
    });
  });
  const pid = child.pid;
  if (pid === undefined) throw new Error(`${options.label} has no pid`);
  return {
    label: options.label,
    pid,
    url,
    output: () => output,
    async stop(timeoutMs = 15_000) {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
      try {
        await exited;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

let ticksPerSecond: number | undefined;

function clockTicks(): number {
  if (ticksPerSecond === undefined) {
    try {
      ticksPerSecond = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticksPerSecond = 100;
    }
  }
  return ticksPerSecond;
}

/** User + system CPU time of a process (all its threads) in ms; NaN where /proc is missing. */
export function cpuMsOf(pid: number): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces; count fields after its closing parenthesis.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / clockTicks();
  } catch {
    return Number.NaN;
  }
}
