/**
 * The authorization matrix: every HTTP route x every role x every purpose of use (and none) x
 * every relationship to the patient, through the real server and the shipped default policy.
 * The grants below are written by hand from the issue's principles, not derived from the
 * policy file: a cell not listed must be denied (403, audited), a listed cell must get past
 * access control. Every (route, role) pair that has both allowed and denied combinations is
 * exercised in both directions, and a new route fails this test until its row is added.
 *
 * Runs on SQLite only: it proves policy enforcement at the edge; the storage and audit
 * conformance suites cover both databases.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { InjectOptions } from 'fastify';
import { testDialects } from '../storage/testing/test-databases.js';
import { personRoles, serviceRoles } from '../auth/roles.js';
import type { Role } from '../auth/roles.js';
import { purposesOfUse } from '../policy/purpose-of-use.js';
import { actionCodes } from '../policy/action-catalog.js';
import { createHttpWorld, SYSTEM_ACTOR } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { PURPOSE_HEADER } from './route-access.js';

type Relationship = 'care-team' | 'assigned' | 'none';
const RELATIONSHIPS: readonly Relationship[] = ['care-team', 'assigned', 'none'];
const ROLES: readonly Role[] = [...personRoles, ...serviceRoles];
const PURPOSES: readonly (string | undefined)[] = [undefined, ...purposesOfUse];

interface Grant {
  roles: readonly Role[];
  purposes: readonly string[];
  /** Omitted: any relationship (or the route concerns no patient). */
  relationships?: readonly Relationship[];
  /** Also allowed without a stated purpose (actions that never touch PHI). */
  noPurpose?: boolean;
}

interface PolicyRouteCase {
  /** Whether the request names a patient (then every relationship is a separate cell). */
  patient: boolean;
  request(patient: string | undefined): InjectOptions;
  grants: readonly Grant[];
}

const REASON = 'Unresponsive patient in the emergency department, history needed now';

