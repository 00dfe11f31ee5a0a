import { z } from 'zod';
import { countryRulesHold } from './iban.ts';

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
  return remainder === 1 && countryRulesHold(iban);
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

const JSON_VALUE: z.ZodType<JsonValue> = z.lazy(() =>
  z.union([z.string().max(10_000), z.number().finite(), z.boolean(), z.null(), z.array(JSON_VALUE).max(1000), z.record(z.string().max(100), JSON_VALUE)]),
);
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

export const PROCEDURE_KINDS = ['address-change', 'income-declaration', 'payment-certificate'] as const;
export type ProcedureKind = (typeof PROCEDURE_KINDS)[number];
export const PROCEDURE_STATUSES = ['submitted', 'in-review', 'accepted', 'rejected', 'cancelled'] as const;
export type ProcedureStatus = (typeof PROCEDURE_STATUSES)[number];

/** An incident's reference (src/incident/incidents.ts numbers them): not personal data. */
export const INCIDENT_REFERENCE = /^INC-\d{4}-\d{3,}$/;
const incidentReference = z.string().regex(INCIDENT_REFERENCE, { message: 'not an incident reference' });

const procedure = z
  .object({
    kind: z.enum(PROCEDURE_KINDS),
    reference: z.string().regex(/^[A-Z0-9-]{6,32}$/, { message: 'not a procedure reference' }),
    status: z.enum(PROCEDURE_STATUSES),
    submittedAt: z.iso.datetime({ offset: true }),
    data: z.record(z.string().max(100), JSON_VALUE),
    note: text(2000).nullable(),
    /** Set when an operator cancelled it in response to this incident (`sesame incident cancel`): the page says so. */
    incident: incidentReference.optional(),
  })
  .strict();
export type ProcedureValue = z.output<typeof procedure>;

export const PAYMENT_STATUSES = ['paid', 'scheduled', 'cancelled'] as const;
export type PaymentStatus = (typeof PAYMENT_STATUSES)[number];

const payment = z
  .object({
    reference: z.string().regex(/^[A-Za-z0-9._-]{1,64}$/, { message: 'not a payment reference' }),
    date: z.iso.date(),
    benefit: z.string().regex(/^[A-Z0-9-]{1,16}$/, { message: 'not a benefit code' }),
    amountCents: z.number().int().min(0).max(100_000_000),
    status: z.enum(PAYMENT_STATUSES),
    iban: iban.nullable(),
  })
  .strict();
export type PaymentValue = z.output<typeof payment>;

/**
 * The parts of a file. A singleton part (the email, the bank details) has one value per
 * account; a keyed part (procedures, payments) has one value per key (the procedure's or
 * payment's id). Null means the part (or that keyed entry) is absent.
 */
export const PART_VALUES = {
  'contact.email-changed': z.email().max(254).nullable(),
  'contact.phone-changed': z
    .string()
    .trim()
    .regex(/^\+?[0-9][0-9 .()-]{3,29}$/, { message: 'not a phone number' })
    .nullable(),
  // Lines joined by "\n" (src/account-area/contact/address.ts): the one control character an address holds.
  'contact.address-changed': z
    .string()
    .trim()
    .min(1)
    .max(500)
    .refine((s) => !/[\u0000-\u0009\u000b-\u001f\u007f]/.test(s), { message: 'control characters other than line breaks are not allowed' })
    .nullable(),
  'bank-details.changed': z.object({ iban, holder: text(140) }).strict().nullable(),
  procedure: procedure.nullable(),
  payment: payment.nullable(),
} as const;

export type Part = keyof typeof PART_VALUES;
export type PartValue<P extends Part> = z.output<(typeof PART_VALUES)[P]>;
export const KEYED_PARTS: readonly Part[] = ['procedure', 'payment'];
export const isKeyedPart = (part: Part): boolean => KEYED_PARTS.includes(part);

/** Each change event sets one part (the singleton parts are named after their only event). */
export const PART_OF = {
  'contact.email-changed': 'contact.email-changed',
  'contact.phone-changed': 'contact.phone-changed',
  'contact.address-changed': 'contact.address-changed',
  'bank-details.changed': 'bank-details.changed',
  'procedure.submitted': 'procedure',
  'procedure.status-changed': 'procedure',
  'payment.recorded': 'payment',
} as const satisfies Record<string, Part>;

