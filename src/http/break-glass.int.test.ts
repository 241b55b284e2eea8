/**
 * Break-glass over HTTP on both databases (issue 3; 45 CFR 164.312(a)(2)(ii) emergency access
 * procedure): a clinician with no relationship to a patient opens time-boxed access under
 * ETREAT with a written reason; the policy refuses everyone else; the grant turns a
 * `policy.break_glass_required` deny into a permit that names it, for 4 hours only; and a
 * privacy officer, never the grant's holder, closes it in the review queue. The written reason
 * and review note are free text: they reach the reviewer and never a log line or audit body.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { expectProblem, audited, everythingWritten } from './testing/http-assertions.js';
import type { Reply } from './testing/http-assertions.js';

interface Grant {
  id: string;
  patient: string;
  purpose: string;
  expiresAt: string;
}

interface ReviewItem {
  id: string;
  accountId: string;
  patientId: string;
  purpose: string;
  reason: string;
  status: 'pending' | 'closed';
  reviewerId: string | null;
  disposition: string | null;
  reviewNote: string | null;
}

interface Decision {
  effect: 'permit' | 'deny';
  code?: string;
  ruleId?: string;
  breakGlass?: string;
  obligations?: { view?: string; deidentify: boolean; humanReview: boolean };
  relationship?: string;
}

const REASON = 'Unconscious arrival, Zebulon-Quill-canary-reason, allergies unknown, chart needed now';
const NOTE = 'Checked with the ED lead: Zebulon-Quill-canary-note';
const PATIENT = 'pt-900';
const HOUR = 3_600_000;

describe.each(testDialects())('break-glass over HTTP on $name', (dialect) => {
  let w: HttpWorld | undefined;
  afterEach(async () => {
    await w?.dispose();
    w = undefined;
  });

  function world(): HttpWorld {
    if (w === undefined) throw new Error('no world');
    return w;
  }

  const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });
  const withPurpose = (token: string, purpose?: string): Record<string, string> => ({ ...bearer(token), ...(purpose !== undefined ? { 'x-purpose-of-use': purpose } : {}) });

  function open(token: string, body: Record<string, unknown>, purpose?: string): Promise<Reply> {
    return world().app.inject({ method: 'POST', url: '/v1/break-glass', headers: withPurpose(token, purpose), payload: body });
  }
  function evaluate(token: string, patient: string, purpose: string): Promise<Reply> {
    return world().app.inject({ method: 'POST', url: '/v1/access/evaluate', headers: withPurpose(token, purpose), payload: { action: 'patient.read', patient } });
  }
  function queue(token: string, query = '', purpose = 'HCOMPL'): Promise<Reply> {
    return world().app.inject({ method: 'GET', url: `/v1/break-glass/reviews${query}`, headers: withPurpose(token, purpose) });
  }
  function review(token: string, id: string, body: Record<string, unknown>, purpose = 'HCOMPL'): Promise<Reply> {
    return world().app.inject({ method: 'POST', url: `/v1/break-glass/reviews/${id}`, headers: withPurpose(token, purpose), payload: body });
  }

  async function opened(token: string, patient = PATIENT): Promise<Grant> {
    const res = await open(token, { patient, reason: REASON }, 'ETREAT');
    expect(res.statusCode).toBe(201);
    return res.json<Grant>();
  }

  it('lets a clinician with no relationship open a 4-hour grant under ETREAT, audited with its id', async () => {
    w = await createHttpWorld(dialect);
    const doc = await w.userWithToken('dr-stranger', ['clinician']);
    const res = await open(doc.token, { patient: PATIENT, reason: REASON }, 'ETREAT');
    expect(res.statusCode).toBe(201);
    const grant = res.json<Grant>();
    expect(grant.id).toMatch(/^bg_[A-Za-z0-9_-]+$/);
    expect(grant).toMatchObject({ patient: PATIENT, purpose: 'ETREAT' });
    expect(Date.parse(grant.expiresAt) - w.clock.now().getTime()).toBe(4 * HOUR);
    expect(res.body).not.toContain('Zebulon');

    // One open grant per patient and person.
    const again = await open(doc.token, { patient: PATIENT, reason: REASON }, 'ETREAT');
    expectProblem(again, 409, 'break-glass.already_open');
    expect(again.json()).toMatchObject({ breakGlassId: grant.id, expiresAt: grant.expiresAt });

    const decisions = (await audited(w, 'access.decision')).filter((e) => e.details?.action === 'break-glass.open');
    expect(decisions.map((e) => [e.who.id, e.outcome, e.patient, e.purpose, e.details?.rule, e.details?.relationship])).toEqual([
      [doc.id, 'success', PATIENT, 'ETREAT', 'clinician-break-glass-open', 'none'],
      [doc.id, 'success', PATIENT, 'ETREAT', 'clinician-break-glass-open', 'none'],
    ]);
    const opens = await audited(w, 'break-glass.open');
    expect(opens).toHaveLength(1);
    expect(opens[0]).toMatchObject({
      who: { id: doc.id, kind: 'person' }, outcome: 'success', patient: PATIENT, purpose: 'ETREAT', breakGlass: grant.id,
      resource: { type: 'BreakGlass', id: grant.id }, requestId: res.headers['x-request-id'],
      details: { rule: 'clinician-break-glass-open', minutes: 240 },
    });
    const written = await everythingWritten(w);
    expect(written).not.toContain('Zebulon-Quill-canary');
    // Sealed at rest too.
    const rows = await w.t.db.selectFrom('break_glass').selectAll().execute();
    expect(JSON.stringify(rows)).not.toContain('Zebulon-Quill-canary');
  });

  it('honours a shorter grant and refuses one longer than 4 hours', async () => {
    w = await createHttpWorld(dialect);
    const doc = await w.userWithToken('dr-stranger', ['clinician']);
    expectProblem(await open(doc.token, { patient: PATIENT, reason: REASON, minutes: 241 }, 'ETREAT'), 400, 'request.invalid');
    const res = await open(doc.token, { patient: PATIENT, reason: REASON, minutes: 30 }, 'BTG');
    expect(res.statusCode).toBe(201);
    const grant = res.json<Grant>();
    expect(grant.purpose).toBe('BTG');
    expect(Date.parse(grant.expiresAt) - w.clock.now().getTime()).toBe(30 * 60_000);
    expect((await evaluate(doc.token, PATIENT, 'BTG')).json<Decision>()).toMatchObject({ effect: 'permit', breakGlass: grant.id });
    w.clock.advance(30 * 60_000);
    const later = await w.login('dr-stranger', doc.password, doc.totpSecret);
    expect((await evaluate(later, PATIENT, 'BTG')).json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    expect((await audited(w, 'break-glass.open')).map((e) => [e.breakGlass, e.purpose, e.details?.minutes])).toEqual([[grant.id, 'BTG', 30]]);
  });

  it('refuses without a purpose, under TREAT, with a short reason, to the care team, to a scheduler and to a service', async () => {
    w = await createHttpWorld(dialect);
    const stranger = await w.userWithToken('dr-stranger', ['clinician']);
    const carer = await w.userWithToken('dr-carer', ['clinician']);
    await w.relationships.add({ principalId: carer.id, patientId: PATIENT, kind: 'care-team' }, SYSTEM_ACTOR);
    const scheduler = await w.userWithToken('sched', ['scheduler']);
    const bot = await w.serviceWithKey('triage-bot', ['integration'], ['break-glass.*', 'patient.*']);
    const body = { patient: PATIENT, reason: REASON };

    expectProblem(await open(stranger.token, body), 403, 'policy.purpose_required');
    expectProblem(await open(stranger.token, body, 'TREAT'), 403, 'policy.no_matching_rule');
    const short = await open(stranger.token, { patient: PATIENT, reason: 'Zebulon-Quill short' }, 'ETREAT');
    expectProblem(short, 400, 'break-glass.reason_required');
    expect(short.body).not.toContain('Zebulon');
    const freeText = await open(stranger.token, { patient: 'Zebulon Quill 1961-04-02', reason: REASON }, 'ETREAT');
    expectProblem(freeText, 400, 'request.invalid');
    expect(freeText.body).not.toContain('Zebulon');
    expectProblem(await open(carer.token, body, 'ETREAT'), 403, 'policy.break_glass_not_needed');
    expectProblem(await open(scheduler.token, body, 'ETREAT'), 403, 'policy.no_matching_rule');
    expectProblem(await open(bot.key, body, 'ETREAT'), 403, 'policy.break_glass_people_only');
    expect(await w.t.db.selectFrom('break_glass').selectAll().execute()).toEqual([]);
    expect(await audited(w, 'break-glass.open')).toEqual([]);

    const denials = (await audited(w, 'access.decision')).filter((e) => e.outcome === 'denied');
    expect(denials.map((e) => [e.who.id, e.reason, e.purpose])).toEqual([
      [stranger.id, 'policy.purpose_required', undefined],
      [stranger.id, 'policy.no_matching_rule', 'TREAT'],
      [carer.id, 'policy.break_glass_not_needed', 'ETREAT'],
      [scheduler.id, 'policy.no_matching_rule', 'ETREAT'],
      ['svc:triage-bot', 'policy.break_glass_people_only', 'ETREAT'],
    ]);
    expect(await everythingWritten(w)).not.toContain('Zebulon');
  });

  it('turns patient.read under ETREAT from policy.break_glass_required into a permit naming the grant, for 4 hours, for that patient and purpose only', async () => {
    w = await createHttpWorld(dialect);
    const doc = await w.userWithToken('dr-stranger', ['clinician']);
    const before = await evaluate(doc.token, PATIENT, 'ETREAT');
    expect(before.statusCode).toBe(200);
    expect(before.json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required', ruleId: 'clinician-emergency-read' });

    const grant = await opened(doc.token);
    const after = (await evaluate(doc.token, PATIENT, 'ETREAT')).json<Decision>();
    expect(after).toMatchObject({ effect: 'permit', ruleId: 'clinician-emergency-read', breakGlass: grant.id, relationship: 'none' });
    expect(after.obligations).toEqual({ view: 'clinical', deidentify: false, humanReview: false });
    // Not another patient, not another purpose, not treatment.
    expect((await evaluate(doc.token, 'pt-901', 'ETREAT')).json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    expect((await evaluate(doc.token, PATIENT, 'BTG')).json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    expect((await evaluate(doc.token, PATIENT, 'TREAT')).json<Decision>()).toMatchObject({ effect: 'deny', code: 'policy.no_matching_rule' });

    // The grant ends 4 hours after it was opened (a fresh sign-in: the old session idled out).
    const end = Date.parse(grant.expiresAt);
    w.clock.set(new Date(end - 31_000));
    const late = await w.login('dr-stranger', doc.password, doc.totpSecret);
    expect(w.clock.now().getTime()).toBe(end - 1_000);
    expect((await evaluate(late, PATIENT, 'ETREAT')).json<Decision>()).toMatchObject({ effect: 'permit', breakGlass: grant.id });
    w.clock.advance(1_000);
    const expired = (await evaluate(late, PATIENT, 'ETREAT')).json<Decision>();
    expect(expired).toMatchObject({ effect: 'deny', code: 'policy.break_glass_required' });
    expect(expired.breakGlass).toBeUndefined();
    // An expired grant can be replaced by a new one, with a new id.
    const renewed = await opened(late);
    expect(renewed.id).not.toBe(grant.id);

    const evaluations = await audited(w, 'access.evaluate');
    expect(evaluations.map((e) => [e.patient, e.purpose, e.details?.effect])).toEqual([
      [PATIENT, 'ETREAT', 'deny'],
      [PATIENT, 'ETREAT', 'permit'],
      ['pt-901', 'ETREAT', 'deny'],
      [PATIENT, 'BTG', 'deny'],
      [PATIENT, 'TREAT', 'deny'],
      [PATIENT, 'ETREAT', 'permit'],
      [PATIENT, 'ETREAT', 'deny'],
    ]);
  });

  it('flags the audit entry of a decision permitted under the grant with the grant id', async () => {
    w = await createHttpWorld(dialect);
    const doc = await w.userWithToken('dr-stranger', ['clinician']);
    const grant = await opened(doc.token);
    const res = await evaluate(doc.token, PATIENT, 'ETREAT');
    expect(res.json<Decision>()).toMatchObject({ effect: 'permit', breakGlass: grant.id });
    const entries = (await audited(w, 'access.evaluate')).filter((e) => e.requestId === res.headers['x-request-id']);
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({ patient: PATIENT, purpose: 'ETREAT', details: { effect: 'permit', rule: 'clinician-emergency-read' } });
    expect(entries[0]?.breakGlass).toBe(grant.id);
  });

  it('a privacy officer reads the queue with the reason and closes a grant once; others cannot; unknown ids are 404', async () => {
    w = await createHttpWorld(dialect);
    const doc = await w.userWithToken('dr-stranger', ['clinician']);
    const po = await w.userWithToken('po', ['privacy-officer']);
    const grant = await opened(doc.token);

    const listed = await queue(po.token);
    expect(listed.statusCode).toBe(200);
    const items = listed.json<{ items: ReviewItem[] }>().items;
    expect(items).toEqual([expect.objectContaining({ id: grant.id, accountId: doc.id, patientId: PATIENT, purpose: 'ETREAT', reason: REASON, status: 'pending', reviewerId: null, disposition: null })]);
    expectProblem(await queue(po.token, '', 'TREAT'), 403, 'policy.no_matching_rule');
    expectProblem(await queue(doc.token), 403, 'policy.no_matching_rule');
    const byHolder = await review(doc.token, grant.id, { disposition: 'appropriate' });
    expectProblem(byHolder, 403, 'policy.no_matching_rule');
    expectProblem(await review(po.token, grant.id, { disposition: 'fine by me' }), 400, 'request.invalid');

    const closed = await review(po.token, grant.id, { disposition: 'appropriate', note: NOTE });
    expect(closed.statusCode).toBe(200);
    expect(closed.json<ReviewItem>()).toMatchObject({ id: grant.id, status: 'closed', disposition: 'appropriate', reviewerId: po.id, reviewNote: NOTE });
    expectProblem(await review(po.token, grant.id, { disposition: 'inappropriate' }), 409, 'break-glass.already_reviewed');
    expectProblem(await review(po.token, 'bg_doesnotexist', { disposition: 'appropriate' }), 404, 'break-glass.not_found');
    expectProblem(await review(po.token, 'not-a-grant-id', { disposition: 'appropriate' }), 400, 'request.invalid');
    expect((await queue(po.token, '?status=pending')).json<{ items: ReviewItem[] }>().items).toEqual([]);
    expect((await queue(po.token, '?status=closed')).json<{ items: ReviewItem[] }>().items.map((i) => [i.id, i.disposition])).toEqual([[grant.id, 'appropriate']]);
    // Reviewing does not end the grant: it runs its 4 hours.
    expect((await evaluate(doc.token, PATIENT, 'ETREAT')).json<Decision>()).toMatchObject({ effect: 'permit', breakGlass: grant.id });

    const reviews = await audited(w, 'break-glass.review');
    expect(reviews.map((e) => [e.who.id, e.outcome, e.breakGlass, e.patient, e.details?.disposition])).toEqual([[po.id, 'success', grant.id, PATIENT, 'appropriate']]);
    const queueReads = await audited(w, 'break-glass.queue');
    expect(queueReads.map((e) => [e.who.id, e.purpose, e.details?.results])).toEqual([[po.id, 'HCOMPL', 1], [po.id, 'HCOMPL', 0], [po.id, 'HCOMPL', 1]]);
    const written = await everythingWritten(w);
    expect(written).not.toContain('Zebulon-Quill-canary');
    expect(written).not.toContain(REASON);
    expect(written).not.toContain(NOTE);
  });

  it('no one reviews their own break-glass, even holding both roles (403 break-glass.self_review, audited)', async () => {
    w = await createHttpWorld(dialect);
    const both = await w.userWithToken('dr-po', ['clinician', 'privacy-officer']);
    const po = await w.userWithToken('po', ['privacy-officer']);
    const grant = await opened(both.token);
    expect((await queue(both.token)).json<{ items: ReviewItem[] }>().items.map((i) => i.id)).toEqual([grant.id]);
    const own = await review(both.token, grant.id, { disposition: 'appropriate', note: NOTE });
    expectProblem(own, 403, 'break-glass.self_review');
    expect(own.body).not.toContain('Zebulon');
    const still = (await queue(po.token, '?status=pending')).json<{ items: ReviewItem[] }>().items;
    expect(still.map((i) => [i.id, i.status, i.reviewNote])).toEqual([[grant.id, 'pending', null]]);
    expect((await review(po.token, grant.id, { disposition: 'escalated' })).json<ReviewItem>()).toMatchObject({ status: 'closed', reviewerId: po.id, disposition: 'escalated' });

    const reviews = await audited(w, 'break-glass.review');
    expect(reviews.map((e) => [e.who.id, e.outcome, e.reason, e.breakGlass])).toEqual([
      [both.id, 'denied', 'break-glass.self_review', grant.id],
      [po.id, 'success', undefined, grant.id],
    ]);
    expect(reviews[0]?.requestId).toBe(own.headers['x-request-id']);
    expect(await everythingWritten(w)).not.toContain('Zebulon-Quill-canary');
  });
});
