/** Uncaught errors end the CLI with one fixed line and exit 1, never a message or a stack. */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { installLastResortHandlers } from './last-resort-handlers.js';

function harness(): { events: EventEmitter; lines: string[]; exits: number[] } {
  const events = new EventEmitter();
  const lines: string[] = [];
  const exits: number[] = [];
  installLastResortHandlers(events, { err: (t) => lines.push(t) }, (code) => exits.push(code));
  return { events, lines, exits };
}

const FIXED = /^ward: unexpected error \(([A-Za-z0-9_$]+)\); no details are printed because they may contain sensitive data\n$/;

describe('installLastResortHandlers', () => {
  it('prints one line with the error class only, and exits 1, for an uncaught exception', () => {
    const { events, lines, exits } = harness();
    events.emit('uncaughtException', new TypeError('patient Quillon Vantressa 1947-03-02 not found'));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(FIXED);
    expect(lines[0]).toContain('(TypeError)');
    expect(lines[0]).not.toContain('Quillon');
    expect(lines[0]).not.toMatch(/\bat /);
    expect(exits).toEqual([1]);
  });

  it('does the same for an unhandled rejection, whatever was rejected', () => {
    const { events, lines, exits } = harness();
    events.emit('unhandledRejection', 'postgres://ward:s3cret@db/ward');
    const odd = new Error('x');
    odd.name = 'Quillon Vantressa';
    events.emit('unhandledRejection', odd);
    expect(lines).toEqual(['ward: unexpected error (unknown); no details are printed because they may contain sensitive data\n']);
    expect(exits).toEqual([1, 1]);
  });
});
