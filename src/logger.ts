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

const CENSOR = '[redacted]';
// Set-Cookie of a logged response; the request's cookie and authorization are in SENSITIVE.
const CENSORED_KEYS = new Set([...SENSITIVE, 'set-cookie']);
// Deeper than any object we log; past it, nothing is written (never a value unchecked).
const MAX_DEPTH = 6;

/**
 * `value` with every SENSITIVE key censored, at any depth: the same value when there is nothing
 * to censor, otherwise a copy (the caller's object is never changed). Errors are serialized
 * first (serializeError), so a nested error's own fields (a database error's `detail`) are
 * checked too. Not pino's `redact`: its wildcard paths (`*.nir`, `*.*.nir`) made every log line
 * cost ~50 µs and every request's child logger ~13 µs; this walk costs about a microsecond.
 */
export function redact(value: unknown, depth = 0): unknown {
  if (value === null || typeof value !== 'object') return value;
  if (depth > MAX_DEPTH) return '[too deep]';
  if (value instanceof Error) return serializeError(value); // redacted there
  // Dates, buffers, URLs: written by their toJSON, never field by field.
  if (typeof (value as { toJSON?: unknown }).toJSON === 'function') return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | null = null;
    value.forEach((item, i) => {
      const safe = redact(item, depth + 1);
      if (safe !== item) (copy ??= [...value])[i] = safe;
    });
    return copy ?? value;
  }
  return redactFields(value as Record<string, unknown>, depth);
}

/** An object's fields through redact(), but `skip`, left as it is. */
function redactFields(object: Record<string, unknown>, depth: number, skip?: string): Record<string, unknown> {
  let copy: Record<string, unknown> | null = null;
  for (const [key, item] of Object.entries(object)) {
    if (key === skip) continue;
    const safe = CENSORED_KEYS.has(key) ? CENSOR : redact(item, depth + 1);
    if (safe !== item) (copy ??= { ...object })[key] = safe;
  }
  return copy ?? object;
}

/** A log line's own fields; `err` is checked by its serializer (serializeError), which pino runs after this. */
const redactLine = (object: Record<string, unknown>): Record<string, unknown> => redactFields(object, 0, 'err');

/** A PostgreSQL error: five-character SQLSTATE in `code`. */
const isDatabaseError = (err: Error): err is Error & { code: string } => /^[0-9A-Z]{5}$/.test(String((err as { code?: unknown }).code ?? ''));

/**
 * Database error messages quote values ('invalid input syntax for type uuid: "…"', key
 * values in unique violations): only their SQLSTATE and where they were thrown are kept.
 */
export function serializeError(err: unknown): Record<string, unknown> {
  if (!(err instanceof Error)) return { type: typeof err };
  // Its own fields may quote what failed (`detail`) or carry PII: checked like any log object.
  if (!isDatabaseError(err)) return redact({ ...pino.stdSerializers.err(err), detail: undefined }) as Record<string, unknown>;
  const frames = (err.stack ?? '').split('\n').filter((l) => l.trimStart().startsWith('at '));
  return { type: err.name, sqlState: err.code, message: `database error ${err.code}`, stack: frames.join('\n') };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const logger = pino({ level, base: { service: 'sesame' }, serializers: { err: serializeError }, formatters: { log: redactLine } }, destination);
  // A child's bindings are written once, when it is made, past any formatter: checked here.
  // Children inherit this from the root (pino makes them with Object.create).
  const child = logger.child;
  logger.child = function (this: Logger, bindings, options) {
    return child.call(this, redactLine(bindings), options);
  } as Logger['child'];
  return logger;
}