/** Hand-written expectations for every policy route. Nothing else is permitted. */
const POLICY_ROUTES: Record<string, PolicyRouteCase> = {
  'GET /v1/audit/entries': {
    patient: true,
    request: (patient) => ({ method: 'GET', url: `/v1/audit/entries?limit=1${patient ? `&patient=${patient}` : ''}` }),
    grants: [{ roles: ['privacy-officer'], purposes: ['HCOMPL', 'HOPERAT', 'HLEGAL', 'FRAUD'] }],
  },
  'POST /v1/break-glass': {
    patient: true,
    request: (patient) => ({ method: 'POST', url: '/v1/break-glass', payload: { patient, reason: REASON, minutes: 5 } }),
    // Emergency access is for people without a relationship: the others use normal access.
    grants: [{ roles: ['clinician'], purposes: ['ETREAT', 'BTG'], relationships: ['none'] }],
  },
  'GET /v1/break-glass/reviews': {
    patient: false,
    request: () => ({ method: 'GET', url: '/v1/break-glass/reviews' }),
    grants: [{ roles: ['privacy-officer'], purposes: ['HCOMPL', 'HOPERAT'] }],
  },
  'POST /v1/break-glass/reviews/:id': {
    patient: false,
    request: () => ({ method: 'POST', url: '/v1/break-glass/reviews/bg_unknown', payload: { disposition: 'appropriate' } }),
    grants: [{ roles: ['privacy-officer'], purposes: ['HCOMPL', 'HOPERAT'] }],
  },
  // Finding a patient: each job's own purposes (scheduling and intake for treatment and
  // administration, prior-auth for coverage, coding and billing for payment...), a privacy
  // officer answering a compliance, legal or patient request; never for donation/sysadmin.
  'POST /v1/patients/_search': {
    patient: false,
    request: () => ({ method: 'POST', url: '/v1/patients/_search', payload: { identifier: { value: 'MRN-000-unknown' } } }),
    grants: [
      { roles: ['privacy-officer'], purposes: ['HCOMPL', 'HLEGAL', 'PATRQT'] },
      { roles: ['scheduler'], purposes: ['TREAT', 'HOPERAT', 'PATADMIN'] },
      { roles: ['intake'], purposes: ['TREAT', 'PATADMIN'] },
      { roles: ['prior-auth'], purposes: ['COVAUTH', 'ELIGVER'] },
      { roles: ['coder'], purposes: ['HPAYMT', 'HOPERAT'] },
      { roles: ['billing'], purposes: ['HPAYMT', 'ELIGVER'] },
      { roles: ['clinician'], purposes: ['TREAT', 'COC', 'CAREMGT'] },
      { roles: ['workflow'], purposes: ['TREAT', 'HOPERAT', 'PATADMIN', 'COVAUTH', 'HPAYMT'] },
      { roles: ['integration'], purposes: ['TREAT', 'HOPERAT'] },
    ],
  },
  // Reading a patient's records: people need a relationship to the patient (care team or an
  // assigned case; payment and coverage work by assignment only); workflows act for the job
  // they run. Privacy officers and integrations read no records here (export is their path).
  'GET /v1/patients/:id/records': {
    patient: true,
    request: (patient) => ({ method: 'GET', url: `/v1/patients/${patient ?? 'none'}/records` }),
    grants: [
      { roles: ['scheduler'], purposes: ['TREAT', 'HOPERAT', 'PATADMIN', 'ELIGVER'], relationships: ['care-team', 'assigned'] },
      { roles: ['intake'], purposes: ['TREAT', 'PATADMIN'], relationships: ['care-team', 'assigned'] },
      { roles: ['prior-auth'], purposes: ['COVAUTH', 'ELIGVER', 'HPAYMT'], relationships: ['assigned'] },
      { roles: ['coder'], purposes: ['HPAYMT', 'HOPERAT'], relationships: ['assigned'] },
      { roles: ['billing'], purposes: ['HPAYMT', 'ELIGVER', 'REMITADV'], relationships: ['assigned'] },
      { roles: ['clinician'], purposes: ['TREAT', 'COC', 'CAREMGT', 'PATSFTY', 'ETREAT'], relationships: ['care-team', 'assigned'] },
      // Without a relationship only under break-glass: the break-glass row above opened a
      // grant for exactly these cells' patients (same patient id per role and purpose).
      { roles: ['clinician'], purposes: ['ETREAT', 'BTG'], relationships: ['none'] },
      { roles: ['workflow'], purposes: ['HOPERAT', 'PATADMIN', 'TREAT', 'COVAUTH', 'HPAYMT'] },
    ],
  },
  // Which models exist and where they run is no PHI: anyone signed in, with or without a
  // purpose, except under the purposes the clinic refuses for everything (marketing,
  // research, training).
  'GET /v1/models': {
    patient: false,
    request: () => ({ method: 'GET', url: '/v1/models' }),
    grants: [{ roles: ROLES, purposes: purposesOfUse.filter((p) => !['HMARKT', 'HRESCH', 'TRAIN'].includes(p)), noPurpose: true }],
  },
  // A prompt about a patient: each job's assistant for its own purposes and relationship, the
  // de-identified quality-improvement uses without one, clinicians in an emergency only under
  // the break-glass grant opened above; workflows and integrations act for the job they run.
  // (The world has no model configured: a permitted cell reaches the route's 404 model.unknown.)
  'POST /v1/chat/completions': {
    patient: true,
    request: (patient) => ({ method: 'POST', url: '/v1/chat/completions', headers: patient !== undefined ? { 'x-ward-patient': patient } : {}, payload: { model: 'none', messages: [{ role: 'user', content: 'Hello' }] } }),
    grants: [
      { roles: ['scheduler'], purposes: ['HOPERAT', 'PATADMIN'], relationships: ['care-team', 'assigned'] },
      { roles: ['intake'], purposes: ['TREAT'], relationships: ['care-team', 'assigned'] },
      { roles: ['prior-auth'], purposes: ['COVAUTH'], relationships: ['assigned'] },
      { roles: ['coder'], purposes: ['HPAYMT', 'HOPERAT'], relationships: ['assigned'] },
      { roles: ['coder', 'clinician'], purposes: ['HQUALIMP'] },
      { roles: ['billing'], purposes: ['HPAYMT'], relationships: ['assigned'] },
      { roles: ['clinician'], purposes: ['TREAT', 'COC', 'CAREMGT'], relationships: ['care-team', 'assigned'] },
      { roles: ['clinician'], purposes: ['ETREAT', 'BTG'], relationships: ['none'] },
      { roles: ['workflow'], purposes: ['HOPERAT', 'PATADMIN', 'TREAT', 'COVAUTH', 'HPAYMT'] },
      { roles: ['integration'], purposes: ['TREAT', 'COC', 'HOPERAT', 'HQUALIMP', 'PATADMIN'] },
    ],
  },
};

