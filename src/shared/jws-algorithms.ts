/**
 * The asymmetric JWS algorithms (RFC 7518 section 3.1, RFC 8037) Ward accepts from an identity
 * provider. Shared-secret (HS*) and `none` are never in this list: a verifier holding only
 * public keys must not be able to accept a token anyone with those keys could forge (RFC 8725
 * sections 3.1 and 3.2).
 */
export const asymmetricJwsAlgorithms = ['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA'] as const;
export type AsymmetricJwsAlgorithm = (typeof asymmetricJwsAlgorithms)[number];
