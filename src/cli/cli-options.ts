import { InvalidArgumentError, Option } from 'commander';

export function parsePort(v: string): number {
  const n = Number(v);
  if (!/^\d+$/.test(v) || n > 65535) throw new InvalidArgumentError('must be a port number (0-65535)');
  return n;
}

export function parsePositiveInt(v: string): number {
  if (!/^[1-9]\d{0,15}$/.test(v)) throw new InvalidArgumentError('must be a positive integer');
  return Number(v);
}

/** `--data DIR`, the same on every command that opens the data directory. */
export function dataDirOption(): Option {
  return new Option('--data <dir>', 'data directory (default ./ward-data or $WARD_DATA)');
}
