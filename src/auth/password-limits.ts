/**
 * Limits on password verifications in flight: each argon2id verification holds 19 MiB, and
 * login is reachable without credentials, so a flood must queue (briefly) or be refused with
 * 429 rather than exhaust memory. The composition root builds one limiter per process and
 * hands it to sign-in and password change alike: no state shared through module globals.
 */
export const PASSWORD_VERIFICATION_LIMITS = { maxInFlight: 4, maxQueued: 64 } as const;
