/**
 * The actions Ward decides about. Each route and CLI command that needs a decision names one of
 * these codes; a policy rule names them exactly or by pattern (`patient.*`, `*`). An action
 * declares whether it may touch PHI (then every request states a purpose of use, and a permit
 * must be tied to purposes: 45 CFR 164.502(b) minimum necessary) and whether it concerns one
 * patient (then the principal's relationship to that patient is part of the decision).
 *
 * To add an action: add it here with a description, then grant it in the policy file; until a
 * rule permits it, everyone is denied (default deny).
 */
export interface ActionSpec {
  /** May the action read, write or reveal protected health information? */
  readonly phi: boolean;
  /** Does a request name one patient: always, sometimes, or never? */
  readonly patient: 'required' | 'optional' | 'none';
  readonly description: string;
}

export const actionCatalog = {
  'audit.search': {
    phi: true,
    patient: 'optional',
    description: 'search the audit trail (entries carry patient ids, which are linked to PHI)',
  },
  'break-glass.open': {
    phi: true,
    patient: 'required',
    description: 'open time-boxed emergency access to one patient with a written reason (164.312(a)(2)(ii))',
  },
  'break-glass.review': {
    phi: true,
    patient: 'none',
    description: 'read the break-glass review queue, reasons included, and close grants with a disposition',
  },
  'access.evaluate': {
    phi: false,
    patient: 'none',
    description: 'evaluate or explain a policy decision for a principal (ids and codes only, no record content)',
  },
  'account.manage': { phi: false, patient: 'none', description: 'create, disable and reset accounts and API keys' },
  'policy.read': { phi: false, patient: 'none', description: 'read the active policy file and its version' },
  'patient.search': { phi: true, patient: 'none', description: 'search patients by demographics or identifiers' },
  'patient.read': { phi: true, patient: 'required', description: "read one patient's records through a data view" },
  'patient.export': {
    phi: true,
    patient: 'required',
    description: "export one patient's records (a disclosure, accounted for under 164.528)",
  },
  'patient.erase': {
    phi: true,
    patient: 'required',
    description: "erase one patient's records by destroying the patient's data key (crypto-shredding)",
  },
  'record.import': { phi: true, patient: 'none', description: 'import FHIR records (bundles from an EHR or a feed)' },
  'model.list': { phi: false, patient: 'none', description: 'list the models and their trust zones' },
  'model.chat': { phi: true, patient: 'optional', description: 'send a prompt to a model through the gateway' },
  'workflow.run': { phi: true, patient: 'optional', description: 'start a workflow run (its drafts may wait for review)' },
  'review.decide': {
    phi: true,
    patient: 'optional',
    description: 'approve, edit or reject a draft in the human review queue',
  },
} as const satisfies Record<string, ActionSpec>;

export type ActionCode = keyof typeof actionCatalog;

export const actionCodes: readonly ActionCode[] = Object.freeze(Object.keys(actionCatalog) as ActionCode[]);

export function isAction(v: string): v is ActionCode {
  return Object.hasOwn(actionCatalog, v);
}

/**
 * Does an action pattern cover an action? A pattern is an exact code, `prefix.*` (every action
 * whose code starts with `prefix.`), or `*` (every action). The same patterns serve API key
 * scopes (`model.*`).
 */
export function actionMatches(pattern: string, action: string): boolean {
  if (pattern === '*' || pattern === action) return true;
  if (pattern.length < 3 || !pattern.endsWith('.*')) return false;
  // `patient.*` covers `patient.read`: compare the prefix including its dot.
  return action.length > pattern.length - 1 && action.startsWith(pattern.slice(0, -1));
}
