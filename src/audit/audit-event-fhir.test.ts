/**
 * Ward audit entry -> FHIR AuditEvent (IHE BALP). Table tests per shape, outcome, purpose and
 * break-glass, plus a canary check that the event carries the entry's ids and codes and
 * fixed vocabulary only.
 */
import { describe, expect, it } from 'vitest';
import type { AuditEvent, AuditEventAgent } from '@medplum/fhirtypes';
import type { AuditEntry } from './audit-entry.js';
import { auditEntryInputSchema } from './audit-entry.js';
import { balpProfiles, balpShapeOf, systems, toFhirAuditEvent } from './audit-event-fhir.js';

const observerId = 'ward-test.example.org';

function entry(overrides: Partial<AuditEntry> = {}): AuditEntry {
  return {
    v: 1,
    seq: 42,
    time: '2026-03-01T09:00:00.000Z',
    who: { id: 'usr_1', kind: 'person' },
    action: 'patient.read',
    resource: { type: 'Patient', id: 'pt-1' },
    patient: 'pt-1',
    purpose: 'TREAT',
    outcome: 'success',
    requestId: 'req-1',
    client: '10.0.0.7',
    ...overrides,
  };
}

const fhir = (e: AuditEntry): AuditEvent => toFhirAuditEvent(e, { observerId });
const codes = (ev: AuditEvent): string[] => (ev.subtype ?? []).map((c) => `${c.system}|${c.code}`);
const requestor = (ev: AuditEvent): AuditEventAgent | undefined => ev.agent.find((a) => a.requestor);
const agentCode = (a: AuditEventAgent | undefined): string | undefined => a?.type?.coding?.[0]?.code;

describe('BALP shape by action', () => {
  it.each([
    { action: 'patient.read', shape: 'read' },
    { action: 'records.observation.read', shape: 'read' },
    { action: 'patient.search', shape: 'query' },
    { action: 'records.query', shape: 'query' },
    { action: 'audit.search', shape: 'query' },
    { action: 'policy.decide', shape: 'authz' },
    { action: 'consent.check', shape: 'authz' },
    { action: 'auth.authorize', shape: 'authz' },
    { action: 'auth.login', shape: 'login' },
    { action: 'auth.logout', shape: 'logout' },
    { action: 'auth.password_change', shape: 'activity' },
    { action: 'audit.export', shape: 'audit' },
    { action: 'workflow.run.create', shape: 'activity' },
  ])('$action -> $shape', ({ action, shape }) => {
    expect(balpShapeOf({ action })).toBe(shape);
  });

  it('treats an auth.* entry about a patient as an authorization decision', () => {
    expect(balpShapeOf({ action: 'auth.step_up', patient: 'pt-1' })).toBe('authz');
  });
});