/** Routes any authenticated principal may call on its own behalf (no PHI); `session` ones need a person's session. */
const SELF_ROUTES: Record<string, { session: boolean; request: InjectOptions }> = {
  'GET /v1/auth/me': { session: false, request: { method: 'GET', url: '/v1/auth/me' } },
  'POST /v1/access/evaluate': { session: false, request: { method: 'POST', url: '/v1/access/evaluate', payload: { action: 'patient.read', patient: 'pt-x' } } },
  'POST /v1/auth/logout': { session: true, request: { method: 'POST', url: '/v1/auth/logout' } },
  'POST /v1/auth/password': { session: true, request: { method: 'POST', url: '/v1/auth/password', payload: { currentPassword: 'not it at all', newPassword: 'also not a real passphrase' } } },
  'POST /v1/auth/mfa/totp': { session: true, request: { method: 'POST', url: '/v1/auth/mfa/totp' } },
  'POST /v1/auth/mfa/totp/confirm': { session: true, request: { method: 'POST', url: '/v1/auth/mfa/totp/confirm', payload: { code: '000000' } } },
};

const PUBLIC_ROUTES = ['GET /healthz', 'GET /readyz', 'POST /v1/auth/login'];

function allowed(route: PolicyRouteCase, role: Role, purpose: string | undefined, relationship: Relationship | undefined): boolean {
  return route.grants.some((g) => g.roles.includes(role) && (purpose === undefined ? g.noPurpose === true : g.purposes.includes(purpose))
    && (g.relationships === undefined || (relationship !== undefined && g.relationships.includes(relationship))));
}

