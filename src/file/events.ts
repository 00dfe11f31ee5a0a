import { isDeepStrictEqual } from 'node:util';
import { UUID, type Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { FieldCipher } from '../crypto/envelope.ts';
import { newId } from '../crypto/random.ts';
import { accountCipher, rememberCipher } from '../accounts/account-keys.ts';
import type { CryptoDeps } from '../accounts/accounts.ts';
import {
  CANCELLED,
  effectOf,
  FileEventDataError,
  INCIDENT_REFERENCE,
  isFileEventType,
  PART_OF,
  parseData,
  parseKey,
  parseValue,
  type CancellationData,
  type ChangeData,
  type ChangeType,
  type ChangeValue,
  type Effect,
  type FileEventType,
  type Part,
  type PartValue,
  type ProcedureValue,
} from './catalogue.ts';
import * as bankDetails from './projections/bank-details.ts';
import * as contact from './projections/contact.ts';
import * as payments from './projections/payments.ts';
import * as procedures from './projections/procedures.ts';

/**
 * The beneficiary's file as an append-only log (DESIGN principle 7). appendEvent is the
 * only way a part of the file changes: it numbers the event under a per-account lock,
 * encrypts its before/after under the account's data key, inserts it and applies it to the
 * projection, all in the caller's transaction. A change is undone by a compensating event
 * (cancelEvent), never by editing or deleting the event.
 */

export type FileDeps = CryptoDeps;
export type ActorKind = 'citizen' | 'agency' | 'operator' | 'system';
export interface Actor {
  kind: ActorKind;
  /** The account id for a citizen; an agency code, an operator's login, a worker's name otherwise. */
  id: string;
}
export type Level = 'eidas1' | 'eidas2' | 'eidas3';

interface Common {
  accountId: string;
  actor: Actor;
  sessionId: string | null;
  level: Level | null;
}

export interface ChangeInput<T extends ChangeType> extends Common {
  type: T;
  /** The entry of a keyed part (a procedure's or payment's id); omitted for singleton parts. */
  key?: string;
  /** When the change takes effect, if later than now (the hold period of new bank details). */
  effectiveAt?: Date | null;
  /**
   * The value the caller believes is current (what the form showed). When given and the
   * file has changed since, the append is refused (StaleFileError) instead of silently
   * overwriting. The recorded `before` is always the value actually replaced.
   */
  before?: ChangeValue<T>;
  after: ChangeValue<T>;
}

export interface CancelInput extends Common {
  type: typeof CANCELLED;
  /** The id of the earlier change (same account) to undo. */
  cancels: string;
  /** The incident this cancellation answers (an operator's `incident cancel`): kept on the event, shown on a cancelled procedure. */
  incident?: string;
}

export type AppendInput = { [K in ChangeType]: ChangeInput<K> }[ChangeType] | CancelInput;

export interface FileEvent {
  id: string;
  accountId: string;
  seq: number;
  type: FileEventType;
  data: ChangeData<ChangeType> | CancellationData;
  /** What the event does to the projections (a cancellation sets the part back). */
  effect: Effect;
  actor: Actor;
  sessionId: string | null;
  level: Level | null;
  occurredAt: Date;
  cancels: string | null;
  effectiveAt: Date | null;
}

/** What a projection is told when an event is applied. */
export interface AppliedEffect {
  eventId: string;
  accountId: string;
  seq: number;
  occurredAt: Date;
  effectiveAt: Date | null;
  effect: Effect;
}

/** What every projection module offers appendEvent and the rebuild. */
export interface Projection {
  current(tx: Tx, deps: FileDeps, cipher: FieldCipher, accountId: string, part: Part, key: string | null): Promise<PartValue<Part>>;
  apply(tx: Tx, deps: FileDeps, event: AppliedEffect): Promise<void>;
  /** Recomputes the projection from the events; returns how many of its rows or parts were corrected. */
  rebuild(tx: Tx, deps: FileDeps, accountId: string, events: readonly FileEvent[]): Promise<number>;
}

export class StaleFileError extends Error {
  override name = 'StaleFileError';
  constructor(part: Part) {
    super(`${part}: the file changed since it was read`);
  }
}
export class NoChangeError extends Error {
  override name = 'NoChangeError';
  constructor(part: Part) {
    super(`${part}: the new value is the current one`);
  }
}
export class UnknownFileEventError extends Error {
  override name = 'UnknownFileEventError';
}
export class CancellationError extends Error {
  override name = 'CancellationError';
}
export class ShreddedFileError extends Error {
  override name = 'ShreddedFileError';
  constructor() {
    super("the account's data key was shredded: its file can no longer change");
  }
}

const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const ACTOR_KINDS: readonly ActorKind[] = ['citizen', 'agency', 'operator', 'system'];
const LEVELS: readonly Level[] = ['eidas1', 'eidas2', 'eidas3'];

/** The event's id and type are in the AAD: a payload copied onto another event, or relabelled, does not decrypt. */
const payloadField = (eventId: string, type: FileEventType): string => `file_event:${eventId}:${type}`;

/** Serialises everything that reads-then-writes one account's file, until the transaction ends. */
export async function lockFile(tx: Tx, accountId: string): Promise<void> {
  await tx.query(`SELECT pg_advisory_xact_lock(hashtextextended('file:' || $1, 0))`, [accountId]);
}

const PROJECTIONS: Record<Part, Projection> = {
  'contact.email-changed': contact,
  'contact.phone-changed': contact,
  'contact.address-changed': contact,
  'bank-details.changed': bankDetails,
  procedure: procedures,
  payment: payments,
};

/** The projection that holds a part of the file. */
export const projectionOf = (part: Part): Projection => PROJECTIONS[part];

/** Every projection once, in the order a rebuild runs them. */
export const ALL_PROJECTIONS: readonly Projection[] = [contact, bankDetails, procedures, payments];

/** The current value of one part (or keyed entry) of the file, from its projection. */
export function currentValue<P extends Part>(tx: Tx, deps: FileDeps, cipher: FieldCipher, accountId: string, part: P, key: string | null): Promise<PartValue<P>> {
  return projectionOf(part).current(tx, deps, cipher, accountId, part, key) as Promise<PartValue<P>>;
}

/**
 * What cancelling a change sets its part back to: a withdrawn procedure stays listed, as
 * cancelled (naming the incident, if it was cancelled for one).
 */
function compensation(type: ChangeType, current: unknown, target: ChangeData<ChangeType>, incident: string | undefined): unknown {
  if (type === 'procedure.submitted') {
    const base = (current ?? target.after) as ProcedureValue | null;
    return base ? { ...base, status: 'cancelled', ...(incident ? { incident } : {}) } : null;
  }
  return target.before;
}

export async function appendEvent(tx: Tx, deps: FileDeps, input: AppendInput): Promise<{ id: string; seq: number; occurredAt: Date }> {
  if (!isFileEventType(input.type)) throw new FileEventDataError('unknown file event type');
  if (!ACTOR_KINDS.includes(input.actor.kind) || !ACTOR_ID.test(input.actor.id)) throw new FileEventDataError('actor: not a valid actor');
  if (input.level !== null && !LEVELS.includes(input.level)) throw new FileEventDataError('level: not a level');
  const cipher = await accountCipher(tx, deps.ring, input.accountId);
  if (!cipher) throw new ShreddedFileError();
  await lockFile(tx, input.accountId);

  let data: ChangeData<ChangeType> | CancellationData;
  let cancels: string | null = null;
  let effectiveAt: Date | null = null;
  const occurredAt = deps.clock.now();
  if (input.type === CANCELLED) {
    if (!UUID.test(input.cancels)) throw new UnknownFileEventError('no such event in this file');
    const target = await readEvent(tx, deps.ring, input.accountId, input.cancels);
    if (!target) throw new UnknownFileEventError('no such event in this file');
    if (target.type === CANCELLED) throw new CancellationError('a cancellation is not itself cancelled: record a new change instead');
    const already = await tx.query(`SELECT 1 FROM file_events WHERE cancels = $1`, [target.id]);
    if (already.rows.length > 0) throw new CancellationError('this event was already cancelled');
    const of = target.type;
    const targetData = target.data as ChangeData<ChangeType>;
    const current = await currentValue(tx, deps, cipher, input.accountId, PART_OF[of], targetData.key);
    if (input.incident !== undefined && !INCIDENT_REFERENCE.test(input.incident)) throw new FileEventDataError('incident: not an incident reference');
    data = { of, key: targetData.key, before: current, after: parseValue(of, compensation(of, current, targetData, input.incident)) } as CancellationData;
    if (input.incident !== undefined) data = { ...data, incident: input.incident };
    cancels = target.id;
  } else {
    const type = input.type;
    const part = PART_OF[type];
    const key = parseKey(type, input.key);
    const after = parseValue(type, input.after);
    const current = await currentValue(tx, deps, cipher, input.accountId, part, key);
    if (input.before !== undefined && !isDeepStrictEqual(parseValue(type, input.before), current)) throw new StaleFileError(part);
    if (isDeepStrictEqual(after, current)) throw new NoChangeError(part);
    if (type === 'procedure.submitted' && current !== null) throw new FileEventDataError(`${type}: key: this procedure already exists`);
    if (input.effectiveAt) {
      if (type !== 'bank-details.changed') throw new FileEventDataError(`${type}: effectiveAt: only new bank details wait`);
      if (input.effectiveAt.getTime() > occurredAt.getTime()) effectiveAt = input.effectiveAt;
    }
    data = { key, before: current, after } as ChangeData<ChangeType>;
  }

  const id = newId();
  const { rows } = await tx.query<{ seq: string }>(
    `INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, session_id, level, occurred_at, cancels, effective_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11) RETURNING seq::text AS seq`,
    [id, input.accountId, input.type, cipher.encryptJson(payloadField(id, input.type), data), input.actor.kind, input.actor.id, input.sessionId, input.level, occurredAt, cancels, effectiveAt],
  );
  const seq = Number(rows[0]?.seq);
  const effect = effectOf(input.type, data);
  await projectionOf(effect.part).apply(tx, deps, { eventId: id, accountId: input.accountId, seq, occurredAt, effectiveAt, effect });
  return { id, seq, occurredAt };
}

/** Undoes an earlier change with a compensating event that sets the part back to its value before that change. */
export function cancelEvent(tx: Tx, deps: FileDeps, input: Common & { eventId: string; incident?: string }): Promise<{ id: string; seq: number; occurredAt: Date }> {
  const { eventId, ...common } = input;
  return appendEvent(tx, deps, { ...common, type: CANCELLED, cancels: eventId });
}

interface EventRow extends Record<string, unknown> {
  id: string;
  account_id: string;
  seq: string;
  type: string;
  payload: Uint8Array;
  actor_kind: ActorKind;
  actor_id: string;
  session_id: string | null;
  level: Level | null;
  occurred_at: Date;
  cancels: string | null;
  effective_at: Date | null;
}

const COLUMNS = `id, account_id, seq::text AS seq, type, payload, actor_kind, actor_id, session_id, level, occurred_at, cancels, effective_at`;

function decode(cipher: FieldCipher, row: EventRow): FileEvent {
  if (!isFileEventType(row.type)) throw new FileEventDataError('unknown file event type in the log');
  const type = row.type;
  const data = parseData(type, cipher.decryptJson(payloadField(row.id, type), Buffer.from(row.payload)));
  return {
    id: row.id,
    accountId: row.account_id,
    seq: Number(row.seq),
    type,
    data,
    effect: effectOf(type, data),
    actor: { kind: row.actor_kind, id: row.actor_id },
    sessionId: row.session_id,
    level: row.level,
    occurredAt: row.occurred_at,
    cancels: row.cancels,
    effectiveAt: row.effective_at,
  };
}

/**
 * The account's events in order, decrypted. Empty when the account's key was shredded (the
 * values are gone) or the account is not visible in this context. A payload that does not
 * authenticate throws DecryptionError: the log was tampered with.
 */
export async function readEvents(tx: Tx, ring: KeyRing, accountId: string): Promise<FileEvent[]> {
  const [{ rows }, cipher] = await Promise.all([
    tx.query<EventRow>(`SELECT ${COLUMNS} FROM file_events WHERE account_id = $1 ORDER BY file_events.seq`, [accountId]),
    accountCipher(tx, ring, accountId),
  ]);
  if (!cipher) return [];
  return rows.map((row) => decode(cipher, row));
}

/** One event of the account, decrypted; null when there is no such event in this file. */
export async function readEvent(tx: Tx, ring: KeyRing, accountId: string, eventId: string): Promise<FileEvent | null> {
  const [{ rows }, cipher] = await Promise.all([
    tx.query<EventRow>(`SELECT ${COLUMNS} FROM file_events WHERE account_id = $1 AND id = $2`, [accountId, eventId]),
    accountCipher(tx, ring, accountId),
  ]);
  const row = rows[0];
  return row && cipher ? decode(cipher, row) : null;
}

/** The event as its projection was told it, for a rebuild that folds the events again. */
export const appliedOf = (e: FileEvent): AppliedEffect => ({
  eventId: e.id,
  accountId: e.accountId,
  seq: e.seq,
  occurredAt: e.occurredAt,
  effectiveAt: e.effectiveAt,
  effect: e.effect,
});

export interface InitialEvent {
  accountId: string;
  /** The new account's cipher (its key was generated in this transaction). */
  cipher: FieldCipher;
  type: ChangeType;
  key?: string;
  after: unknown;
  actor: Actor;
  effectiveAt?: Date | null;
}

/**
 * The first events of accounts created in this same transaction (an import): every part is
 * still empty, so there is nothing to read, lock or compare; the events go in one INSERT and
 * their projections are written together (pipelined). Each event's `before` is null.
 */
export async function appendInitialEvents(tx: Tx, deps: FileDeps, items: readonly InitialEvent[]): Promise<void> {
  if (items.length === 0) return;
  const occurredAt = deps.clock.now();
  const prepared = items.map((item) => {
    const key = parseKey(item.type, item.key);
    const after = parseValue(item.type, item.after);
    if (after === null) throw new FileEventDataError(`${item.type}: an initial event sets a value`);
    if (!ACTOR_KINDS.includes(item.actor.kind) || !ACTOR_ID.test(item.actor.id)) throw new FileEventDataError('actor: not a valid actor');
    const effectiveAt = item.effectiveAt && item.effectiveAt.getTime() > occurredAt.getTime() ? item.effectiveAt : null;
    const id = newId();
    const data = { key, before: null, after } as ChangeData<ChangeType>;
    rememberCipher(tx, item.accountId, item.cipher);
    return { id, item, data, effectiveAt, payload: item.cipher.encryptJson(payloadField(id, item.type), data) };
  });
  const { rows } = await tx.query<{ id: string; seq: string }>(
    `INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, occurred_at, effective_at)
     SELECT u.id, u.account_id, u.type, u.payload, u.actor_kind, u.actor_id, $7, u.effective_at
       FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::bytea[], $5::text[], $6::text[], $8::timestamptz[])
         AS u (id, account_id, type, payload, actor_kind, actor_id, effective_at)
     RETURNING id, seq::text AS seq`,
    [
      prepared.map((p) => p.id),
      prepared.map((p) => p.item.accountId),
      prepared.map((p) => p.item.type),
      prepared.map((p) => p.payload),
      prepared.map((p) => p.item.actor.kind),
      prepared.map((p) => p.item.actor.id),
      occurredAt,
      prepared.map((p) => p.effectiveAt),
    ],
  );
  const seqOf = new Map(rows.map((r) => [r.id, Number(r.seq)]));
  // Issued in one tick: the statements leave together and come back in order.
  await Promise.all(
    prepared.map((p) => {
      const effect = effectOf(p.item.type, p.data);
      return projectionOf(effect.part).apply(tx, deps, {
        eventId: p.id,
        accountId: p.item.accountId,
        seq: seqOf.get(p.id) ?? 0,
        occurredAt,
        effectiveAt: p.effectiveAt,
        effect,
      });
    }),
  );
}
