/**
 * The copy of every signed checkpoint kept outside the database: an append-only JSON-lines
 * file (mode 0600) in the data directory, each line fsynced before the checkpoint counts.
 * A database administrator who rewrites the audit tables cannot also rewrite this file
 * without host access; operators should ship it off the host too (SIEM, WORM storage).
 */
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import type { SignedCheckpoint } from './checkpoint.js';
import { parseSignedCheckpoint } from './checkpoint.js';
import { canonicalJson } from '../shared/canonical-json.js';
import { WardError } from '../shared/ward-error.js';

export interface CheckpointSink {
  append(cp: SignedCheckpoint): void;
  /** The checkpoints written so far (the trusted copy outside the database). */
  read(): CheckpointFileContents;
}

export interface CheckpointFileContents {
  checkpoints: SignedCheckpoint[];
  /** 1-based line numbers that are not valid checkpoints (a torn last line after a crash is reported, not fatal). */
  badLines: number[];
  tornTail: boolean;
}

export class CheckpointFile implements CheckpointSink {
  constructor(readonly path: string) {}

  append(cp: SignedCheckpoint): void {
    let fd: number | undefined;
    try {
      fd = openSync(this.path, 'a', 0o600);
      writeSync(fd, `${canonicalJson({ ...cp })}\n`);
      fsyncSync(fd);
    } catch (cause) {
      throw new WardError('audit.checkpoint_write_failed', 'cannot append to the audit checkpoint file', { cause, status: 503 });
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }

  read(): CheckpointFileContents {
    if (!existsSync(this.path)) return { checkpoints: [], badLines: [], tornTail: false };
    const text = readFileSync(this.path, 'utf8');
    const lines = text.split('\n');
    const endsClean = text.length === 0 || text.endsWith('\n');
    if (endsClean) lines.pop();
    const checkpoints: SignedCheckpoint[] = [];
    const badLines: number[] = [];
    let tornTail = false;
    lines.forEach((line, i) => {
      const cp = parseSignedCheckpoint(line);
      if (cp) checkpoints.push(cp);
      else if (!endsClean && i === lines.length - 1) tornTail = true;
      else badLines.push(i + 1);
    });
    return { checkpoints, badLines, tornTail };
  }
}
