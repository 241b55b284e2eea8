/**
 * One Ward audit entry as a FHIR R4 AuditEvent, following IHE Basic Audit Log Patterns (BALP,
 * https://profiles.ihe.net/ITI/BALP/). Pure: no I/O, no clock. The event carries the entry's ids
 * and codes and fixed vocabulary (code systems, codes and their standard displays) only; it never
 * adds narrative text, so nothing that could be PHI is invented (45 CFR 164.312(b) audit
 * controls; the same entries back the 164.528 accounting of disclosures).
 *
 * Shapes (decided by the dotted action code, see `balpShapeOf`):
 * - `*.read`            -> BALP Read / PatientRead   (type rest, subtype read, action R)
 * - `*.search|*.query`  -> BALP Query / PatientQuery (type rest, subtype search-type, action E)
 * - `policy.*`, `consent.*`, authorization `auth.*` -> BALP AuthZconsent pattern
 *                          (type DCM 110113 Security Alert, subtype AuthZ-Consent | AuthZ-Role, action E)
 * - `auth.login|logout` -> DICOM User Authentication (110114) with Login/Logout subtype
 * - other `audit.*`     -> DICOM Audit Log Used (110101)
 * - anything else       -> DICOM Application Activity (110100)
 * Every event also carries the Ward action itself as an extra subtype coding (BALP subtype
 * slicing is open), so no event is ambiguous about what Ward recorded.
 *
 * `meta.profile` names a BALP profile only where the event follows it. BALP's Read and Query
 * profiles fix `outcome` to 0 (failures "would not be a successful outcome"), so a denied or
 * failed read keeps the shape but claims no profile. Elements Ward never records are left out
 * rather than made up: the server's network address, the base64 raw query of a search
 * (`entity[query].query`, which may hold PHI such as a searched name), the consent on file.
 * A strict validator may therefore report those cardinalities.
 */
import type { AuditEvent, AuditEventAgent, AuditEventEntity, CodeableConcept, Coding, Reference, ResourceType } from '@medplum/fhirtypes';
import type { AuditEntry, AuditOutcome, PrincipalKind } from './audit-entry.js';

const BALP = 'https://profiles.ihe.net/ITI/BALP/StructureDefinition';
export const balpProfiles = {
  read: `${BALP}/IHE.BasicAudit.Read`,
  patientRead: `${BALP}/IHE.BasicAudit.PatientRead`,
  query: `${BALP}/IHE.BasicAudit.Query`,
  patientQuery: `${BALP}/IHE.BasicAudit.PatientQuery`,
  authzConsent: `${BALP}/IHE.BasicAudit.AuthZconsent`,
} as const;

export const systems = {
  dicom: 'http://dicom.nema.org/resources/ontology/DCM',
  eventType: 'http://terminology.hl7.org/CodeSystem/audit-event-type',
  restful: 'http://hl7.org/fhir/restful-interaction',
  authzSubtype: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/AuthZsubType',
  balpEntityType: 'https://profiles.ihe.net/ITI/BALP/CodeSystem/BasicAuditEntityType',
  entityType: 'http://terminology.hl7.org/CodeSystem/audit-entity-type',
  objectRole: 'http://terminology.hl7.org/CodeSystem/object-role',
  participation: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType',
  securityRole: 'http://terminology.hl7.org/CodeSystem/extra-security-role-type',
  sourceType: 'http://terminology.hl7.org/CodeSystem/security-source-type',
  resourceTypes: 'http://hl7.org/fhir/resource-types',
  actReason: 'http://terminology.hl7.org/CodeSystem/v3-ActReason',
  /** Ward's own dotted action codes (`patient.read`), carried as an extra subtype. */
  wardAction: 'urn:ward:audit-action',
  /** Ward break-glass grant ids: not FHIR resources, so an identifier rather than a reference. */
  wardBreakGlass: 'urn:ward:break-glass',
  wardDataView: 'urn:ward:data-view',
} as const;

export type BalpShape = 'read' | 'query' | 'authz' | 'login' | 'logout' | 'audit' | 'activity';

export interface FhirAuditOptions {
  /** Identifier of this Ward server (host name or configured id): the observer and custodian. */
  observerId: string;
}

const dcm = (code: string, display: string): Coding => ({ system: systems.dicom, code, display });
const concept = (coding: Coding): CodeableConcept => ({ coding: [coding] });

/** audit-event-outcome: 0 success, 4 minor failure (a refusal), 8 serious failure (an error). */
const OUTCOME: Record<AuditOutcome, NonNullable<AuditEvent['outcome']>> = { success: '0', denied: '4', error: '8' };

/** `auth.*` actions that record an authorization decision rather than an authentication. */
const AUTHZ_AUTH_ACTIONS = new Set(['auth.authorize', 'auth.authz', 'auth.access']);

