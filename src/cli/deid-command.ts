/**
 * `ward deid`: Safe Harbor de-identification at the command line.
 *
 *   ward deid --in IN.jsonl --out OUT.jsonl   the stable batch contract (docs DESIGN.md): each input
 *                                             line {"id","text"}, each output line
 *                                             {"id","text","spans":[{"start","end","type"}]}
 *   ward deid [FILE]                          one document from FILE or stdin, de-identified to stdout
 *   ward deid risk FILE                       re-identification risk of a tabular or FHIR export
 *
 * Input text is PHI: no message ever quotes it. A malformed input line, or one whose
 * de-identification throws, is reported by its number and skipped; the other lines are still
 * written, and the command then fails (exit code 1). The `id` of each line is copied to the
 * output verbatim: it must not identify anyone (no MRN, name or date in it).
 */
import { Option, type Command } from 'commander';
import { createReadStream, createWriteStream, readFileSync, statSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import { analyze } from '../deid/analyzer.js';
import { anonymize } from '../deid/anonymize.js';
import type { DeidDictionaries } from '../deid/dictionaries.js';
import { loadDictionaries } from '../deid/load-dictionaries.js';
import { isOperatorName, operatorByName, OPERATOR_NAMES, type OperatorName } from '../deid/operators/operator-by-name.js';
import { newDocumentState } from '../deid/operators/operator.js';
import { parseTable } from '../deid/risk/parse-table.js';
import { proposeGeneralization } from '../deid/risk/propose-generalization.js';
import { assessRisk, type RiskReport } from '../deid/risk/risk-assessment.js';
import { WardError } from '../shared/ward-error.js';
import { CliExit, processIo, type CliIo } from './cli-io.js';

export interface DeidCommandDeps {
  readonly io: CliIo;
  readonly stdin: Readable;
  /** Where stderr goes when it is a terminal (the progress bar); undefined when it is not. */
  readonly progressStream: NodeJS.WriteStream | undefined;
  readonly dictionaries: () => DeidDictionaries;
}

/** Show a progress bar only for inputs at least this large. */
const PROGRESS_MIN_BYTES = 8 * 1024 * 1024;
const KEY_ENV = 'WARD_DEID_KEY';

function defaultDeps(): DeidCommandDeps {
  let cached: DeidDictionaries | undefined;
  return {
    io: processIo,
    stdin: process.stdin,
    progressStream: process.stderr.isTTY ? process.stderr : undefined,
    dictionaries: () => (cached ??= loadDictionaries()),
  };
}

interface DeidOptions {
  in?: string;
  out?: string;
  operator: string;
  keyFile?: string;
  patient?: string;
  minConfidence?: string;
}

/** A key from --key-file (raw bytes, or hex/base64 text) or $WARD_DEID_KEY (hex or base64). */
function readKey(opts: DeidOptions, io: CliIo): Uint8Array | undefined {
  let text: string | Buffer | undefined;
  if (opts.keyFile !== undefined) {
    try {
      text = readFileSync(opts.keyFile);
    } catch {
      throw new CliExit(2, 'cannot read the key file given with --key-file');
    }
  } else if (io.env[KEY_ENV] !== undefined) {
    text = io.env[KEY_ENV];
  }
  if (text === undefined) return undefined;
  const s = text.toString('utf8').trim();
  const decoded = /^[0-9a-fA-F]{64,}$/.test(s) ? Buffer.from(s, 'hex') : /^[A-Za-z0-9+/=_-]{43,}$/.test(s) ? Buffer.from(s, 'base64') : Buffer.from(text);
  if (decoded.length < 32) throw new CliExit(2, 'the de-identification key must be at least 32 bytes');
  return decoded;
}

function parseOperator(value: string): OperatorName {
  if (!isOperatorName(value)) throw new CliExit(2, `--operator must be one of ${OPERATOR_NAMES.join(', ')}`);
  return value;
}

/**
 * The highest --min-confidence accepted. The analyzer's default is 0.4; context-free seeds (a
 * first name alone, a surname alone, a weak age cue) score 0.6-0.75, so a higher threshold would
 * silently switch off redaction of whole identifier kinds while the command still exits 0.
 */
const MAX_MIN_CONFIDENCE = 0.6;

function parseMinConfidence(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n < 0 || n > 1) throw new CliExit(2, '--min-confidence must be a number between 0 and 1');
  if (n > MAX_MIN_CONFIDENCE) {
    throw new CliExit(2, `--min-confidence above ${MAX_MIN_CONFIDENCE} would let identifiers through; use 0..${MAX_MIN_CONFIDENCE} (default 0.4)`);
  }
  return n;
}

/** What a failed de-identification is called in a message: an error code, never its text (it may quote PHI). */
function failureKind(e: unknown): string {
  return e instanceof WardError ? e.code : 'internal error';
}

interface Converter {
  (text: string, patientId: string): { text: string; spans: { start: number; end: number; type: string }[] };
}