describe('toFhirAuditEvent shapes', () => {
  it.each([
    {
      name: 'PatientRead',
      e: entry(),
      type: `${systems.eventType}|rest`,
      subtype: `${systems.restful}|read`,
      action: 'R',
      profile: balpProfiles.patientRead,
    },
    {
      name: 'Read without a patient',
      e: entry({ action: 'model.read', resource: { type: 'Device', id: 'dev-1' }, patient: undefined }),
      type: `${systems.eventType}|rest`,
      subtype: `${systems.restful}|read`,
      action: 'R',
      profile: balpProfiles.read,
    },
    {
      name: 'PatientQuery',
      e: entry({ action: 'patient.search', resource: { type: 'Observation' } }),
      type: `${systems.eventType}|rest`,
      subtype: `${systems.restful}|search-type`,
      action: 'E',
      profile: balpProfiles.patientQuery,
    },
    {
      name: 'Query without a patient',
      e: entry({ action: 'audit.search', resource: { type: 'AuditEvent' }, patient: undefined }),
      type: `${systems.eventType}|rest`,
      subtype: `${systems.restful}|search-type`,
      action: 'E',
      profile: balpProfiles.query,
    },
    {
      name: 'AuthZconsent',
      e: entry({ action: 'consent.check', resource: { type: 'Consent', id: 'cons-1' } }),
      type: `${systems.dicom}|110113`,
      subtype: `${systems.authzSubtype}|AuthZ-Consent`,
      action: 'E',
      profile: balpProfiles.authzConsent,
    },
    {
      name: 'role-only authorization decision',
      e: entry({ action: 'policy.decide' }),
      type: `${systems.dicom}|110113`,
      subtype: `${systems.authzSubtype}|AuthZ-Role`,
      action: 'E',
      profile: undefined,
    },
    {
      name: 'login',
      e: entry({ action: 'auth.login', resource: undefined, patient: undefined, purpose: undefined }),
      type: `${systems.dicom}|110114`,
      subtype: `${systems.dicom}|110122`,
      action: 'E',
      profile: undefined,
    },
    {
      name: 'logout',
      e: entry({ action: 'auth.logout', resource: undefined, patient: undefined, purpose: undefined }),
      type: `${systems.dicom}|110114`,
      subtype: `${systems.dicom}|110123`,
      action: 'E',
      profile: undefined,
    },
    {
      name: 'audit log used',
      e: entry({ action: 'audit.export', resource: undefined, patient: undefined }),
      type: `${systems.dicom}|110101`,
      subtype: undefined,
      action: 'E',
      profile: undefined,
    },
    {
      name: 'generic application activity',
      e: entry({ action: 'workflow.run.create', resource: { type: 'WorkflowRun', id: 'run-1' } }),
      type: `${systems.dicom}|110100`,
      subtype: undefined,
      action: 'C',
      profile: undefined,
    },
  ])('$name', ({ e, type, subtype, action, profile }) => {
    const ev = fhir(e);
    expect(ev.resourceType).toBe('AuditEvent');
    expect(`${ev.type.system}|${ev.type.code}`).toBe(type);
    if (subtype !== undefined) expect(codes(ev)[0]).toBe(subtype);
    // The Ward action is always the last subtype, so every event names what Ward recorded.
    expect(codes(ev).at(-1)).toBe(`${systems.wardAction}|${e.action}`);
    expect(codes(ev)).toHaveLength(subtype === undefined ? 1 : 2);
    expect(ev.action).toBe(action);
    expect(ev.meta?.profile).toEqual(profile === undefined ? undefined : [profile]);
    expect(ev.id).toBe('ward-audit-42');
    expect(ev.recorded).toBe('2026-03-01T09:00:00.000Z');
    expect(ev.source.observer.identifier?.value).toBe(observerId);
  });

  it('lays out the PatientRead entities: patient (Person/Patient), data (System Object/Domain Resource), request id', () => {
    const ev = fhir(entry({ resource: { type: 'Observation', id: 'obs-9' } }));
    expect(ev.entity).toEqual([
      {
        what: { reference: 'Patient/pt-1' },
        type: { system: systems.entityType, code: '1', display: 'Person' },
        role: { system: systems.objectRole, code: '1', display: 'Patient' },
      },
      {
        what: { reference: 'Observation/obs-9' },
        type: { system: systems.entityType, code: '2', display: 'System Object' },
        role: { system: systems.objectRole, code: '4', display: 'Domain Resource' },
      },
      {
        what: { identifier: { value: 'req-1' } },
        type: expect.objectContaining({ system: systems.balpEntityType, code: 'XrequestId' }) as unknown,
      },
    ]);
  });

  it('uses BALP client/server roles: Read client 110152 / server 110153, Query reversed, AuthZ authserver', () => {
    const roles = (e: AuditEntry): (string | undefined)[] => fhir(e).agent.map(agentCode);
    expect(roles(entry())).toEqual(['IRCP', '110152', '110153']);
    expect(roles(entry({ action: 'patient.search' }))).toEqual(['IRCP', '110153', '110152']);
    expect(roles(entry({ action: 'consent.check' }))).toEqual(['IRCP', '110150', 'authserver']);
    expect(roles(entry({ action: 'workflow.run.create' }))).toEqual(['IRCP', '110153', 'CST']);
  });

  it('does not double a stored id that is already a relative reference', () => {
    const ev = fhir(entry({ patient: 'Patient/pt-1', resource: { type: 'Patient', id: 'Patient/pt-1' } }));
    expect(ev.entity?.slice(0, 2).map((x) => x.what?.reference)).toEqual(['Patient/pt-1', 'Patient/pt-1']);
  });

  it('names the searched type without inventing an instance when a search has no resource id', () => {
    const ev = fhir(entry({ action: 'patient.search', resource: { type: 'Observation' } }));
    expect(ev.entity?.[1]).toEqual({
      what: { type: 'Observation' },
      type: { system: systems.entityType, code: '2', display: 'System Object' },
      role: { system: systems.objectRole, code: '24', display: 'Query' },
    });
  });
});

describe('outcomes', () => {
  it.each([
    { outcome: 'success', code: '0', profile: balpProfiles.patientRead },
    { outcome: 'denied', code: '4', profile: undefined },
    { outcome: 'error', code: '8', profile: undefined },
  ] as const)('$outcome -> $code (read profile claimed only on success)', ({ outcome, code, profile }) => {
    const ev = fhir(entry({ outcome }));
    expect(ev.outcome).toBe(code);
    // BALP Read fixes outcome 0: a failed read keeps the shape but must not claim the profile.
    expect(ev.meta?.profile?.[0]).toBe(profile);
    expect(ev.type.code).toBe('rest');
  });

  it('keeps AuthZconsent for a deny (the profile records permit and deny)', () => {
    const ev = fhir(entry({ action: 'consent.check', outcome: 'denied', reason: 'consent.refused' }));
    expect(ev.outcome).toBe('4');
    expect(ev.meta?.profile).toEqual([balpProfiles.authzConsent]);
    expect(ev.outcomeDesc).toBe('consent.refused');
  });

  it('has no outcomeDesc without a reason code', () => {
    expect(fhir(entry({ outcome: 'error' })).outcomeDesc).toBeUndefined();
  });
});