/** Which BALP / DICOM pattern an entry follows. Exported so tests and docs name the rule once. */
export function balpShapeOf(entry: Pick<AuditEntry, 'action' | 'patient'>): BalpShape {
  const parts = entry.action.split('.');
  const head = parts[0];
  const last = parts[parts.length - 1];
  if (head === 'policy' || head === 'consent') return 'authz';
  if (last === 'read') return 'read';
  if (last === 'search' || last === 'query') return 'query';
  if (head === 'auth') {
    if (entry.action === 'auth.login') return 'login';
    if (entry.action === 'auth.logout') return 'logout';
    if (entry.patient !== undefined || AUTHZ_AUTH_ACTIONS.has(entry.action)) return 'authz';
    return 'activity';
  }
  if (head === 'audit') return 'audit';
  return 'activity';
}

export function toFhirAuditEvent(entry: AuditEntry, options: FhirAuditOptions): AuditEvent {
  const shape = balpShapeOf(entry);
  const consentDecision = shape === 'authz' && (entry.action.startsWith('consent.') || entry.resource?.type === 'Consent');
  const profile = profileOf(shape, entry, consentDecision);
  const purpose = entry.purpose === undefined ? undefined : [concept({ system: systems.actReason, code: entry.purpose })];

  const event: AuditEvent = {
    resourceType: 'AuditEvent',
    id: `ward-audit-${entry.seq}`,
    ...(profile === undefined ? {} : { meta: { profile: [profile] } }),
    type: eventType(shape),
    subtype: [...shapeSubtype(shape, consentDecision), { system: systems.wardAction, code: entry.action }],
    action: actionOf(shape, entry.action),
    recorded: entry.time,
    outcome: OUTCOME[entry.outcome],
    // A code only (`policy.denied`): BALP suggests outcomeDesc explain a deny, and a code does so without free text.
    ...(entry.reason === undefined ? {} : { outcomeDesc: entry.reason }),
    ...(purpose === undefined ? {} : { purposeOfEvent: purpose }),
    agent: agentsOf(shape, entry, options, purpose),
    source: {
      observer: { identifier: { value: options.observerId } },
      type: [
        shape === 'authz'
          ? { system: systems.sourceType, code: '6', display: 'Security Server' }
          : { system: systems.sourceType, code: '4', display: 'Application Server' },
      ],
    },
  };
  const entities = entitiesOf(shape, entry);
  if (entities.length > 0) event.entity = entities;
  return event;
}

function profileOf(shape: BalpShape, entry: AuditEntry, consentDecision: boolean): string | undefined {
  const success = entry.outcome === 'success';
  const hasPatient = entry.patient !== undefined;
  switch (shape) {
    case 'read':
      if (!success) return undefined;
      return hasPatient ? balpProfiles.patientRead : balpProfiles.read;
    case 'query':
      if (!success) return undefined;
      return hasPatient ? balpProfiles.patientQuery : balpProfiles.query;
    case 'authz':
      // AuthZconsent records permit and deny alike, but needs a patient subject (entity[patient] 1..1).
      return consentDecision && hasPatient ? balpProfiles.authzConsent : undefined;
    default:
      return undefined;
  }
}

function eventType(shape: BalpShape): Coding {
  switch (shape) {
    case 'read':
    case 'query':
      return { system: systems.eventType, code: 'rest', display: 'Restful Operation' };
    case 'authz':
      return dcm('110113', 'Security Alert');
    case 'login':
    case 'logout':
      return dcm('110114', 'User Authentication');
    case 'audit':
      return dcm('110101', 'Audit Log Used');
    case 'activity':
      return dcm('110100', 'Application Activity');
  }
}

function shapeSubtype(shape: BalpShape, consentDecision: boolean): Coding[] {
  switch (shape) {
    case 'read':
      return [{ system: systems.restful, code: 'read', display: 'read' }];
    case 'query':
      return [{ system: systems.restful, code: 'search-type', display: 'search type' }];
    case 'authz':
      return [
        consentDecision
          ? { system: systems.authzSubtype, code: 'AuthZ-Consent', display: 'Authorization Decision using Roles and Consent' }
          : { system: systems.authzSubtype, code: 'AuthZ-Role', display: 'Authorization Decision using only Roles' },
      ];
    case 'login':
      return [dcm('110122', 'Login')];
    case 'logout':
      return [dcm('110123', 'Logout')];
    case 'audit':
    case 'activity':
      return [];
  }
}

/** FHIR AuditEvent.action: BALP fixes R for reads and E for queries and decisions. */
function actionOf(shape: BalpShape, action: string): NonNullable<AuditEvent['action']> {
  if (shape === 'read') return 'R';
  if (shape !== 'activity') return 'E';
  const verb = action.split('.').pop();
  if (verb === 'create') return 'C';
  if (verb === 'update' || verb === 'write') return 'U';
  if (verb === 'delete') return 'D';
  return 'E';
}