export type ChangeType = keyof typeof PART_OF;
export type PartOf<T extends ChangeType> = (typeof PART_OF)[T];
export const CHANGE_TYPES = Object.keys(PART_OF) as ChangeType[];

/** The value a change of type T sets. */
export type ChangeValue<T extends ChangeType> = PartValue<PartOf<T>>;

export type BankDetails = NonNullable<PartValue<'bank-details.changed'>>;

export const CANCELLED = 'event.cancelled' as const;
export type FileEventType = ChangeType | typeof CANCELLED;
export const FILE_EVENT_TYPES: readonly FileEventType[] = [...CHANGE_TYPES, CANCELLED];

export const isChangeType = (type: string): type is ChangeType => Object.hasOwn(PART_OF, type);
export const isFileEventType = (type: string): type is FileEventType => type === CANCELLED || isChangeType(type);

/** What a change event's payload holds (encrypted); `key` names the entry of a keyed part, null otherwise. */
export type ChangeData<T extends ChangeType> = { key: string | null; before: ChangeValue<T>; after: ChangeValue<T> };

/**
 * What a cancellation's payload holds: the change it undoes (`of`), the entry, its value before
 * and after, and the incident it answers when an operator cancelled it for one.
 */
export type CancellationData = { [K in ChangeType]: { of: K; incident?: string } & ChangeData<K> }[ChangeType];

export type FileEventData<T extends FileEventType> = T extends ChangeType ? ChangeData<T> : CancellationData;

/** The effect of an event on the projections: which part (and entry) it sets, to what. */
export type Effect = { [P in Part]: { part: P; key: string | null; value: PartValue<P> } }[Part];

export class FileEventDataError extends Error {
  override name = 'FileEventDataError';
}

/** Validates (and normalises) a value for a part of the file; the error names paths and rules, never values. */
export function parsePartValue<P extends Part>(part: P, value: unknown, label: string = part): PartValue<P> {
  const result = PART_VALUES[part].safeParse(value);
  if (!result.success) {
    const where = result.error.issues.map((i) => `${i.path.join('.') || 'value'}: ${i.message}`).join('; ');
    throw new FileEventDataError(`${label}: ${where}`);
  }
  return result.data as PartValue<P>;
}

export const parseValue = <T extends ChangeType>(type: T, value: unknown): ChangeValue<T> => parsePartValue(PART_OF[type], value, type) as ChangeValue<T>;

const UUID_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** A keyed part's entry is named by a lower-case UUID; a singleton part by nothing. */
export function parseKey(type: ChangeType, key: unknown): string | null {
  if (isKeyedPart(PART_OF[type])) {
    if (typeof key !== 'string' || !UUID_KEY.test(key)) throw new FileEventDataError(`${type}: key: not an entry id`);
    return key;
  }
  if (key !== null && key !== undefined) throw new FileEventDataError(`${type}: key: this part has no entries`);
  return null;
}

/** Reads a decrypted payload back into typed data (a stored payload that no longer parses is an error). */
export function parseData(type: FileEventType, raw: unknown): CancellationData | ChangeData<ChangeType> {
  if (typeof raw !== 'object' || raw === null) throw new FileEventDataError(`${type}: payload is not an object`);
  const o = raw as Record<string, unknown>;
  if (type === CANCELLED) {
    const of = o.of;
    if (typeof of !== 'string' || !isChangeType(of)) throw new FileEventDataError(`${type}: of: not a change type`);
    const incident = o.incident === undefined ? undefined : incidentReference.safeParse(o.incident);
    if (incident && !incident.success) throw new FileEventDataError(`${type}: incident: not an incident reference`);
    const data = { of, key: parseKey(of, o.key), before: parseValue(of, o.before), after: parseValue(of, o.after) } as CancellationData;
    return incident ? { ...data, incident: incident.data } : data;
  }
  return { key: parseKey(type, o.key), before: parseValue(type, o.before), after: parseValue(type, o.after) } as ChangeData<ChangeType>;
}

export function effectOf(type: FileEventType, data: CancellationData | ChangeData<ChangeType>): Effect {
  const of = type === CANCELLED ? (data as CancellationData).of : type;
  return { part: PART_OF[of], key: data.key, value: data.after } as Effect;
}