describe('purpose of use and break-glass', () => {
  it.each(['TREAT', 'HPAYMT', 'ETREAT', 'BTG'])('%s is carried as a v3-ActReason code on the requestor and the event', (purpose) => {
    const ev = fhir(entry({ purpose }));
    const expected = [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActReason', code: purpose }] }];
    expect(requestor(ev)?.purposeOfUse).toEqual(expected);
    expect(ev.purposeOfEvent).toEqual(expected);
  });

  it('omits purpose when the entry has none', () => {
    const ev = fhir(entry({ purpose: undefined }));
    expect(ev.purposeOfEvent).toBeUndefined();
    expect(requestor(ev)?.purposeOfUse).toBeUndefined();
  });

  it('records the break-glass grant as a security-resource entity', () => {
    const ev = fhir(entry({ purpose: 'ETREAT', breakGlass: 'bg-7' }));
    expect(ev.entity).toContainEqual({
      what: { identifier: { system: systems.wardBreakGlass, value: 'bg-7' } },
      type: { system: systems.entityType, code: '2', display: 'System Object' },
      role: { system: systems.objectRole, code: '13', display: 'Security Resource' },
    });
    expect(fhir(entry()).entity?.some((x) => x.role?.code === '13')).toBe(false);
  });
});

describe('agents', () => {
  it.each([
    { kind: 'person', type: 'IRCP', principalNetwork: false, clientAgent: true },
    { kind: 'service', type: '110150', principalNetwork: true, clientAgent: false },
    { kind: 'system', type: '110150', principalNetwork: true, clientAgent: false },
  ] as const)('$kind principal', ({ kind, type, principalNetwork, clientAgent }) => {
    const ev = fhir(entry({ who: { id: 'p-1', kind } }));
    const who = requestor(ev);
    expect(ev.agent.filter((a) => a.requestor)).toHaveLength(1);
    expect(who?.who).toEqual({ identifier: { value: 'p-1' } });
    expect(agentCode(who)).toBe(type);
    expect(who?.network !== undefined).toBe(principalNetwork);
    expect(ev.agent.length).toBe(clientAgent ? 3 : 2);
    const networks = ev.agent.flatMap((a) => (a.network ? [a.network] : []));
    expect(networks).toEqual([{ address: '10.0.0.7', type: '2' }]);
    const server = ev.agent.at(-1);
    expect(server).toMatchObject({ requestor: false, who: { identifier: { value: observerId } } });
  });

  it('has no network agent when the client address is unknown', () => {
    const ev = fhir(entry({ client: undefined }));
    expect(ev.agent).toHaveLength(2);
    expect(ev.agent.some((a) => a.network !== undefined)).toBe(false);
  });
});

describe('ids and codes only', () => {
  // Two entries that differ only in their ids: with the ids masked, the events must be equal,
  // so nothing in an event is derived from an entry except its ids and codes.
  const canaries = (tag: string) => ({
    who: `usr_canary${tag}`,
    patient: `pt-canary${tag}`,
    resource: `obs-canary${tag}`,
    breakGlass: `bg-canary${tag}`,
    requestId: `req-canary${tag}`,
    client: `192.0.2.${tag === 'A' ? 11 : 22}`,
    observer: `ward-canary${tag}.example.org`,
    detail: `detail-canary${tag}`,
  });
  const eventFor = (tag: string, action: string, outcome: AuditEntry['outcome']): string => {
    const c = canaries(tag);
    const e = auditEntryInputSchema.parse({
      who: { id: c.who, kind: 'person' },
      action,
      resource: { type: 'Observation', id: c.resource },
      patient: c.patient,
      purpose: 'ETREAT',
      breakGlass: c.breakGlass,
      outcome,
      reason: 'policy.break_glass',
      requestId: c.requestId,
      client: c.client,
      details: { note: c.detail, count: 3 },
    });
    let json = JSON.stringify(toFhirAuditEvent({ v: 1, seq: 7, time: '2026-03-01T09:00:00.000Z', ...e }, { observerId: c.observer }));
    for (const [k, v] of Object.entries(c)) {
      expect(json.includes(v), `${k} ${v}`).toBe(k !== 'detail');
      json = json.split(v).join(`<${k}>`);
    }
    return json;
  };

  it.each([
    'patient.read', 'patient.search', 'consent.check', 'policy.decide', 'auth.login', 'audit.export', 'workflow.run.create',
  ])('%s', (action) => {
    for (const outcome of ['success', 'denied', 'error'] as const) {
      expect(eventFor('A', action, outcome)).toBe(eventFor('B', action, outcome));
    }
  });

  it('puts text with spaces only in `display` of fixed vocabulary', () => {
    const ev = fhir(entry({ breakGlass: 'bg-1', reason: 'policy.denied', outcome: 'denied' }));
    const spaced: string[] = [];
    const walk = (v: unknown, key: string): void => {
      if (typeof v === 'string' && /\s/.test(v)) spaced.push(key);
      else if (Array.isArray(v)) v.forEach((x) => walk(x, key));
      else if (typeof v === 'object' && v !== null) for (const [k, x] of Object.entries(v)) walk(x, k);
    };
    walk(ev, '');
    expect(spaced.length).toBeGreaterThan(0);
    expect(new Set(spaced)).toEqual(new Set(['display']));
    expect(ev.text).toBeUndefined();
  });
});
