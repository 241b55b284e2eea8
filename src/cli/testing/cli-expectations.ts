/**
 * What the CLI promises about its output, as assertions for the suites that run the real
 * binary: a success exits 0 without a stack trace; a failure is one `ward: ...` line on
 * stderr with the expected exit code; listings are tables or JSON lines.
 */
import { expect } from 'vitest';
import type { RunResult } from './run-ward.js';

export const STACK_LINE = /^\s{4}at /m;

/** Exit 0 and no stack trace; returns stdout. */
export function expectOk(r: RunResult): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(0);
  expect(r.stderr).not.toMatch(STACK_LINE);
  return r.stdout;
}

/** A failure as the CLI promises it: the exit code, a single `ward: ...` line, no stack trace. */
export function expectOneLineFailure(r: RunResult, code = 1): string {
  expect(r.code, `stdout: ${r.stdout}\nstderr: ${r.stderr}`).toBe(code);
  expect(r.stderr).not.toMatch(STACK_LINE);
  const lines = r.stderr.split('\n').filter((l) => l.trim().length > 0);
  expect(lines, r.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^ward: /);
  return lines[0] ?? '';
}

export interface JsonObject {
  [key: string]: unknown;
}

/** JSON lines, each an object. */
export function jsonLines(text: string): JsonObject[] {
  return text.split('\n').filter((l) => l.length > 0).map((l) => {
    const v: unknown = JSON.parse(l);
    expect(typeof v === 'object' && v !== null && !Array.isArray(v), l).toBe(true);
    return v as JsonObject;
  });
}

/** The data rows of a `formatTable` listing (header dropped), cells split on runs of 2+ spaces. */
export function tableRows(stdout: string): string[][] {
  return stdout.split('\n').filter((l) => l.trim().length > 0).slice(1).map((l) => l.trim().split(/\s{2,}/));
}
