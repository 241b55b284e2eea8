/**
 * Password hashing with argon2id (RFC 9106), at OWASP's recommended minimum
 * (19 MiB memory, 2 iterations, 1 lane). The encoded hash carries its own parameters, so
 * they can be raised later without invalidating stored hashes.
 */
import { hash, verify } from '@node-rs/argon2';

const PARAMS = { algorithm: 2 /* Algorithm.Argon2id (a const enum, not importable under verbatimModuleSyntax) */, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;

export function hashPassword(password: string): Promise<string> {
  return hash(password, PARAMS);
}

export async function verifyPassword(encoded: string, password: string): Promise<boolean> {
  try {
    return await verify(encoded, password);
  } catch {
    return false;
  }
}

/**
 * NIST SP 800-63B 5.1.1: at least 15 characters for single-factor use is the current
 * recommendation; length over composition rules, no truncation, up to 128 characters.
 */
export function passwordProblem(password: string): string | undefined {
  if ([...password].length < 15) return 'password must be at least 15 characters';
  if ([...password].length > 128) return 'password must be at most 128 characters';
  return undefined;
}