/** How the principal appears: a person is BALP's user (information recipient); anything else is an application. */
function principalType(kind: PrincipalKind): CodeableConcept {
  return kind === 'person'
    ? concept({ system: systems.participation, code: 'IRCP', display: 'information recipient' })
    : concept(dcm('110150', 'Application'));
}

/** BALP's client/server roles; Query reverses Read's (DICOM: the query flows client -> server). */
function clientType(shape: BalpShape): CodeableConcept {
  if (shape === 'read') return concept(dcm('110152', 'Destination Role ID'));
  if (shape === 'authz') return concept(dcm('110150', 'Application'));
  return concept(dcm('110153', 'Source Role ID'));
}

function serverType(shape: BalpShape): CodeableConcept {
  switch (shape) {
    case 'read':
      return concept(dcm('110153', 'Source Role ID'));
    case 'query':
      return concept(dcm('110152', 'Destination Role ID'));
    case 'authz':
      return concept({ system: systems.securityRole, code: 'authserver', display: 'authorization server' });
    default:
      return concept({ system: systems.participation, code: 'CST', display: 'custodian' });
  }
}

function agentsOf(
  shape: BalpShape,
  entry: AuditEntry,
  options: FhirAuditOptions,
  purpose: CodeableConcept[] | undefined,
): AuditEventAgent[] {
  const network = entry.client === undefined ? undefined : { address: entry.client, type: '2' as const }; // 2 = IP address
  const principal: AuditEventAgent = {
    type: principalType(entry.who.kind),
    who: { identifier: { value: entry.who.id } },
    requestor: true,
    // BALP: "users are not network devices", so a person's address goes on a separate client agent.
    ...(network !== undefined && entry.who.kind !== 'person' ? { network } : {}),
    ...(purpose === undefined ? {} : { purposeOfUse: purpose }),
  };
  const agents: AuditEventAgent[] = [principal];
  if (network !== undefined && entry.who.kind === 'person') {
    // Ward knows the client only by its address; it names no client application, so `who` stays empty.
    agents.push({ type: clientType(shape), requestor: false, network });
  }
  agents.push({ type: serverType(shape), who: { identifier: { value: options.observerId } }, requestor: false });
  return agents;
}

/** `Type/id`, unless the stored id is already a relative reference of that type. */
function referenceTo(type: string, id: string): string {
  return id.startsWith(`${type}/`) ? id : `${type}/${id}`;
}

function entitiesOf(shape: BalpShape, entry: AuditEntry): AuditEventEntity[] {
  const entities: AuditEventEntity[] = [];
  if (entry.patient !== undefined) {
    entities.push({
      what: { reference: referenceTo('Patient', entry.patient) },
      type: { system: systems.entityType, code: '1', display: 'Person' },
      role: { system: systems.objectRole, code: '1', display: 'Patient' },
    });
  }
  if (entry.resource !== undefined) {
    const { type, id } = entry.resource;
    // Without an id (a search over a type) only the type is known. Reference.type is typed as a
    // FHIR resource type; Ward's own types (WorkflowRun) go there too, as BALP's data entity allows any.
    const what: Reference = id === undefined ? { type: type as ResourceType } : { reference: referenceTo(type, id) };
    if (shape === 'authz' && type === 'Consent') {
      entities.push({ what, type: { system: systems.resourceTypes, code: 'Consent', display: 'Consent' } });
    } else {
      entities.push({
        what,
        type: { system: systems.entityType, code: '2', display: 'System Object' },
        role: shape === 'query'
          ? { system: systems.objectRole, code: '24', display: 'Query' }
          : { system: systems.objectRole, code: '4', display: 'Domain Resource' },
      });
    }
  }
  if (entry.breakGlass !== undefined) {
    entities.push({
      what: { identifier: { system: systems.wardBreakGlass, value: entry.breakGlass } },
      type: { system: systems.entityType, code: '2', display: 'System Object' },
      role: { system: systems.objectRole, code: '13', display: 'Security Resource' },
    });
  }
  if (entry.view !== undefined || entry.disclosed !== undefined) {
    // What a read disclosed: the data view and the element names (never values).
    entities.push({
      what: { identifier: { system: systems.wardDataView, value: entry.view ?? 'none' } },
      type: { system: systems.entityType, code: '2', display: 'System Object' },
      role: { system: systems.objectRole, code: '4', display: 'Domain Resource' },
      ...(entry.disclosed !== undefined ? { detail: [{ type: 'disclosed', valueString: entry.disclosed.join(' ') }] } : {}),
    });
  }
  if (entry.requestId !== undefined) {
    entities.push({
      what: { identifier: { value: entry.requestId } },
      type: { system: systems.balpEntityType, code: 'XrequestId', display: 'transport specific unique identifier where http X-Request-Id is used' },
    });
  }
  return entities;
}
