/**
 * Assertions the HTTP suites share: problem+json shape, audit entries by action, and
 * everything Ward wrote that an operator or auditor can read (for canary checks).
 */
import { expect } from 'vitest';
import type { HttpWorld } from './http-world.js';
import { totpCodeAt } from '../../auth/testing/totp-helper.js';

export type Reply = Awaited<ReturnType<HttpWorld['app']['inject']>>;

/** RFC 9457 problem document with Ward's code and the request id, and no stack trace. */
export function expectProblem(res: Reply, status: number, code: string): void {
  expect(res.statusCode).toBe(status);
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json<Record<string, unknown>>();
  expect(body).toMatchObject({ status, code, type: `urn:ward:problem:${code}`, requestId: res.headers['x-request-id'] });
  expect(JSON.stringify(body)).not.toMatch(/\bat [\w.]+ \(|node_modules|\.ts:\d+/); // no stack traces
}

/** A problem document without its per-request id, to compare two refusals. */
export function withoutRequestId(res: Reply): Record<string, unknown> {
  const { requestId: _requestId, ...rest } = res.json<Record<string, unknown>>();
  return rest;
}

/** The fields of an audit entry the suites read. */
export interface AuditBody {
  who: { id: string; kind: string };
  action: string;
  outcome: string;
  reason?: string;
  purpose?: string;
  patient?: string;
  breakGlass?: string;
  client?: string;
  requestId?: string;
  resource?: { type: string; id?: string };
  details?: Record<string, unknown>;
}

/** The audit entries of one action, in order. */
export async function audited(w: HttpWorld, action: string): Promise<AuditBody[]> {
  await w.log.flush();
  const rows = await w.t.db.selectFrom('audit_entry').select('body').where('action', '=', action).orderBy('seq').execute();
  return rows.map((r) => JSON.parse(r.body) as AuditBody);
}

/** Everything Ward wrote that an operator or auditor can read: log lines and audit bodies. */
export async function everythingWritten(w: HttpWorld): Promise<string> {
  await w.log.flush();
  const bodies = (await w.t.db.selectFrom('audit_entry').select('body').execute()).map((r) => r.body);
  return `${w.logs.join('')}\n${bodies.join('\n')}`;
}

/** A six-digit code the secret does not show in the accepted window around `at`. */
export function codeNotValidAt(secret: string, at: Date): string {
  const valid = [-30_000, 0, 30_000].map((d) => totpCodeAt(secret, new Date(at.getTime() + d)));
  const code = ['000000', '111111', '222222', '333333'].find((c) => !valid.includes(c));
  if (code === undefined) throw new Error('no invalid code found');
  return code;
}
