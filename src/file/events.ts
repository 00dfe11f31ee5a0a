import { isDeepStrictEqual } from 'node:util';
import { UUID, type Tx } from '../db/contexts.ts';
import type { KeyRing } from '../crypto/keyring.ts';
import type { FieldCipher } from '../crypto/envelope.ts';
import { newId } from '../crypto/random.ts';
import { accountCipher } from '../accounts/account-keys.ts';
import type { CryptoDeps } from '../accounts/accounts.ts';
import {
  CANCELLED,
  effectOf,
  FileEventDataError,
  isFileEventType,
  parseData,
  parseValue,
  type CancellationData,
  type ChangeData,
  type ChangeType,
  type ChangeValue,
  type Effect,
  type FileEventType,
} from './catalogue.ts';
import * as bankDetails from './projections/bank-details.ts';
import * as contact from './projections/contact.ts';

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
}

/** What a projection is told when an event is applied. */
export interface AppliedEffect {
  accountId: string;
  seq: number;
  occurredAt: Date;
  effect: Effect;
}

export class StaleFileError extends Error {
  override name = 'StaleFileError';
  constructor(part: ChangeType) {
    super(`${part}: the file changed since it was read`);
  }
}
export class NoChangeError extends Error {
  override name = 'NoChangeError';
  constructor(part: ChangeType) {
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

/** The projection that holds a part of the file. Resolved when called (the projections import this module). */
export function projectionOf(part: ChangeType): typeof contact | typeof bankDetails {
  return part === 'bank-details.changed' ? bankDetails : contact;
}

/** The current value of one part of the file, from its projection. */
export function currentValue<T extends ChangeType>(tx: Tx, deps: FileDeps, cipher: FieldCipher, accountId: string, part: T): Promise<ChangeValue<T>> {
  return projectionOf(part).current(tx, deps, cipher, accountId, part) as Promise<ChangeValue<T>>;
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
  if (input.type === CANCELLED) {
    if (!UUID.test(input.cancels)) throw new UnknownFileEventError('no such event in this file');
    const target = await readEvent(tx, deps.ring, input.accountId, input.cancels);
    if (!target) throw new UnknownFileEventError('no such event in this file');
    if (target.type === CANCELLED) throw new CancellationError('a cancellation is not itself cancelled: record a new change instead');
    const already = await tx.query(`SELECT 1 FROM file_events WHERE cancels = $1`, [target.id]);
    if (already.rows.length > 0) throw new CancellationError('this event was already cancelled');
    const part = target.type;
    const current = await currentValue(tx, deps, cipher, input.accountId, part);
    data = { of: part, before: current, after: (target.data as ChangeData<ChangeType>).before } as CancellationData;
    cancels = target.id;
  } else {
    const part = input.type;
    const after = parseValue(part, input.after);
    const current = await currentValue(tx, deps, cipher, input.accountId, part);
    if (input.before !== undefined && !isDeepStrictEqual(parseValue(part, input.before), current)) throw new StaleFileError(part);
    if (isDeepStrictEqual(after, current)) throw new NoChangeError(part);
    data = { before: current, after } as ChangeData<ChangeType>;
  }

  const id = newId();
  const occurredAt = deps.clock.now();
  const { rows } = await tx.query<{ seq: string }>(
    `INSERT INTO file_events (id, account_id, type, payload, actor_kind, actor_id, session_id, level, occurred_at, cancels)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING seq::text AS seq`,
    [id, input.accountId, input.type, cipher.encryptJson(payloadField(id, input.type), data), input.actor.kind, input.actor.id, input.sessionId, input.level, occurredAt, cancels],
  );
  const seq = Number(rows[0]?.seq);
  const effect = effectOf(input.type, data);
  await projectionOf(effect.part).apply(tx, deps, { accountId: input.accountId, seq, occurredAt, effect });
  return { id, seq, occurredAt };
}

/** Undoes an earlier change with a compensating event that sets the part back to its value before that change. */
export function cancelEvent(tx: Tx, deps: FileDeps, input: Common & { eventId: string }): Promise<{ id: string; seq: number; occurredAt: Date }> {
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
}

const COLUMNS = `id, account_id, seq::text AS seq, type, payload, actor_kind, actor_id, session_id, level, occurred_at, cancels`;

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
