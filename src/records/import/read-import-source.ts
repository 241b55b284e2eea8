/**
 * Reads an import source: one file, or every `*.json`, `*.json.gz`, `*.ndjson`, `*.ndjson.gz`
 * directly inside a folder (sorted by name, not recursive; other files are ignored, and so is
 * the bulk-data client's `log.ndjson`, an export log rather than FHIR data). Yields one
 * ImportItem per resource, already classified and validated:
 *
 * - `.ndjson(.gz)`: one resource per line (Bulk Data IG output format,
 *   https://hl7.org/fhir/uv/bulkdata/STU2/export.html#bulk-data-output-file-format), streamed
 *   through gunzip and a line splitter, so memory does not grow with the file; blank lines are
 *   ignored; location `file:line`.
 * - `.json(.gz)`: a Bundle (entries at `file#entry[i]`, see unpack-bundle.ts) or one resource
 *   (location `file`), parsed whole up to `maxJsonBytes` (256 MiB uncompressed by default).
 * - a resource of a type Ward does not keep is `skipped`; one that fails validation is
 *   `invalid` (`records.invalid_resource`, with its problems); a line, entry or file that is not
 *   JSON or not a resource is `invalid` and the rest of the source is still read.
 *
 * Progress is reported as bytes of the source consumed (compressed bytes for .gz files) out of
 * the total size of its files, for the CLI's progress bar.
 */
import { createReadStream } from 'node:fs';
import type { ReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { isResourceType } from '@medplum/core';
import { WardError } from '../../shared/ward-error.js';
import { ensureFhirDefinitions } from '../fhir-definitions.js';
import { isSupportedResourceType } from '../fhir-resource.js';
import type { FhirResource } from '../fhir-resource.js';
import type { ImportItem } from './import-item.js';
import { splitLines } from './split-lines.js';
import { unpackBundle } from './unpack-bundle.js';
import { validateResource } from './validate-resource.js';

export interface ReadImportOptions {
  /** Bytes consumed so far and in all; called with (0, total) first and (total, total) last. */
  onProgress?: (done: number, total: number) => void;
  /** Largest `.json(.gz)` file parsed whole, in uncompressed bytes (default 256 MiB). */
  maxJsonBytes?: number;
  /** Longest NDJSON line (default 64 MiB; FHIR strings stop at 1 MB, attachments may not). */
  maxLineBytes?: number;
}

const MiB = 1024 * 1024;
const SOURCE_FILE = /\.(nd)?json(\.gz)?$/i;
/** The smart-on-fhir bulk-data client writes its export log next to the data. */
const BULK_EXPORT_LOG = /^log\.ndjson(\.gz)?$/i;

interface SourceFile {
  path: string;
  /** The name used in locations. */
  name: string;
  size: number;
  ndjson: boolean;
  gzip: boolean;
}

function unreadable(path: string, cause: unknown): WardError {
  return new WardError('import.unreadable', `cannot read the import source ${path}`, { status: 400, cause });
}

function describe(path: string, name: string, size: number): SourceFile {
  const lower = name.toLowerCase();
  return { path, name, size, ndjson: /\.ndjson(\.gz)?$/.test(lower), gzip: lower.endsWith('.gz') };
}

async function listSource(path: string): Promise<SourceFile[]> {
  let info;
  try {
    info = await stat(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  if (info.isFile()) {
    if (!SOURCE_FILE.test(path)) {
      throw new WardError('import.unsupported_file', `not a .json, .json.gz, .ndjson or .ndjson.gz file: ${path}`, { status: 400 });
    }
    return [describe(path, basename(path), info.size)];
  }
  if (!info.isDirectory()) throw unreadable(path, undefined);
  let names: string[];
  try {
    names = await readdir(path);
  } catch (e) {
    throw unreadable(path, e);
  }
  const files: SourceFile[] = [];
  // Sorted by code unit, not locale, so the order is the same on every machine.
  for (const name of names.filter((n) => SOURCE_FILE.test(n) && !BULK_EXPORT_LOG.test(n)).sort()) {
    const full = join(path, name);
    try {
      const s = await stat(full);
      if (s.isFile()) files.push(describe(full, name, s.size));
    } catch {
      // Vanished or unreadable: reported when it is opened.
      files.push(describe(full, name, 0));
    }
  }
  return files;
}

function size(bytes: number): string {
  return bytes >= MiB ? `${Math.round(bytes / MiB)} MiB` : `${bytes} bytes`;
}

function invalid(location: string, code: string, problems: string[]): ImportItem {
  return { kind: 'invalid', location, code, problems };
}

/** Classify one parsed JSON value as a resource to keep, a type to skip, or invalid. */
export function classify(value: unknown, location: string): ImportItem {
  // isResourceType consults the indexed definitions.
  ensureFhirDefinitions();
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return invalid(location, 'import.not_a_resource', ['not a JSON object']);
  }
  const resourceType = (value as Record<string, unknown>).resourceType;
  if (typeof resourceType !== 'string') return invalid(location, 'import.not_a_resource', ['resourceType: missing']);
  if (!isResourceType(resourceType)) return invalid(location, 'import.not_a_resource', ['resourceType: not a FHIR R4 resource type']);
  if (!isSupportedResourceType(resourceType)) return { kind: 'skipped', location, resourceType };
  const resource = value as FhirResource;
  const problems = validateResource(resource);
  if (problems.length > 0) return invalid(location, 'records.invalid_resource', problems);
  return { kind: 'resource', location, resource };
}

class Progress {
  private before = 0;
  private last = -1;

  constructor(private readonly total: number, private readonly report: ((done: number, total: number) => void) | undefined) {}

  /** `consumed` bytes of the current file are done. */
  at(consumed: number): void {
    if (!this.report) return;
    const done = Math.min(this.total, this.before + consumed);
    if (done === this.last) return;
    this.last = done;
    this.report(done, this.total);
  }

  endFile(size: number): void {
    this.before += size;
    this.at(0);
  }
}

function open(file: SourceFile): { raw: ReadStream; input: Readable } {
  const raw = createReadStream(file.path, { highWaterMark: 64 * 1024 });
  if (!file.gzip) return { raw, input: raw };
  const gunzip = createGunzip();
  raw.on('error', (e) => gunzip.destroy(e));
  return { raw, input: raw.pipe(gunzip) };
}

/** What went wrong reading a file, without the error's message (it may quote content). */
function readFailure(file: SourceFile, e: unknown, where: string): ImportItem {
  const code = (e as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && code.startsWith('Z_')) {
    return invalid(file.name, 'import.corrupt_gzip', [`${where}: the gzip data is corrupt or truncated`]);
  }
  return invalid(file.name, 'import.unreadable_file', [`${where}: the file could not be read${typeof code === 'string' ? ` (${code})` : ''}`]);
}

async function* readNdjson(file: SourceFile, progress: Progress, maxLineBytes: number): AsyncGenerator<ImportItem> {
  const { raw, input } = open(file);
  let lastLine = 0;
  try {
    for await (const line of splitLines(input as AsyncIterable<Buffer>, maxLineBytes)) {
      lastLine = line.number;
      const location = `${file.name}:${line.number}`;
      progress.at(raw.bytesRead);
      if ('tooLong' in line) {
        yield invalid(location, 'import.line_too_long', [`line longer than ${size(maxLineBytes)}`]);
        continue;
      }
      if (line.text.trim() === '') continue;
      let value: unknown;
      try {
        value = JSON.parse(line.text);
      } catch {
        yield invalid(location, 'import.invalid_json', ['line is not JSON']);
        continue;
      }
      yield classify(value, location);
    }
  } catch (e) {
    yield readFailure(file, e, lastLine === 0 ? 'start of file' : `after line ${lastLine}`);
  } finally {
    input.destroy();
    raw.destroy();
  }
}

/** The whole (uncompressed) file, or 'too-large' once it passes `max` bytes. */
async function readWhole(file: SourceFile, max: number): Promise<Buffer | 'too-large'> {
  const { raw, input } = open(file);
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of input as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > max) return 'too-large';
      chunks.push(chunk);
    }
    return Buffer.concat(chunks, size);
  } finally {
    input.destroy();
    raw.destroy();
  }
}

