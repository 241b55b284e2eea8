/**
 * `ward users add` is attributed to the person at the console (`os:<login>`), not to Ward:
 * the audit trail must say who created an account. Runs the real binary.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runWard } from './testing/run-ward.js';
import { consoleUser } from './console-user.js';

const temps: string[] = [];
afterAll(() => {
  for (const d of temps) rmSync(d, { recursive: true, force: true });
});

describe('ward users add', () => {
  it('records the OS user at the console as the actor of account.create', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ward-users-'));
    temps.push(root);
    const data = join(root, 'ward-data');
    const init = await runWard(['init', '--data', data]);
    expect(init.code, init.stderr).toBe(0);
    const add = await runWard(['users', 'add', '--username', 'po', '--role', 'privacy-officer', '--data', data]);
    expect(add.code, add.stderr).toBe(0);

    const exported = await runWard(['audit', 'export', '--format', 'jsonl', '--data', data]);
    expect(exported.code, exported.stderr).toBe(0);
    const created = exported.stdout.split('\n').filter((l) => l.length > 0)
      .map((l) => JSON.parse(l) as { action: string; outcome: string; who: unknown })
      .filter((e) => e.action === 'account.create' && e.outcome === 'success');
    // `init` creates the first administrator as Ward itself; `users add` is a person's act.
    expect(created.map((e) => e.who)).toEqual([{ id: 'ward', kind: 'system' }, consoleUser()]);
    expect(consoleUser()).toMatchObject({ id: expect.stringMatching(/^os:[A-Za-z0-9._-]{1,60}$/) as unknown, kind: 'person' });
  }, 90_000);
});
