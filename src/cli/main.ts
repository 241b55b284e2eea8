/** Entry point of the `ward` command (see bin/ward.js). */
import { runWard } from './ward-program.js';
import { processIo } from './cli-io.js';

// Everything Ward writes (database, keys, exports, proofs) is private to its owner by default.
process.umask(0o077);
const code = await runWard(process.argv.slice(2), processIo);
process.exitCode = code;
