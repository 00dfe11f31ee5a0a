import pino, { type Logger } from 'pino';

export type { Logger };

/**
 * Field names that may carry PII or secrets, wherever they appear in a log object.
 * Redaction is the last line of defence: code logs ids and reason codes, not values.
 */
const SENSITIVE = [
  'nir', 'password', 'newPassword', 'currentPassword', 'code', 'otp', 'token', 'secret', 'email', 'phone',
  'givenNames', 'given_names', 'familyName', 'family_name', 'usageName', 'usage_name', 'preferred_username', 'birthDate', 'birth_date', 'birthPlace',
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

/** A PostgreSQL error: five-character SQLSTATE in `code`. */
const isDatabaseError = (err: Error): err is Error & { code: string } => /^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code ?? ''));

/**
 * Database error messages quote values ('invalid input syntax for type uuid: "…"', key
 * values in unique violations): only their SQLSTATE and where they were thrown are kept.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  if (!isDatabaseError(err)) return pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
  const frames = (err.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  return { type: err.name, sqlState: err.code, message: `database error ${err.code}`, stack: frames.join('\n') };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino(
    { level, redact: { paths: redactPaths, censor: '[redacted]' }, base: { service: 'sesame' }, serializers: { err: serializeError } },
    destination,
  );
}
