/**
 * Prove (issue 6): PHI never reaches an `external` model. Five hundred generated prompts, each
 * seeded with synthetic canary PHI (names, SSNs, phone numbers, e-mail addresses, street
 * addresses, dates of birth, labelled MRNs and health plan ids) in varied shapes (sentences,
 * lists, JSON-ish text, conversations with a system message, content parts, an EHR-style
 * upper-case header, PHI in fields Ward never forwards), go through the real HTTP route to an
 * external model on a fake upstream that records every byte it receives. No canary, no digit
 * run of an identifier, no name may arrive in any body or header; every call is either sent
 * de-identified (exactly one upstream request) or refused with an `egress.*` code (nothing
 * sent). The generator is seeded, so a failure names a reproducible template and PHI type.
 * All names and numbers are synthetic.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testDialects } from '../storage/testing/test-databases.js';
import type { TestDialect } from '../storage/testing/test-databases.js';
import { createHttpWorld } from './testing/http-world.js';
import type { HttpWorld } from './testing/http-world.js';
import { audited, everythingWritten } from './testing/http-assertions.js';
import { PURPOSE_HEADER } from './route-access.js';
import { startFakeOpenAiUpstream } from '../models/testing/fake-openai-upstream.js';
import type { FakeUpstream, ReceivedRequest } from '../models/testing/fake-openai-upstream.js';

const PROMPTS = 500;
const SEED = 20_260_429;

// Common US first names and surnames (1990 census), minus ones that are everyday English
// words, so a hit in the received bytes can only be a leak.
const FIRST_NAMES = ['James', 'John', 'Robert', 'Michael', 'William', 'David', 'Richard', 'Charles', 'Joseph', 'Christopher', 'Daniel', 'Paul', 'Donald', 'George', 'Kenneth', 'Steven', 'Edward', 'Brian', 'Ronald', 'Anthony', 'Kevin', 'Jason', 'Jeffrey', 'Timothy', 'Mary', 'Patricia', 'Linda', 'Barbara', 'Elizabeth', 'Jennifer', 'Maria', 'Susan', 'Margaret', 'Dorothy', 'Lisa', 'Nancy', 'Karen', 'Betty', 'Helen', 'Sandra', 'Donna', 'Carol', 'Sharon', 'Michelle', 'Laura', 'Sarah', 'Kimberly', 'Deborah', 'Jessica', 'Cynthia'];
const SURNAMES = ['Smith', 'Johnson', 'Williams', 'Jones', 'Davis', 'Miller', 'Wilson', 'Moore', 'Taylor', 'Anderson', 'Jackson', 'Harris', 'Thompson', 'Garcia', 'Martinez', 'Robinson', 'Rodriguez', 'Lewis', 'Walker', 'Hernandez', 'Lopez', 'Gonzalez', 'Nelson', 'Mitchell', 'Perez', 'Roberts', 'Phillips', 'Campbell', 'Evans', 'Edwards', 'Collins', 'Stewart', 'Sanchez', 'Morris', 'Rogers', 'Morgan', 'Murphy', 'Rivera', 'Richardson', 'Howard', 'Torres', 'Peterson', 'Ramirez', 'Watson', 'Brooks', 'Sanders', 'Bennett', 'Albright', 'Gutierrez', 'Kowalski'];
const STREETS = ['Maple', 'Cedar', 'Chestnut', 'Walnut', 'Sycamore', 'Willow', 'Hawthorne', 'Magnolia', 'Juniper', 'Dogwood', 'Lakeview', 'Briarwood', 'Ridgecrest', 'Foxglove'];
const SUFFIXES = ['Street', 'St.', 'Avenue', 'Ave', 'Road', 'Rd', 'Lane', 'Drive', 'Court', 'Boulevard'];
const CITIES = ['Springfield', 'Fairview', 'Riverside', 'Greenville', 'Bristol', 'Georgetown', 'Arlington', 'Ashland', 'Burlington', 'Manchester', 'Lexington', 'Dayton', 'Plymouth', 'Hartford', 'Worcester'];
const STATES = ['MA', 'NY', 'OH', 'CA', 'TX', 'PA', 'IL', 'GA', 'NC', 'WA', 'VA', 'MI'];
const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Person {
  first: string;
  last: string;
  ssn: string;
  phone: string;
  email: string;
  street: string;
  city: string;
  state: string;
  zip: string;
  dob: string;
  mrn: string;
  plan: string;
}

interface Canary {
  type: string;
  value: string;
  /** How to look for it: a plain substring, a whole word (any case), or a standalone digit run. */
  match: 'text' | 'word' | 'digits';
}

