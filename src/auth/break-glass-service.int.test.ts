/** Break-glass grants and their review queue, on every supported database. */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createAuditWorld } from '../audit/testing/audit-world.js';
import type { AuditWorld } from '../audit/testing/audit-world.js';
import { SecretBox } from '../storage/secret-box.js';
import { BreakGlassService } from './break-glass-service.js';
import type { Principal } from './principal.js';

const CLINICIAN: Principal = { id: 'usr_clin', kind: 'person', roles: ['clinician'] };
const OFFICER: Principal = { id: 'usr_po', kind: 'person', roles: ['privacy-officer'] };
const REASON = 'Unconscious patient in ED, canary-Zebulon-Quill allergy history needed';

describe.each(testDialects())('BreakGlassService on $name', (dialect) => {
  let w: AuditWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  async function world(): Promise<{ w: AuditWorld; bg: BreakGlassService }> {
    w = await createAuditWorld(dialect);
    const box = new SecretBox({ activeId: 'kek-1', keys: new Map([['kek-1', randomBytes(32)]]) });
    return { w, bg: new BreakGlassService(w.t.db, w.log, w.clock, box, { defaultMinutes: 240, maxMinutes: 240 }) };
  }

  async function bodies(x: AuditWorld): Promise<string[]> {
    await x.log.flush();
    return (await x.t.db.selectFrom('audit_entry').select('body').orderBy('seq').execute()).map((r) => r.body);
  }

  it('opens a 4-hour grant that is active until it expires, audited with its id, patient and purpose', async () => {
    const { w, bg } = await world();
    const grant = await bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: REASON }, { rule: 'clinician-break-glass', policy: 'v1' }, { requestId: 'req-1' });
    expect(Date.parse(grant.expiresAt) - w.clock.now().getTime()).toBe(4 * 3_600_000);
    expect(await bg.active(CLINICIAN.id, 'pt-1')).toEqual(grant);
    expect(await bg.active(CLINICIAN.id, 'pt-2')).toBeUndefined();
    expect(await bg.active('usr_other', 'pt-1')).toBeUndefined();
    w.clock.advance(4 * 3_600_000 - 1);
    expect(await bg.active(CLINICIAN.id, 'pt-1')).toBeDefined();
    w.clock.advance(1);
    expect(await bg.active(CLINICIAN.id, 'pt-1')).toBeUndefined();
    const entries = (await bodies(w)).map((b) => JSON.parse(b) as Record<string, unknown>);
    expect(entries.find((e) => e.action === 'break-glass.open')).toMatchObject({
      who: { id: CLINICIAN.id }, outcome: 'success', patient: 'pt-1', purpose: 'ETREAT', breakGlass: grant.id,
      resource: { type: 'BreakGlass', id: grant.id }, details: { rule: 'clinician-break-glass', minutes: 240 }, requestId: 'req-1',
    });
  });

  it('keeps the written reason out of the audit log and sealed in the database', async () => {
    const { w, bg } = await world();
    await bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'BTG', reason: REASON, minutes: 30 }, {});
    for (const b of await bodies(w)) expect(b).not.toContain('Zebulon');
    const raw = await w.t.db.selectFrom('break_glass').selectAll().execute();
    expect(JSON.stringify(raw)).not.toContain('Zebulon');
    const [item] = await bg.queue({ status: 'pending' });
    expect(item?.reason).toBe(REASON);
  });

  it('refuses a short reason, a too-long grant, a second open grant and a service principal', async () => {
    const { bg } = await world();
    await expect(bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: 'emergency' }, {})).rejects.toMatchObject({ code: 'break-glass.reason_required', status: 400 });
    await expect(bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: REASON, minutes: 241 }, {})).rejects.toMatchObject({ code: 'request.invalid', status: 400 });
    await expect(bg.open({ principal: CLINICIAN, patient: 'Jane Doe', purpose: 'ETREAT', reason: REASON }, {})).rejects.toMatchObject({ code: 'request.invalid' });
    await bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: REASON }, {});
    await expect(bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: REASON }, {})).rejects.toMatchObject({ code: 'break-glass.already_open', status: 409 });
    await expect(bg.open({ principal: { id: 'svc:bot', kind: 'service', roles: ['workflow'] }, patient: 'pt-1', purpose: 'ETREAT', reason: REASON }, {})).rejects.toMatchObject({ code: 'break-glass.person_only', status: 403 });
  });

  it('a privacy officer closes a review with a disposition; no one reviews their own; closed once', async () => {
    const { w, bg } = await world();
    const grant = await bg.open({ principal: CLINICIAN, patient: 'pt-1', purpose: 'ETREAT', reason: REASON }, {});
    const dualRole: Principal = { id: CLINICIAN.id, kind: 'person', roles: ['clinician', 'privacy-officer'] };
    await expect(bg.review(grant.id, dualRole, { disposition: 'appropriate' })).rejects.toMatchObject({ code: 'break-glass.self_review', status: 403 });
    await expect(bg.review(grant.id, OFFICER, { disposition: 'fine' })).rejects.toMatchObject({ code: 'request.invalid' });
    await expect(bg.review('bg_missing', OFFICER, { disposition: 'appropriate' })).rejects.toMatchObject({ code: 'break-glass.not_found', status: 404 });
    const closed = await bg.review(grant.id, OFFICER, { disposition: 'inappropriate', note: 'canary-Zebulon-Quill was not in the ED' });
    expect(closed).toMatchObject({ status: 'closed', reviewerId: OFFICER.id, disposition: 'inappropriate', reviewNote: 'canary-Zebulon-Quill was not in the ED' });
    await expect(bg.review(grant.id, OFFICER, { disposition: 'appropriate' })).rejects.toMatchObject({ code: 'break-glass.already_reviewed', status: 409 });
    expect(await bg.queue({ status: 'pending' })).toEqual([]);
    expect((await bg.queue({ status: 'closed' })).map((i) => i.id)).toEqual([grant.id]);
    const entries = (await bodies(w)).map((b) => JSON.parse(b) as Record<string, unknown>).filter((e) => e.action === 'break-glass.review');
    expect(entries.map((e) => [e.outcome, e.reason ?? (e.details as Record<string, unknown>).disposition])).toEqual([['denied', 'break-glass.self_review'], ['success', 'inappropriate']]);
    for (const b of await bodies(w)) expect(b).not.toContain('Zebulon');
  });
});
