/** Entry point of the `ward` command (see bin/ward.js). */
import { runWard } from './ward-program.js';
import { processIo } from './cli-io.js';
import { installLastResortHandlers } from './last-resort-handlers.js';

// Everything Ward writes (database, keys, exports, proofs) is private to its owner by default.
process.umask(0o077);
// Before anything else runs: no error may ever reach the terminal as a stack trace.
installLastResortHandlers(process, processIo, (code) => process.exit(code));
const code = await runWard(process.argv.slice(2), processIo);
process.exitCode = code;