const pad = (n: number, width: number): string => String(n).padStart(width, '0');

const personArb: fc.Arbitrary<Person> = fc
  .record({
    first: fc.constantFrom(...FIRST_NAMES),
    last: fc.constantFrom(...SURNAMES),
    // SSA rules: area 001-899 except 666, group 01-99, serial 0001-9999.
    area: fc.integer({ min: 1, max: 899 }).filter((a) => a !== 666),
    group: fc.integer({ min: 1, max: 99 }),
    serial: fc.integer({ min: 1, max: 9999 }),
    ssnStyle: fc.constantFrom('dash', 'space', 'bare'),
    // NANP: area and exchange codes start 2-9 and are not N11.
    npa: fc.integer({ min: 200, max: 989 }).filter((n) => n % 100 !== 11),
    nxx: fc.integer({ min: 200, max: 989 }).filter((n) => n % 100 !== 11),
    line: fc.integer({ min: 0, max: 9999 }),
    phoneStyle: fc.constantFrom('paren', 'dash', 'dot', 'intl'),
    emailStyle: fc.constantFrom('dot', 'initial', 'reverse'),
    emailNumber: fc.integer({ min: 10, max: 99 }),
    houseNumber: fc.integer({ min: 12, max: 9899 }),
    street: fc.constantFrom(...STREETS),
    suffix: fc.constantFrom(...SUFFIXES),
    city: fc.constantFrom(...CITIES),
    state: fc.constantFrom(...STATES),
    zip: fc.integer({ min: 1001, max: 99_950 }),
    year: fc.integer({ min: 1930, max: 2005 }),
    month: fc.integer({ min: 1, max: 12 }),
    day: fc.integer({ min: 1, max: 28 }),
    dobStyle: fc.constantFrom('us', 'long', 'iso', 'short-month'),
    mrn: fc.integer({ min: 10_000_000, max: 99_999_999 }),
    planPrefix: fc.constantFrom('XJH', 'BCB', 'W', 'HPN', 'MBR'),
    plan: fc.integer({ min: 100_000_000, max: 999_999_999 }),
  })
  .map((r) => {
    const ssnParts = [pad(r.area, 3), pad(r.group, 2), pad(r.serial, 4)];
    const ssn = r.ssnStyle === 'dash' ? ssnParts.join('-') : r.ssnStyle === 'space' ? ssnParts.join(' ') : ssnParts.join('');
    const [npa, nxx, line] = [String(r.npa), String(r.nxx), pad(r.line, 4)];
    const phone = { paren: `(${npa}) ${nxx}-${line}`, dash: `${npa}-${nxx}-${line}`, dot: `${npa}.${nxx}.${line}`, intl: `+1 ${npa} ${nxx} ${line}` }[r.phoneStyle];
    const lf = r.last.toLowerCase();
    const ff = r.first.toLowerCase();
    const email = { dot: `${ff}.${lf}@example.com`, initial: `${ff.charAt(0)}${lf}${r.emailNumber}@mail.example.org`, reverse: `${lf}.${ff}@patients.example.net` }[r.emailStyle];
    const month = MONTHS[r.month - 1] ?? 'March';
    const dob = {
      us: `${pad(r.month, 2)}/${pad(r.day, 2)}/${r.year}`,
      long: `${month} ${r.day}, ${r.year}`,
      iso: `${r.year}-${pad(r.month, 2)}-${pad(r.day, 2)}`,
      'short-month': `${r.day} ${month.slice(0, 3)} ${r.year}`,
    }[r.dobStyle];
    return {
      first: r.first,
      last: r.last,
      ssn,
      phone,
      email,
      street: `${r.houseNumber} ${r.street} ${r.suffix}`,
      city: r.city,
      state: r.state,
      zip: pad(r.zip, 5),
      dob,
      mrn: String(r.mrn),
      plan: `${r.planPrefix}${r.plan}`,
    };
  });

