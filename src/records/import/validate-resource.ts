/**
 * Checks one resource against the FHIR R4 StructureDefinitions (Medplum's validator:
 * cardinality, data types, primitive formats, invariants such as pat-1) plus the required
 * `code` bindings (check-required-codes.ts) and Ward's own rule that every resource has a
 * valid `id` (http://hl7.org/fhir/R4/datatypes.html#id): Ward stores resources by type and id.
 *
 * Problems read `"<expression>: <rule>"`. They are printed on a terminal and may be saved, so
 * they never carry a value: Medplum quotes some offending values (`Invalid reference: got
 * "<value>"`, `Unknown data type: <value>`) and its diagnostics may embed whole elements, so
 * its messages pass through an allow-list of known rule texts, anything else is reduced to the
 * issue type, and path segments that are not plain element names are masked. Names of unknown
 * elements are kept (truncated): they say what to fix.
 */
import { OperationOutcomeError, isResourceType, validateResource as validateWithMedplum } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { ensureFhirDefinitions } from '../fhir-definitions.js';
import { FHIR_ID_PATTERN } from '../fhir-resource.js';
import type { FhirResource } from '../fhir-resource.js';
import { checkRequiredCodes } from './check-required-codes.js';

/** Longest element name kept in a problem; longer (unknown) names are cut. */
const MAX_NAME = 32;

/** Medplum rule texts that carry no value (see @medplum/core src/typeschema/validation.ts). */
const VALUE_FREE_RULES: readonly RegExp[] = [
  /^Expected (array of values|single value) for property$/,
  /^Invalid number of values: expected \d+\.\.(\d+|\*), but found \d+$/,
  /^Value did not match expected pattern$/,
  /^Missing required property$/,
  /^Invalid empty (non-primitive )?value$/,
  /^Invalid (null|undefined) value$/,
  /^Invalid JSON type: expected (string|number|boolean), but got [a-z]+$/,
  /^Invalid JSON type: [A-Za-z]+ is not a valid FHIR type$/,
  /^String must contain non-whitespace content$/,
  /^String cannot be larger than 1 MB$/,
  /^Invalid [A-Za-z0-9]+ format$/,
  /^Invalid numeric value$/,
  /^Expected number to be (an integer|positive|non-negative)$/,
  /^Incorrect number of values provided for slice '[A-Za-z0-9_.-]{1,64}': expected \d+\.\.(\d+|\*), but found \d+$/,
  /^Error evaluating invariant expression$/,
  // The description comes from the StructureDefinition (e.g. pat-1), not from the data.
  /^Constraint [A-Za-z0-9.-]{1,32} not met: [^\n]{0,300}$/,
];

/** One path segment as Medplum writes it: `name`, `name[3]`, `value[x]`, `_birthDate`. */
const SEGMENT = /^(_?[A-Za-z][A-Za-z0-9_]*)((?:\[(?:\d+|x)\])*)$/;

function safeSegment(segment: string): string {
  const m = SEGMENT.exec(segment);
  if (!m) return '<unnamed>';
  const name = m[1] ?? '';
  return (name.length > MAX_NAME ? `${name.slice(0, MAX_NAME)}...` : name) + (m[2] ?? '');
}

/** The issue's FHIRPath-like location with every segment reduced to a plain element name. */
export function safeExpression(expression: string | undefined, fallback: string): string {
  if (!expression) return fallback;
  return expression.split('.').map(safeSegment).join('.');
}

const UNKNOWN_TYPE = 'not a FHIR R4 resource or data type';

function safeRule(issue: OperationOutcomeIssue): string {
  const text = issue.details?.text ?? '';
  if (VALUE_FREE_RULES.some((r) => r.test(text))) return text;
  // The unknown element's name is already in the (masked) expression.
  if (text.startsWith('Invalid additional property')) return 'not an element of this type in FHIR R4';
  if (text.startsWith('Unknown data type')) return UNKNOWN_TYPE;
  if (text.startsWith('Invalid reference')) return 'reference to a resource type this element does not allow';
  return `failed a FHIR R4 check (${issue.code})`;
}

function idProblems(resource: FhirResource): string[] {
  const id: unknown = resource.id;
  if (id === undefined) return [`${resource.resourceType}.id: missing (Ward keeps every resource under its id)`];
  if (typeof id !== 'string' || !FHIR_ID_PATTERN.test(id)) {
    return [`${resource.resourceType}.id: not a FHIR id (1-64 of A-Z a-z 0-9 - .)`];
  }
  return [];
}

function unknownContainedTypes(resource: FhirResource): string[] {
  const contained = resource.contained;
  if (!Array.isArray(contained)) return [];
  const problems: string[] = [];
  contained.forEach((c: unknown, i) => {
    const rt = typeof c === 'object' && c !== null ? (c as Record<string, unknown>).resourceType : undefined;
    if (typeof rt !== 'string' || !isResourceType(rt)) {
      problems.push(`${resource.resourceType}.contained[${i}].resourceType: not a FHIR R4 resource type`);
    }
  });
  return problems;
}

/** Problems of one resource, empty when it is valid FHIR R4 with an id Ward can keep. */
export function validateResource(resource: FhirResource): string[] {
  ensureFhirDefinitions();
  const type: unknown = resource.resourceType;
  if (typeof type !== 'string' || !isResourceType(type)) return ['resourceType: not a FHIR R4 resource type'];

  const problems = idProblems(resource);
  const idReported = problems.length > 0;
  // Medplum stops at the first unknown contained type without saying where; say it here.
  const containedProblems = unknownContainedTypes(resource);
  problems.push(...containedProblems);
  let issues: OperationOutcomeIssue[];
  try {
    // Returns warnings only; throws an OperationOutcomeError listing every issue on errors.
    issues = validateWithMedplum(resource as unknown as Resource);
  } catch (e) {
    if (e instanceof OperationOutcomeError) {
      issues = e.outcome.issue ?? [];
    } else {
      // Thrown outside the issue list (e.g. a primitive extension that is not an object):
      // the message may quote data, so only the fact is reported.
      issues = [];
      problems.push(`${type}: the resource is malformed and could not be checked`);
    }
  }
  for (const issue of issues) {
    // Warnings (Medplum downgrades reference target-type mismatches) do not make a resource
    // invalid, as in Medplum's own server.
    if (issue.severity !== 'error' && issue.severity !== 'fatal') continue;
    let expression = safeExpression(issue.expression?.[0], type);
    const rule = safeRule(issue);
    // An unknown element's name comes from the data, and a mangled export can put a value
    // (a name) where a key belongs: the report says where, never what.
    if ((issue.details?.text ?? '').startsWith('Invalid additional property')) expression = expression.replace(/\.[^.]*$/, '.<unknown element>');
    // The id and contained-type rules above already say it, in Ward's words.
    if (idReported && expression === `${type}.id`) continue;
    if (containedProblems.length > 0 && rule === UNKNOWN_TYPE) continue;
    problems.push(`${expression}: ${rule}`);
  }
  problems.push(...checkRequiredCodes(resource));
  return [...new Set(problems)];
}
