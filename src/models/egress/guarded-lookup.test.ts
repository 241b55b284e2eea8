import type { LookupAddress, LookupOptions } from 'node:dns';
import { describe, expect, it } from 'vitest';
import type { EgressRule } from './egress-rule.js';
import { guardedLookup } from './guarded-lookup.js';
import type { Resolve, ResolvedAddress } from './guarded-lookup.js';

interface Outcome {
  readonly error: NodeJS.ErrnoException | null;
  readonly address: string | LookupAddress[];
  readonly family: number | undefined;
}

function lookup(rule: EgressRule, answers: ResolvedAddress[] | Error, options: LookupOptions): Promise<Outcome> {
  const resolve: Resolve = async () => {
    if (answers instanceof Error) throw answers;
    return answers;
  };
  return new Promise((done) => {
    guardedLookup(rule, resolve)('api.example.test', options, (error, address, family) => done({ error, address, family }));
  });
}

const baa: EgressRule = { modelId: 'm1', zone: 'baa', protocol: 'https:', allowAddresses: ['203.0.113.0/24'] };

describe('guardedLookup', () => {
  it('hands back every checked address when all are allowed (all: true)', async () => {
    const answers: ResolvedAddress[] = [
      { address: '203.0.113.7', family: 4 },
      { address: '10.0.0.2', family: 4 },
    ];
    const outcome = await lookup(baa, answers, { all: true });
    expect(outcome.error).toBeNull();
    expect(outcome.address).toEqual(answers);
  });

  it('hands back the first address of the wanted family (all: false)', async () => {
    const answers: ResolvedAddress[] = [
      { address: 'fd00::7', family: 6 },
      { address: '203.0.113.7', family: 4 },
    ];
    expect(await lookup(baa, answers, { family: 4 })).toMatchObject({ error: null, address: '203.0.113.7', family: 4 });
    expect(await lookup(baa, answers, {})).toMatchObject({ error: null, address: 'fd00::7', family: 6 });
  });

  it('refuses the whole answer when any address is refused', async () => {
    const outcome = await lookup(
      baa,
      [
        { address: '203.0.113.7', family: 4 },
        { address: '169.254.169.254', family: 4 },
      ],
      { all: true },
    );
    expect(outcome.error).toMatchObject({ code: 'egress.address_refused', status: 502 });
    expect(outcome.address).toBe('');
  });

  it('refuses an undeclared public address', async () => {
    const outcome = await lookup(baa, [{ address: '198.51.100.1', family: 4 }], {});
    expect(outcome.error).toMatchObject({ code: 'egress.address_refused' });
  });

  it('reports resolution failures and empty answers as egress.resolve_failed', async () => {
    expect((await lookup(baa, new Error('ENOTFOUND'), {})).error).toMatchObject({ code: 'egress.resolve_failed' });
    expect((await lookup(baa, [], { all: true })).error).toMatchObject({ code: 'egress.resolve_failed' });
    expect((await lookup(baa, [{ address: '203.0.113.7', family: 4 }], { family: 6 })).error).toMatchObject({
      code: 'egress.resolve_failed',
    });
  });
});
