import { z } from 'zod';

/**
 * The typed catalogue of file events (DESIGN principle 7). A change event records the value
 * of one part of the file before and after; `event.cancelled` is the compensating event
 * that undoes an earlier change by setting that part back (it names the change it undoes,
 * `of`, and carries that change's value shape). The names must match the CHECK constraint
 * of file_events (011_file_events.sql); a test compares them.
 */

/** An IBAN as stored: upper case, no spaces, ISO 13616 check digits verified. */
export function normaliseIban(input: string): string {
  return input.replace(/[\s-]+/g, '').toUpperCase();
}

export function isValidIban(iban: string): boolean {
  if (!/^[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}$/.test(iban)) return false;
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let remainder = 0;
  for (const ch of rearranged) {
    const digits = /[A-Z]/.test(ch) ? String(ch.charCodeAt(0) - 55) : ch;
    for (const d of digits) remainder = (remainder * 10 + Number(d)) % 97;
  }
  return remainder === 1;
}

// Messages name the rule, never the value (values are PII and end up in errors).
const iban = z
  .string()
  .transform(normaliseIban)
  .refine(isValidIban, { message: 'not a valid IBAN' });

const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), { message: 'control characters are not allowed' });

/** The value each change event sets; null means the part was removed. */
export const CHANGE_VALUES = {
  'contact.email-changed': z.email().max(254).nullable(),
  'contact.phone-changed': z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 .()-]{3,29}$/, { message: 'not a phone number' })
    .nullable(),
  'contact.address-changed': text(500).nullable(),
  'bank-details.changed': z.object({ iban, holder: text(140) }).strict().nullable(),
} as const;

export type ChangeType = keyof typeof CHANGE_VALUES;
export const CHANGE_TYPES = Object.keys(CHANGE_VALUES) as ChangeType[];

/** The value of a part of the file, as a change of type T sets it. */
export type ChangeValue<T extends ChangeType> = z.output<(typeof CHANGE_VALUES)[T]>;

export type BankDetails = NonNullable<ChangeValue<'bank-details.changed'>>;

export const CANCELLED = 'event.cancelled' as const;
export type FileEventType = ChangeType | typeof CANCELLED;
export const FILE_EVENT_TYPES: readonly FileEventType[] = [...CHANGE_TYPES, CANCELLED];

export const isChangeType = (type: string): type is ChangeType => Object.hasOwn(CHANGE_VALUES, type);
export const isFileEventType = (type: string): type is FileEventType => type === CANCELLED || isChangeType(type);

/** What a change event's payload holds (encrypted). */
export type ChangeData<T extends ChangeType> = { before: ChangeValue<T>; after: ChangeValue<T> };

/** What a cancellation's payload holds: the part it sets back, its value before and after. */
export type CancellationData = { [K in ChangeType]: { of: K } & ChangeData<K> }[ChangeType];

export type FileEventData<T extends FileEventType> = T extends ChangeType ? ChangeData<T> : CancellationData;

/** The effect of an event on the projections: which part of the file it sets, to what. */
export type Effect = { [K in ChangeType]: { part: K; value: ChangeValue<K> } }[ChangeType];

export class FileEventDataError extends Error {
  override name = 'FileEventDataError';
}

/** Validates (and normalises) a value for a part of the file; the error names paths and rules, never values. */
export function parseValue<T extends ChangeType>(type: T, value: unknown): ChangeValue<T> {
  const result = CHANGE_VALUES[type].safeParse(value);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
    throw new FileEventDataError(`${type}: ${where}`);
  }
  return result.data as ChangeValue<T>;
}

/** Reads a decrypted payload back into typed data (a stored payload that no longer parses is an error). */
export function parseData(type: FileEventType, raw: unknown): CancellationData | ChangeData<ChangeType> {
  if (typeof raw !== 'object' || raw === null) throw new FileEventDataError(`${type}: payload is not an object`);
  const o = raw as Record<string, unknown>;
  if (type === CANCELLED) {
    const of = o.of;
    if (typeof of !== 'string' || !isChangeType(of)) throw new FileEventDataError(`${type}: of: not a change type`);
    return { of, before: parseValue(of, o.before), after: parseValue(of, o.after) } as CancellationData;
  }
  return { before: parseValue(type, o.before), after: parseValue(type, o.after) } as ChangeData<ChangeType>;
}

export function effectOf(type: FileEventType, data: CancellationData | ChangeData<ChangeType>): Effect {
  if (type === CANCELLED) {
    const c = data as CancellationData;
    return { part: c.of, value: c.after } as Effect;
  }
  return { part: type, value: data.after } as Effect;
}
