import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { Command } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { testDictionaries } from '../deid/testing/detect-text.js';
import { PHI_TYPES } from '../deid/phi-type.js';
import { CliExit, type CliIo } from './cli-io.js';
import { registerDeidCommand } from './deid-command.js';

const dir = mkdtempSync(path.join(tmpdir(), 'ward-deid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

interface Run {
  out: string;
  err: string;
  error: unknown;
}

async function run(args: string[], stdin = '', env: NodeJS.ProcessEnv = {}, dictionaries = testDictionaries): Promise<Run> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => (out += t), err: (t) => (err += t), env, cwd: dir };
  const program = new Command('ward').exitOverride().configureOutput({ writeOut: (s) => (out += s), writeErr: (s) => (err += s) });
  registerDeidCommand(program, { io, stdin: Readable.from([stdin]), progressStream: undefined, dictionaries });
  for (const c of program.commands) c.exitOverride();
  let error: unknown;
  try {
    await program.parseAsync(args, { from: 'user' });
  } catch (e) {
    error = e;
  }
  return { out, err, error };
}

const file = (name: string, content: string): string => {
  const p = path.join(dir, name);
  writeFileSync(p, content);
  return p;
};

const TEXT_A = 'Pt John Smith (MRN 00482113) seen 03/04/2023, call 612-555-0187.';
const TEXT_B = 'No identifiers: BP 120/80, metformin 500 mg, Parkinson\'s disease.';

describe('ward deid --in --out (the DESIGN.md contract)', () => {
  it('writes one {"id","text","spans"} line per input line with offsets into the input text', async () => {
    const input = file('in.jsonl', `${JSON.stringify({ id: 'a1', text: TEXT_A })}\n${JSON.stringify({ id: 7, text: TEXT_B })}\n`);
    const output = path.join(dir, 'out.jsonl');
    const r = await run(['deid', '--in', input, '--out', output]);
    expect(r.error).toBeUndefined();
    const lines = readFileSync(output, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { id: unknown; text: string; spans: { start: number; end: number; type: string }[] });
    expect(lines.map((l) => l.id)).toEqual(['a1', 7]);
    const [a, b] = lines;
    expect(a?.text).toBe('Pt [NAME] (MRN [MRN]) seen [DATE], call [PHONE].');
    expect(a?.spans.map((s) => TEXT_A.slice(s.start, s.end))).toEqual(['John Smith', '00482113', '03/04/2023', '612-555-0187']);
    for (const s of a?.spans ?? []) {
      expect(Object.keys(s).sort()).toEqual(['end', 'start', 'type']);
      expect(PHI_TYPES).toContain(s.type);
    }
    expect(b).toEqual({ id: 7, text: TEXT_B, spans: [] });
  });

  it('reports a malformed line by number without echoing it, keeps the other lines, and fails', async () => {
    const secret = 'Margaret Reyes DOB 4/17/1931';
    const input = file('bad.jsonl', `${JSON.stringify({ id: 1, text: TEXT_A })}\n{"id": 2, "text": "${secret}"\n${JSON.stringify({ id: 3 })}\n${JSON.stringify({ id: 4, text: TEXT_B })}\n`);
    const output = path.join(dir, 'bad-out.jsonl');
    const r = await run(['deid', '--in', input, '--out', output]);
    expect(r.error).toBeInstanceOf(CliExit);
    expect((r.error as CliExit).exitCode).toBe(1);
    expect(r.err).toContain('line 2:');
    expect(r.err).toContain('line 3:');
    expect(r.err + (r.error as Error).message).not.toContain('Margaret');
    expect(readFileSync(output, 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { id: number }).id)).toEqual([1, 4]);
  });

  it('reports a de-identification failure as its own message, by line, never echoing text or the error', async () => {
    const secret = 'Margaret Reyes DOB 4/17/1931';
    const input = file('boom.jsonl', `${JSON.stringify({ id: 1, text: secret })}\n`);
    const output = path.join(dir, 'boom-out.jsonl');
    // Dictionaries whose look-ups throw with PHI in the message: the analyzer fails on every line.
    const broken = new Proxy(testDictionaries(), {
      get(target, prop, receiver) {
        if (prop === 'lexicon') throw new Error(`lookup failed for ${secret}`);
        return Reflect.get(target, prop, receiver) as unknown;
      },
    });
    const r = await run(['deid', '--in', input, '--out', output], '', {}, () => broken);
    expect(r.error).toBeInstanceOf(CliExit);
    expect((r.error as CliExit).exitCode).toBe(1);
    expect(r.err).toMatch(/line 1: de-identification failed/);
    expect((r.error as CliExit).message).toMatch(/1 line\(s\) that failed to de-identify/);
    expect(r.err + (r.error as Error).message).not.toMatch(/cannot read the --in file|Margaret|lookup failed/);
    expect(readFileSync(output, 'utf8')).toBe('');
  });

  it('documents that "id" is copied verbatim and must be non-identifying', async () => {
    const help = (await run(['deid', '--help'])).out.replace(/\s+/g, ' ');
    expect(help).toMatch(/"id" is copied to the output verbatim/);
    expect(help).toMatch(/"id" to the output verbatim: it must be non-identifying/);
  });

  it('refuses --in without --out and an unreadable input, in one line', async () => {
    expect(((await run(['deid', '--in', 'x.jsonl'])).error as CliExit).message).toMatch(/--in and --out go together/);
    expect(((await run(['deid', '--in', path.join(dir, 'missing.jsonl'), '--out', path.join(dir, 'o.jsonl')])).error as CliExit).message).toMatch(/cannot read/);
  });
});

