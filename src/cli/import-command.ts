/**
 * `ward import PATH [--atomic]`: FHIR R4 Bundles (transaction, batch, collection) and bulk
 * NDJSON (gzip too), a file or a folder. Each resource is checked against FHIR R4; bad ones
 * are reported with their location (`file:line`, `file#entry[i]`) and the good ones kept,
 * or with `--atomic` nothing is kept unless everything is good. A progress bar shows on a
 * terminal. The report names locations and rules, never values (they are PHI).
 */
import type { Command } from 'commander';
import { SingleBar } from 'cli-progress';
import type { CliIo } from './cli-io.js';
import { CliExit } from './cli-io.js';
import { dataDirOption } from './cli-options.js';
import { consoleUser } from './console-user.js';
import { withRuntime } from './with-runtime.js';
import { readImportSource } from '../records/import/read-import-source.js';
import type { ImportReport } from '../records/record-importer.js';

export interface ImportCommandDeps {
  io: CliIo;
  /** Where the progress bar is drawn (stderr when it is a terminal). */
  progressStream?: NodeJS.WritableStream | undefined;
}

export function registerImportCommand(program: Command, deps: ImportCommandDeps): void {
  program
    .command('import')
    .description('import FHIR R4 resources (Bundles, NDJSON, .gz) from a file or folder')
    .argument('<path>', 'file or folder')
    .option('--atomic', 'store nothing unless every resource is valid')
    .option('--max-problems <n>', 'problems listed in the report', '50')
    .addOption(dataDirOption())
    .action(async (path: string, opts: { atomic?: boolean; maxProblems: string; data?: string }) => {
      const io = deps.io;
      const report = await withRuntime(io, opts, async (rt) => {
        const bar = deps.progressStream !== undefined
          ? new SingleBar({ stream: deps.progressStream, format: 'import [{bar}] {percentage}% | {value}/{total} bytes', hideCursor: true })
          : undefined;
        let started = false;
        try {
          const items = readImportSource(path, {
            onProgress: (done, total) => {
              if (bar === undefined) return;
              if (!started) {
                bar.start(total, 0);
                started = true;
              }
              bar.update(done);
            },
          });
          return await rt.importer.import(items, { atomic: opts.atomic === true, who: consoleUser() });
        } finally {
          if (started) bar?.stop();
        }
      }, 'record.import');
      io.out(formatReport(report, Number(opts.maxProblems) || 50));
      if (!report.committed) throw new CliExit(1, `import rolled back (--atomic): ${report.invalid} invalid resource(s), nothing stored`);
      if (report.invalid > 0) process.exitCode = 3;
    });
}

export function formatReport(r: ImportReport, maxProblems: number): string {
  const lines = [
    `stored ${r.stored} resource(s) for ${r.patients} patient(s); ${r.invalid} invalid; ${r.skipped} skipped`,
  ];
  const skipped = Object.entries(r.skippedTypes).sort(([a], [b]) => a.localeCompare(b));
  if (skipped.length > 0) lines.push(`skipped (types Ward does not keep): ${skipped.map(([t, n]) => `${t} ${n}`).join(', ')}`);
  for (const p of r.problems.slice(0, maxProblems)) lines.push(`  ${p.location}: ${p.code}: ${p.problems.slice(0, 5).join('; ')}`);
  if (r.invalid > Math.min(maxProblems, r.problems.length)) lines.push(`  ... ${r.invalid - Math.min(maxProblems, r.problems.length)} more`);
  return `${lines.join('\n')}\n`;
}