function converter(opts: DeidOptions, deps: DeidCommandDeps): Converter {
  const operatorName = parseOperator(opts.operator);
  const minConfidence = parseMinConfidence(opts.minConfidence);
  const key = readKey(opts, deps.io);
  if ((operatorName === 'surrogate' || operatorName === 'pseudonym') && key === undefined) {
    throw new CliExit(2, `--operator ${operatorName} needs a key: --key-file FILE or $${KEY_ENV} (32+ bytes, hex or base64)`);
  }
  const dictionaries = deps.dictionaries();
  return (text, patientId) => {
    const detections = analyze(text, dictionaries, minConfidence === undefined ? {} : { minConfidence });
    const operator = operatorByName(operatorName, { dictionaries, ...(key ? { key } : {}), patientId: opts.patient ?? patientId, referenceYear: new Date().getUTCFullYear() });
    const result = anonymize(text, detections, operator, newDocumentState());
    return { text: result.text, spans: detections.map((d) => ({ start: d.start, end: d.end, type: d.type })) };
  };
}

interface InputLine {
  id: string | number;
  text: string;
  patient?: string;
}

function parseLine(line: string): InputLine | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  const v = value as Record<string, unknown>;
  const id = v.id;
  if ((typeof id !== 'string' && typeof id !== 'number') || typeof v.text !== 'string') return undefined;
  return { id, text: v.text, ...(typeof v.patient === 'string' ? { patient: v.patient } : {}) };
}

async function write(stream: Writable, chunk: string): Promise<void> {
  if (!stream.write(chunk)) await once(stream, 'drain');
}

async function runBatch(opts: DeidOptions & { in: string; out: string }, deps: DeidCommandDeps): Promise<void> {
  const convert = converter(opts, deps);
  let size: number;
  try {
    size = statSync(opts.in).size;
  } catch {
    throw new CliExit(2, 'cannot read the --in file');
  }
  const input = createReadStream(opts.in);
  const output = createWriteStream(opts.out, { mode: 0o600 });
  const outputFailed = new Promise<never>((_, reject) => {
    output.once('error', () => reject(new CliExit(1, 'cannot write the --out file')));
  });
  const bar = deps.progressStream !== undefined && size >= PROGRESS_MIN_BYTES ? new SingleBar({ stream: deps.progressStream, format: 'deid [{bar}] {percentage}% | {value}/{total} bytes' }) : undefined;
  bar?.start(size, 0);
  let lineNo = 0;
  let bytes = 0;
  let bad = 0;
  let failed = 0;
  let done = 0;
  const work = (async (): Promise<void> => {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      lineNo += 1;
      bytes += Buffer.byteLength(line, 'utf8') + 1;
      if (line.trim().length === 0) continue;
      const doc = parseLine(line);
      if (doc === undefined) {
        bad += 1;
        deps.io.err(`ward deid: line ${lineNo}: not a JSON object with an "id" (string or number) and a "text" string; skipped\n`);
        continue;
      }
      let result: ReturnType<Converter>;
      try {
        result = convert(doc.text, doc.patient ?? String(doc.id));
      } catch (e) {
        // An analyzer or operator fault: reported by line number and kind, never by its message.
        failed += 1;
        deps.io.err(`ward deid: line ${lineNo}: de-identification failed (${failureKind(e)}); skipped, nothing written for it\n`);
        continue;
      }
      await write(output, `${JSON.stringify({ id: doc.id, text: result.text, spans: result.spans })}\n`);
      done += 1;
      if (bar !== undefined && lineNo % 256 === 0) bar.update(Math.min(bytes, size));
    }
    output.end();
    await once(output, 'finish');
  })();
  try {
    await Promise.race([work, outputFailed]);
  } catch (e) {
    if (e instanceof CliExit || e instanceof WardError) throw e;
    throw new CliExit(1, 'cannot read the --in file');
  } finally {
    bar?.update(size);
    bar?.stop();
  }
  if (bad > 0 || failed > 0) {
    const parts = [...(bad > 0 ? [`${bad} malformed input line(s)`] : []), ...(failed > 0 ? [`${failed} line(s) that failed to de-identify`] : [])];
    throw new CliExit(1, `${parts.join(' and ')} skipped (see above); ${done} documents written`);
  }
  deps.io.err(`ward deid: ${done} documents de-identified\n`);
}

async function readAll(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}

async function runSingle(file: string | undefined, opts: DeidOptions, deps: DeidCommandDeps): Promise<void> {
  const convert = converter(opts, deps);
  let text: string;
  if (file === undefined || file === '-') {
    text = await readAll(deps.stdin);
  } else {
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new CliExit(2, 'cannot read the input file');
    }
  }
  // Surrogates and date shifts are per patient: without one, every document would share one
  // shift, and a single known date would reveal it for all of them.
  if (opts.operator === 'surrogate' && opts.patient === undefined) {
    throw new CliExit(2, '--operator surrogate needs --patient ID for a single document (shifts are per patient)');
  }
  let result: ReturnType<Converter>;
  try {
    result = convert(text, opts.patient ?? '');
  } catch (e) {
    if (e instanceof CliExit) throw e;
    throw new CliExit(1, `de-identification failed (${failureKind(e)}); nothing written`);
  }
  deps.io.out(result.text);
}