/** Every value of a person the external model must never see, with how to look for it. */
function canariesOf(p: Person): Canary[] {
  const digitRuns = (type: string, value: string): Canary[] => (value.match(/\d{4,}/g) ?? []).map((d) => ({ type, value: d, match: 'digits' as const }));
  return [
    { type: 'NAME', value: p.first, match: 'word' },
    { type: 'NAME', value: p.last, match: 'word' },
    { type: 'SSN', value: p.ssn, match: 'text' },
    { type: 'SSN', value: p.ssn.replace(/\D/g, ''), match: 'digits' },
    ...digitRuns('SSN', p.ssn),
    { type: 'PHONE', value: p.phone, match: 'text' },
    { type: 'PHONE', value: p.phone.replace(/\D/g, '').replace(/^1(?=\d{10}$)/, ''), match: 'digits' },
    ...digitRuns('PHONE', p.phone),
    { type: 'EMAIL', value: p.email, match: 'text' },
    { type: 'EMAIL', value: p.email.split('@')[0] ?? p.email, match: 'text' },
    { type: 'ADDRESS', value: p.street, match: 'text' },
    ...digitRuns('ADDRESS', p.street),
    { type: 'CITY', value: p.city, match: 'word' },
    { type: 'ZIP', value: p.zip, match: 'digits' },
    { type: 'DOB', value: p.dob, match: 'text' },
    ...digitRuns('DOB', p.dob),
    { type: 'MRN', value: p.mrn, match: 'digits' },
    { type: 'HEALTH_PLAN', value: p.plan, match: 'text' },
    ...digitRuns('HEALTH_PLAN', p.plan),
  ];
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function found(haystack: string, c: Canary): boolean {
  switch (c.match) {
    case 'text':
      return haystack.toLowerCase().includes(c.value.toLowerCase());
    case 'word':
      return new RegExp(`(?<![A-Za-z])${escapeRegExp(c.value)}(?![A-Za-z])`, 'i').test(haystack);
    case 'digits':
      return new RegExp(`(?<!\\d)${c.value}(?!\\d)`).test(haystack);
  }
}

type Body = Record<string, unknown>;
interface Prompt {
  template: string;
  body: Body;
}

const user = (content: string): Body => ({ role: 'user', content });

/** The shapes PHI arrives in. Templates hold no number of 4+ digits and no listed name or city of their own. */
const TEMPLATES: Record<string, (p: Person) => Body> = {
  sentence: (p) => ({ messages: [user(`Draft a reminder for ${p.first} ${p.last}, SSN ${p.ssn}, phone ${p.phone}, email ${p.email}, born ${p.dob}.`)] }),
  list: (p) => ({
    messages: [user(`Summarize this intake form:\n- Name: ${p.last}, ${p.first}\n- DOB: ${p.dob}\n- MRN: ${p.mrn}\n- Address: ${p.street}, ${p.city}, ${p.state} ${p.zip}\n- Phone: ${p.phone}\n- Health plan ID: ${p.plan}`)],
  }),
  jsonish: (p) => ({
    messages: [user(`Convert this record to a short note: {"patient": "${p.first} ${p.last}", "ssn": "${p.ssn}", "mrn": "${p.mrn}", "dob": "${p.dob}", "email": "${p.email}", "address": "${p.street}, ${p.city}, ${p.state} ${p.zip}"}`)],
  }),
  conversation: (p) => ({
    messages: [
      { role: 'system', content: `You are a scheduling assistant. The patient is ${p.first} ${p.last} (MRN: ${p.mrn}), date of birth ${p.dob}.` },
      user(`Please call ${p.first} at ${p.phone} about the appointment and confirm the address ${p.street}, ${p.city}, ${p.state} ${p.zip}.`),
      { role: 'assistant', content: 'Sure, what else should the message say?' },
      user(`Also send it to ${p.email}. Member ID: ${p.plan}.`),
    ],
  }),
  note: (p) => ({
    messages: [
      { role: 'developer', content: 'Rewrite clinical notes in plain language for the patient portal.' },
      user(`Mrs. ${p.last} was seen today for a follow-up of hypertension. DOB ${p.dob}. SSN: ${p.ssn}. She lives at ${p.street} in ${p.city}, ${p.state}. Her daughter can be reached at ${p.phone}. Medical record number ${p.mrn}.`),
    ],
  }),
  letter: (p) => ({
    messages: [user(`Write a referral letter.\n\nRe: ${p.first} ${p.last}\nDate of birth: ${p.dob}\nMRN: ${p.mrn}\nHealth plan ID: ${p.plan}\n\nThe patient asks to be contacted at ${p.email} or ${p.phone}.`)],
  }),
  ehrHeader: (p) => ({
    messages: [user(`PATIENT: ${p.last.toUpperCase()}, ${p.first.toUpperCase()}  DOB: ${p.dob}  MRN: ${p.mrn}\nCHIEF COMPLAINT: cough for three days.\nExplain the chief complaint in one sentence.`)],
  }),
  contentParts: (p) => ({
    messages: [{ role: 'user', content: [{ type: 'text', text: `Patient ${p.first} ${p.last} ` }, { type: 'text', text: `(SSN ${p.ssn}, phone ${p.phone}) ` }, { type: 'text', text: `asks for a refill.` }] }],
  }),
  // Fields Ward accepts but never forwards: a participant name, the OpenAI end-user id, metadata.
  unforwarded: (p) => ({
    messages: [{ role: 'user', name: p.first, content: `Reply to ${p.first} ${p.last} about the lab results; MRN: ${p.mrn}.` }],
    user: p.email,
    metadata: { patient: `${p.first} ${p.last}`, mrn: p.mrn, ssn: p.ssn },
  }),
};

const promptArb: fc.Arbitrary<Prompt & { person: Person }> = fc
  .record({ template: fc.constantFrom(...Object.keys(TEMPLATES)), person: personArb })
  .map(({ template, person }) => ({ template, person, body: (TEMPLATES[template] as (p: Person) => Body)(person) }));

const DUMMY: Person = { first: 'Qq', last: 'Qq', ssn: 'Qq', phone: 'Qq', email: 'Qq', street: 'Qq', city: 'Qq', state: 'Qq', zip: 'Qq', dob: 'Qq', mrn: 'Qq', plan: 'Qq' };

interface Leak {
  template: string;
  type: string;
  where: 'body' | 'headers';
}

function bytesOf(requests: readonly ReceivedRequest[]): { body: string; headers: string } {
  return {
    body: requests.map((r) => `${r.method} ${r.url}\n${r.body.toString('utf8')}`).join('\n'),
    headers: requests.map((r) => JSON.stringify(r.headers)).join('\n'),
  };
}

describe('the prompt generator', () => {
  it('puts no canary word or number in the templates themselves (a hit can only be a leak)', () => {
    const words = new Set([...FIRST_NAMES, ...SURNAMES, ...CITIES, ...STREETS].map((w) => w.toLowerCase()));
    for (const [name, template] of Object.entries(TEMPLATES)) {
      const text = JSON.stringify(template(DUMMY));
      const own = (text.match(/[A-Za-z]+/g) ?? []).filter((w) => words.has(w.toLowerCase()));
      expect(own, name).toEqual([]);
      expect(text.match(/\d{4,}/g), name).toBeNull();
    }
  });
});

describe.each(testDialects())('external egress of generated PHI prompts on $name', (dialect: TestDialect) => {
  let upstream: FakeUpstream;
  let w: HttpWorld;
  let key: string;
  beforeAll(async () => {
    upstream = await startFakeOpenAiUpstream();
    w = await createHttpWorld(dialect, {
      models: [{ id: 'vendor', adapter: 'openai-compatible', endpoint: upstream.url, zone: 'external' }],
      gateway: { requestsPerMinute: 0 },
    });
    ({ key } = await w.serviceWithKey('intake-app', ['integration'], ['model.*']));
  });
  afterAll(async () => {
    await w.dispose();
    await upstream.close();
  });

  it(`sends no canary of ${PROMPTS} generated prompts to an external model: de-identified or refused`, async () => {
    const prompts = fc.sample(promptArb, { numRuns: PROMPTS, seed: SEED });
    expect(prompts).toHaveLength(PROMPTS);
    const leaks: Leak[] = [];
    const unexpected: string[] = [];
    const refusals = new Map<string, number>();
    const perTemplate = new Map<string, { sent: number; refused: number }>();
    const allCanaries: Canary[] = [];
    for (const prompt of prompts) {
      const canaries = canariesOf(prompt.person);
      allCanaries.push(...canaries);
      const before = upstream.received.length;
      const res = await w.app.inject({
        method: 'POST',
        url: '/v1/chat/completions',
        headers: { authorization: `Bearer ${key}`, [PURPOSE_HEADER]: 'TREAT' },
        payload: { model: 'vendor', max_tokens: 64, ...prompt.body },
      });
      const arrived = upstream.received.slice(before);
      const { body, headers } = bytesOf(arrived);
      for (const c of canaries) {
        if (found(body, c)) leaks.push({ template: prompt.template, type: c.type, where: 'body' });
        if (c.match !== 'digits' && found(headers, c)) leaks.push({ template: prompt.template, type: c.type, where: 'headers' });
      }
      const tally = perTemplate.get(prompt.template) ?? { sent: 0, refused: 0 };
      perTemplate.set(prompt.template, tally);
      if (res.statusCode === 200) {
        tally.sent += 1;
        if (res.headers['x-ward-deidentified'] !== 'true' || arrived.length !== 1) unexpected.push(`${prompt.template}: 200 with deidentified=${String(res.headers['x-ward-deidentified'])} and ${arrived.length} upstream requests`);
      } else {
        const code = String(res.json<{ code?: string }>().code);
        tally.refused += 1;
        refusals.set(code, (refusals.get(code) ?? 0) + 1);
        const isProblem = String(res.headers['content-type']).startsWith('application/problem+json');
        if (!code.startsWith('egress.') || (res.statusCode >= 500 && res.statusCode !== 502) || !isProblem || arrived.length !== 0) {
          unexpected.push(`${prompt.template}: ${res.statusCode} ${code} with ${arrived.length} upstream requests`);
        }
      }
    }

    // Every byte the upstream received, across all calls, against every canary of every prompt.
    const everything = bytesOf(upstream.received);
    const tokens = new Set((everything.body + everything.headers).match(/[A-Za-z]+/g)?.map((t) => t.toLowerCase()));
    const runs = new Set(everything.body.match(/\d+/g));
    const strayWords = allCanaries.filter((c) => c.match === 'word' && tokens.has(c.value.toLowerCase())).map((c) => c.type);
    const strayRuns = allCanaries.filter((c) => c.match === 'digits' && runs.has(c.value)).map((c) => c.type);
    const strayText = allCanaries.filter((c) => c.match === 'text' && (everything.body + everything.headers).toLowerCase().includes(c.value.toLowerCase())).map((c) => c.type);

    const refused = [...perTemplate.values()].reduce((n, t) => n + t.refused, 0);
    console.log(
      `[${dialect.name}] ${PROMPTS} PHI prompts to an external model: ${PROMPTS - refused} sent de-identified, ${refused} refused (${((100 * refused) / PROMPTS).toFixed(1)}%) ${JSON.stringify(Object.fromEntries(refusals))}; ` +
        `per template ${JSON.stringify(Object.fromEntries(perTemplate))}; leaks ${leaks.length}`,
    );
    const summary = (list: Leak[]): Record<string, number> => {
      const out: Record<string, number> = {};
      for (const l of list) out[`${l.template}/${l.type}/${l.where}`] = (out[`${l.template}/${l.type}/${l.where}`] ?? 0) + 1;
      return out;
    };
    expect(summary(leaks), 'canaries that reached the external model (template/type/where: count)').toEqual({});
    expect([...new Set([...strayWords, ...strayRuns, ...strayText])], 'canary types found anywhere in the received bytes').toEqual([]);
    expect(unexpected).toEqual([]);
    // The sending path was exercised, not only refusals.
    expect(PROMPTS - refused).toBeGreaterThan(0);
    expect(upstream.received).toHaveLength(PROMPTS - refused);

    // One audit entry per call; refusals are denied with their egress code.
    const entries = await audited(w, 'model.chat');
    expect(entries).toHaveLength(PROMPTS);
    expect(entries.filter((e) => e.outcome === 'success')).toHaveLength(PROMPTS - refused);
    for (const e of entries.filter((x) => x.outcome !== 'success')) {
      expect(e.outcome).toBe('denied');
      expect(e.reason).toMatch(/^egress\./);
    }
    // And nothing an operator reads (logs, audit) holds a canary either.
    const written = await everythingWritten(w);
    const writtenWords = new Set(written.match(/[A-Za-z]+/g)?.map((t) => t.toLowerCase()));
    const inLogs = allCanaries.filter((c) => (c.match === 'word' ? writtenWords.has(c.value.toLowerCase()) : c.match === 'text' && written.includes(c.value))).map((c) => c.type);
    expect([...new Set(inLogs)], 'canary types in logs or audit').toEqual([]);
  }, 240_000);
});