describe('ward deid FILE | stdin', () => {
  it('de-identifies stdin with the chosen operator', async () => {
    const r = await run(['deid', '--operator', 'placeholder'], 'Dr. Hope Whitaker saw Mr. Jones; Dr. Hope Whitaker called Mr. Jones.');
    expect(r.out).toBe('[NAME-1] saw [NAME-2]; [NAME-1] called [NAME-2].');
  });

  it('de-identifies a file with generalization', async () => {
    const r = await run(['deid', '--operator', 'generalize', file('one.txt', 'A 92-year-old from Boston, MA 02139 seen April 12, 2023.')]);
    expect(r.out).toBe('A 90+-year-old from [LOCATION] 021 seen 2023.');
  });

  it('needs a key for surrogates, and then is deterministic per patient', async () => {
    expect(((await run(['deid', '--operator', 'surrogate'], TEXT_A)).error as CliExit).message).toMatch(/needs a key/);
    const env = { WARD_DEID_KEY: 'ab'.repeat(32) };
    const a = await run(['deid', '--operator', 'surrogate', '--patient', 'p1'], TEXT_A, env);
    const b = await run(['deid', '--operator', 'surrogate', '--patient', 'p1'], TEXT_A, env);
    expect(a.error).toBeUndefined();
    expect(a.out).toBe(b.out);
    expect(a.out).not.toContain('Smith');
    expect(a.out).not.toContain('00482113');
    // One document with no patient would share a date shift with every other such document.
    const noPatient = await run(['deid', '--operator', 'surrogate'], TEXT_A, env);
    expect((noPatient.error as CliExit).message).toMatch(/needs --patient/);
    expect(noPatient.out).toBe('');
  });

  it.each(['0.61', '0.7', '0.95', '1'])('refuses --min-confidence %s (it would switch redaction off) in one line', async (value) => {
    const r = await run(['deid', '--min-confidence', value], TEXT_A);
    expect(r.error).toBeInstanceOf(CliExit);
    expect((r.error as CliExit).exitCode).toBe(2);
    expect((r.error as CliExit).message).toMatch(/^--min-confidence above 0\.6 would let identifiers through/);
    expect((r.error as CliExit).message).not.toContain('\n');
    expect(r.out).toBe('');
  });

  it.each(['0', '0.4', '0.6'])('accepts --min-confidence %s', async (value) => {
    const r = await run(['deid', '--min-confidence', value], TEXT_A);
    expect(r.error).toBeUndefined();
    expect(r.out).toBe('Pt [NAME] (MRN [MRN]) seen [DATE], call [PHONE].');
  });

  it('rejects an unknown operator', async () => {
    expect((await run(['deid', '--operator', 'shred'], TEXT_A)).err).toMatch(/Allowed choices are redact, placeholder, surrogate, generalize, pseudonym/);
  });
});

describe('ward deid risk FILE', () => {
  it('prints k-anonymity, risks and a generalization proposal, never the values', async () => {
    const csv = file('t.csv', 'age,zip,sex,dx\n34,02139,F,flu\n35,02139,F,cold\n36,02140,M,flu\n91,02141,M,flu\n');
    const r = await run(['deid', 'risk', csv, '--quasi', 'age,zip,sex', '--sensitive', 'dx', '--k', '2']);
    expect(r.error).toBeUndefined();
    expect(r.out).toContain('k-anonymity k=1');
    expect(r.out).toContain('l-diversity l=1');
    expect(r.out).toMatch(/proposed generalization for k>=2: .*\n.*k-anonymity k=[2-9]/);
    expect(r.out).not.toContain('02139');
  });
  it('names missing columns', async () => {
    const csv = file('t2.csv', 'age\n34\n');
    expect(((await run(['deid', 'risk', csv, '--quasi', 'zip'])).error as CliExit).message).toMatch(/not in the export: zip/);
  });
});

describe('spawned process', () => {
  it('runs the command in a real Node process and exits 0', () => {
    const input = file('spawn-in.jsonl', `${JSON.stringify({ id: 's1', text: TEXT_A })}\n`);
    const output = path.join(dir, 'spawn-out.jsonl');
    const harness = [
      "import { Command } from 'commander';",
      "import { registerDeidCommand } from './src/cli/deid-command.ts';",
      "const p = new Command('ward'); registerDeidCommand(p);",
      'await p.parseAsync(process.argv.slice(1), { from: "user" });',
    ].join('\n');
    const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', harness, 'deid', '--in', input, '--out', output], {
      cwd: repoRoot,
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(r.status).toBe(0);
    expect(r.stderr).toContain('1 documents de-identified');
    expect(JSON.parse(readFileSync(output, 'utf8')) as unknown).toMatchObject({ id: 's1', text: 'Pt [NAME] (MRN [MRN]) seen [DATE], call [PHONE].' });
  });
});
