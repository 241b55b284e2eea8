/**
 * Generalization hierarchies for common quasi-identifiers: level 0 is the value as released,
 * each level coarser, the last suppresses ("*"). Chosen from the column name.
 */
export type Hierarchy = readonly ((value: string) => string)[];

const suppress = (): string => '*';

function band(width: number): (value: string) => string {
  return (value) => {
    const n = Number.parseInt(value, 10);
    if (!Number.isFinite(n)) return '*';
    if (n >= 90) return '90+';
    const lo = Math.floor(n / width) * width;
    return `${lo}-${lo + width - 1}`;
  };
}

const identity = (v: string): string => v;
const yearOf = (v: string): string => /^\d{4}/.exec(v)?.[0] ?? '*';
const decadeOf = (v: string): string => {
  const y = /^\d{4}/.exec(v)?.[0];
  return y === undefined ? '*' : `${y.slice(0, 3)}0s`;
};

export const HIERARCHIES: Readonly<Record<string, Hierarchy>> = {
  age: [identity, band(5), band(10), band(20), suppress],
  zip: [identity, (v) => v.slice(0, 3), (v) => v.slice(0, 2), suppress],
  date: [identity, (v) => v.slice(0, 7), yearOf, decadeOf, suppress],
  year: [identity, decadeOf, suppress],
  other: [identity, suppress],
};

export function hierarchyFor(column: string): Hierarchy {
  const c = column.toLowerCase();
  if (/age/.test(c)) return HIERARCHIES.age ?? [identity];
  if (/zip|postal/.test(c)) return HIERARCHIES.zip ?? [identity];
  if (/birth|date|dob/.test(c)) return HIERARCHIES.date ?? [identity];
  if (/year/.test(c)) return HIERARCHIES.year ?? [identity];
  return HIERARCHIES.other ?? [identity];
}
