import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Field names that may carry PII or secrets, wherever they appear in a log object.
 * Redaction is the last line of defence: code logs ids and reason codes, not values.
 */
const SENSITIVE = [
  'nir', 'password', 'newPassword', 'currentPassword', 'code', 'otp', 'token', 'secret', 'email', 'phone',
  'givenNames', 'given_names', 'familyName', 'family_name', 'birthDate', 'birth_date', 'birthPlace',
  'postalAddress', 'postal_address', 'address', 'iban', 'to', 'cookie', 'authorization', 'csrf', '_csrf',
];

export const redactPaths = [
  'req.headers.cookie',
  'req.headers.authorization',
  'res.headers["set-cookie"]',
  // PostgreSQL errors quote the offending key values in `detail`.
  'err.detail',
  '*.err.detail',
  ...SENSITIVE.flatMap((k) => [k, `*.${k}`, `*.*.${k}`]),
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: redactPaths, censor: '[redacted]' }, base: { service: 'sesame' } }, destination);
}