describe.each(testDialects().filter((d) => d.name === 'sqlite'))('authorization matrix on $name', (dialect) => {
  let w: HttpWorld;
  const bearer = new Map<Role, { token: string; id: string }>();

  beforeAll(async () => {
    w = await createHttpWorld(dialect);
    for (const role of personRoles) {
      const u = await w.userWithToken(`user-${role}`, [role]);
      bearer.set(role, { token: u.token, id: u.id });
    }
    for (const role of serviceRoles) {
      const k = await w.serviceWithKey(`svc-${role}`, [role], [...actionCodes]);
      bearer.set(role, { token: k.key, id: k.id });
    }
    for (const role of ROLES) {
      const id = bearer.get(role)!.id;
      await w.relationships.add({ principalId: id, patientId: `pt-care-${role}`, kind: 'care-team' }, SYSTEM_ACTOR);
      await w.relationships.add({ principalId: id, patientId: `pt-assigned-${role}`, kind: 'assigned' }, SYSTEM_ACTOR);
    }
  }, 120_000);
  afterAll(async () => {
    await w.dispose();
  });

  function patientFor(role: Role, relationship: Relationship, purpose: string | undefined): string {
    // A fresh unrelated patient per cell, so a break-glass grant opened in one cell does not
    // turn the next into "already open".
    return relationship === 'care-team' ? `pt-care-${role}` : relationship === 'assigned' ? `pt-assigned-${role}` : `pt-none-${role}-${purpose ?? 'nopurpose'}`;
  }

  it('lists every route the server declares, each with its access rule', () => {
    const declared = w.app.declaredRoutes.map((r) => `${r.method} ${r.url}`).sort();
    expect(declared).toEqual([...Object.keys(POLICY_ROUTES), ...Object.keys(SELF_ROUTES), ...PUBLIC_ROUTES].sort());
    for (const r of w.app.declaredRoutes) {
      const key = `${r.method} ${r.url}`;
      expect(r.access.kind, key).toBe(key in POLICY_ROUTES ? 'policy' : key in SELF_ROUTES ? 'self' : 'public');
    }
  });

  it('permits exactly the listed cells of every policy route, and denies (403, audited) everything else', async () => {
    const mismatches: string[] = [];
    let denials = 0;
    const coverage = new Map<string, { allowed: number; denied: number }>();
    await w.log.flush();
    const deniedBefore = (await w.t.db.selectFrom('audit_entry').select('seq').where('action', '=', 'access.decision').where('outcome', '=', 'denied').execute()).length;
    for (const [key, route] of Object.entries(POLICY_ROUTES)) {
      for (const role of ROLES) {
        for (const purpose of PURPOSES) {
          for (const relationship of route.patient ? RELATIONSHIPS : [undefined]) {
            const patient = relationship === undefined ? undefined : patientFor(role, relationship, purpose);
            const base = route.request(patient);
            const res = await w.app.inject({
              ...base,
              headers: { ...(base.headers as Record<string, string> | undefined), authorization: `Bearer ${bearer.get(role)!.token}`, ...(purpose !== undefined ? { [PURPOSE_HEADER]: purpose } : {}) },
            });
            const expectAllowed = allowed(route, role, purpose, relationship);
            const got = res.statusCode !== 403 && res.statusCode !== 401;
            const cell = `${key} role=${role} purpose=${purpose ?? '-'} relationship=${relationship ?? '-'}`;
            if (expectAllowed !== got) mismatches.push(`${cell}: expected ${expectAllowed ? 'allowed' : 'denied'}, got ${res.statusCode} ${res.body.slice(0, 120)}`);
            if (!got) {
              denials++;
              if (res.statusCode !== 403) mismatches.push(`${cell}: denied with ${res.statusCode}, not 403`);
            }
            const c = coverage.get(`${key} ${role}`) ?? { allowed: 0, denied: 0 };
            if (got) c.allowed++;
            else c.denied++;
            coverage.set(`${key} ${role}`, c);
          }
        }
      }
    }
    expect(mismatches).toEqual([]);
    // Both directions for every (route, role) that has a grant; roles without one only deny.
    for (const [key, route] of Object.entries(POLICY_ROUTES)) {
      for (const role of ROLES) {
        const c = coverage.get(`${key} ${role}`)!;
        const granted = route.grants.some((g) => g.roles.includes(role));
        expect(c.denied, `${key} ${role}`).toBeGreaterThan(0);
        expect(c.allowed > 0, `${key} ${role}`).toBe(granted);
      }
    }
    await w.log.flush();
    const deniedAfter = (await w.t.db.selectFrom('audit_entry').select('seq').where('action', '=', 'access.decision').where('outcome', '=', 'denied').execute()).length;
    expect(deniedAfter - deniedBefore).toBe(denials);
  }, 300_000);

  it('lets every principal reach its own self-service routes, sessions only where they belong', async () => {
    for (const [key, route] of Object.entries(SELF_ROUTES)) {
      if (key === 'POST /v1/auth/logout') continue; // would end the session the other cells use; covered in sessions tests
      for (const role of ROLES) {
        const res = await w.app.inject({ ...route.request, headers: { authorization: `Bearer ${bearer.get(role)!.token}` } });
        const isService = (serviceRoles as readonly string[]).includes(role);
        const cell = `${key} role=${role}`;
        if (route.session && isService) expect(res.json(), cell).toMatchObject({ status: 403, code: 'auth.session_required' });
        // Past access control: the route's own answer (a wrong current password is its 401).
        else expect(res.statusCode === 403 || (res.json<{ code?: string }>().code === 'auth.unauthenticated'), `${cell}: ${res.body}`).toBe(false);
      }
      const anonymous = await w.app.inject(route.request);
      expect(anonymous.statusCode, key).toBe(401);
    }
  });

  it('answers public routes without credentials', async () => {
    for (const url of ['/healthz', '/readyz']) expect((await w.app.inject({ method: 'GET', url })).statusCode).toBe(200);
    expect((await w.app.inject({ method: 'POST', url: '/v1/auth/login', payload: { username: 'nobody', password: 'x' } })).statusCode).toBe(401);
  });
});
