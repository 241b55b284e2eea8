/**
 * Test support (imported by *.test.ts only): the element paths of a resource type read
 * straight from the R4 StructureDefinitions, for random views. Choice elements appear both
 * whole (`onset[x]`) and as each variant (`onsetDateTime`, `onsetPeriod.start`).
 */
import { tryGetDataType } from '@medplum/core';
import { ensureFhirDefinitions } from '../../fhir-definitions.js';
import { choiceKey } from '../field-path.js';

const isComplex = (code: string): boolean => /^[A-Z]/.test(code) && code !== 'Resource';

export function elementPaths(type: string, maxDepth = 3): string[] {
  ensureFhirDefinitions();
  const out: string[] = [];
  const walk = (typeName: string, prefix: string, depth: number): void => {
    const schema = tryGetDataType(typeName);
    if (schema === undefined) return;
    for (const [name, element] of Object.entries(schema.elements)) {
      if (depth === 1 && name === 'id') continue;
      const at = (n: string): string => (prefix === '' ? n : `${prefix}.${n}`);
      out.push(at(name));
      if (name.endsWith('[x]')) {
        for (const t of element.type) {
          const variant = at(choiceKey(name, t.code));
          out.push(variant);
          if (depth < maxDepth && isComplex(t.code)) walk(t.code, variant, depth + 1);
        }
      } else {
        const code = element.type.length === 1 ? element.type[0]?.code : undefined;
        if (code !== undefined && depth < maxDepth && isComplex(code)) walk(code, at(name), depth + 1);
      }
    }
  };
  walk(type, '', 1);
  return out;
}