export function registerDeidCommand(program: Command, deps: Partial<DeidCommandDeps> = {}): void {
  const d: DeidCommandDeps = { ...defaultDeps(), ...deps };
  const deid = program
    .command('deid')
    .description('HIPAA Safe Harbor de-identification of free text (one document, or JSON lines with --in/--out)')
    .argument('[file]', 'a text file to de-identify (default: stdin)')
    .option('--in <file>', 'JSON lines input: {"id","text"} per line; "id" is copied to the output verbatim, so it must be non-identifying (no MRN, name or date)')
    .option('--out <file>', 'JSON lines output: {"id","text","spans"} per line')
    .addOption(new Option('--operator <name>', 'how identifiers are replaced').choices([...OPERATOR_NAMES]).default('redact'))
    .option('--key-file <file>', `secret key for surrogate/pseudonym (or $${KEY_ENV})`)
    .option('--patient <id>', 'patient id that seeds surrogates and date shifts (batch default: each line\'s "patient" or "id")')
    .addHelpText('after', '\nBatch mode copies each line\'s "id" to the output verbatim: it must be non-identifying (not an MRN, name, date or other identifier).\n')
    .option('--min-confidence <n>', 'drop detections below this confidence (0..0.6, default 0.4; higher values are refused: they let identifiers through)')
    .action(async (file: string | undefined, opts: DeidOptions) => {
      if (opts.in !== undefined || opts.out !== undefined) {
        if (opts.in === undefined || opts.out === undefined) throw new CliExit(2, '--in and --out go together');
        if (file !== undefined) throw new CliExit(2, 'give either FILE or --in/--out, not both');
        await runBatch({ ...opts, in: opts.in, out: opts.out }, d);
        return;
      }
      await runSingle(file, opts, d);
    });
  registerRiskCommand(deid, d.io);
}

const FHIR_QUASI_IDENTIFIERS = ['birthDate', 'gender', 'zip'];

function formatReport(title: string, r: RiskReport): string {
  const f = (n: number): string => n.toFixed(4);
  const sizes = [...r.classSizeHistogram.entries()].sort((a, b) => a[0] - b[0]).slice(0, 8).map(([size, n]) => `${size}:${n}`).join(' ');
  return [
    `${title}`,
    `  records ${r.records}, equivalence classes ${r.classes}, k-anonymity k=${r.k}`,
    `  unique records ${f(r.uniqueShare)}, prosecutor risk max ${f(r.prosecutorRiskMax)} mean ${f(r.prosecutorRiskMean)}`,
    `  journalist risk max ${f(r.journalistRiskMax)}${r.journalistIsUpperBound ? ' (upper bound: no population counts)' : ''}`,
    r.lDiversity === undefined ? '  l-diversity: no sensitive attribute given' : `  l-diversity l=${r.lDiversity}`,
    `  class sizes (size:count) ${sizes}`,
    '',
  ].join('\n');
}

/** `ward deid risk FILE`: Expert Determination support; prints counts, never record values. */
function registerRiskCommand(deid: Command, io: CliIo): void {
  deid
    .command('risk')
    .description('re-identification risk of a CSV, JSON lines or FHIR export: k-anonymity, l-diversity, prosecutor/journalist risk')
    .argument('<file>', 'the export to assess')
    .option('--quasi <columns>', 'comma-separated quasi-identifier columns (FHIR default: birthDate,gender,zip)')
    .option('--sensitive <column>', 'sensitive attribute for l-diversity')
    .option('--k <n>', 'target k for the proposed generalization', '5')
    .action((file: string, opts: { quasi?: string; sensitive?: string; k: string }) => {
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch {
        throw new CliExit(2, 'cannot read the export file');
      }
      const targetK = Number(opts.k);
      if (!Number.isInteger(targetK) || targetK < 2) throw new CliExit(2, '--k must be an integer of at least 2');
      const records = parseTable(text);
      if (records.length === 0) throw new CliExit(1, 'the export holds no records');
      const quasi = opts.quasi?.split(',').map((c) => c.trim()).filter((c) => c.length > 0) ?? FHIR_QUASI_IDENTIFIERS;
      const columns = new Set(records.flatMap((r) => Object.keys(r)));
      const missing = [...quasi, ...(opts.sensitive ? [opts.sensitive] : [])].filter((c) => !columns.has(c));
      if (missing.length > 0) throw new CliExit(2, `column(s) not in the export: ${missing.join(', ')}`);
      const sensitive = opts.sensitive !== undefined ? { sensitive: opts.sensitive } : {};
      io.out(formatReport(`quasi-identifiers: ${quasi.join(', ')}`, assessRisk(records, { quasiIdentifiers: quasi, ...sensitive })));
      const proposal = proposeGeneralization(records, quasi, targetK, opts.sensitive);
      if (proposal === undefined) {
        io.out(`no generalization reaches k=${targetK}: the export has fewer than ${targetK} records\n`);
        return;
      }
      const levels = Object.entries(proposal.levels).map(([c, l]) => `${c}=level ${l}`).join(', ');
      io.out(formatReport(`proposed generalization for k>=${targetK}: ${levels}`, proposal.report));
    });
}