async function* readJson(file: SourceFile, progress: Progress, maxJsonBytes: number): AsyncGenerator<ImportItem> {
  let bytes: Buffer | 'too-large';
  try {
    bytes = await readWhole(file, maxJsonBytes);
  } catch (e) {
    yield readFailure(file, e, 'file');
    return;
  }
  if (bytes === 'too-large') {
    yield invalid(file.name, 'import.file_too_large', [
      `file: more than ${size(maxJsonBytes)} of JSON; split it or export it as NDJSON (one resource per line)`,
    ]);
    return;
  }
  let value: unknown;
  try {
    let text = bytes.toString('utf8');
    if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    value = JSON.parse(text);
  } catch {
    yield invalid(file.name, 'import.invalid_json', ['file is not JSON (NDJSON files must be named .ndjson or .ndjson.gz)']);
    return;
  }
  if (typeof value === 'object' && value !== null && (value as Record<string, unknown>).resourceType === 'Bundle') {
    const outcomes = unpackBundle(value as Record<string, unknown>, file.name);
    for (const [i, o] of outcomes.entries()) {
      // Spread the file's bytes over its entries so the bar moves while they are validated.
      progress.at(Math.floor((file.size * (i + 1)) / outcomes.length));
      yield o.kind === 'entry' ? classify(o.resource, o.location) : o;
    }
    return;
  }
  yield classify(value, file.name);
}

export async function* readImportSource(path: string, options: ReadImportOptions = {}): AsyncGenerator<ImportItem> {
  const files = await listSource(path);
  const total = files.reduce((sum, f) => sum + f.size, 0);
  const progress = new Progress(total, options.onProgress);
  progress.at(0);
  for (const file of files) {
    if (file.ndjson) yield* readNdjson(file, progress, options.maxLineBytes ?? 64 * MiB);
    else yield* readJson(file, progress, options.maxJsonBytes ?? 256 * MiB);
    progress.endFile(file.size);
  }
}
