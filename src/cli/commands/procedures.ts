import { parseArgs } from 'node:util';
import { audit } from '../../audit/log.ts';
import { system } from '../../db/contexts.ts';
import type { Actor } from '../../file/events.ts';
import { AGENCY_DECISIONS, isAgencyDecision } from '../../file/procedures/catalogue.ts';
import { changeProcedureStatus, StatusTransitionError, UnknownProcedureError } from '../../file/procedures/status.ts';
import type { Command } from '../command.ts';
import { CommandError, EXIT, UsageError, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';

const REFERENCE = /^[A-Z0-9-]{6,32}$/;
const ACTOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:@-]{0,127}$/;
const MAX_NOTE = 2000;

function parse(args: string[]): { reference: string; status: (typeof AGENCY_DECISIONS)[number]; note: string | null; agency: string | undefined } {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { note: { type: 'string' }, agency: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true, allowPositionals: true });
  } catch (err) {
    // parseArgs names the flag, never a value.
    throw new UsageError((err as Error).message.split('\n')[0] ?? 'invalid arguments');
  }
  const [reference, status, ...extra] = parsed.positionals;
  if (reference === undefined || status === undefined) throw new UsageError('a procedure reference and a status are required');
  if (extra.length > 0) throw new UsageError('unexpected extra argument: put a note that contains spaces in quotes');
  const ref = reference.toUpperCase();
  if (!REFERENCE.test(ref)) throw new UsageError('not a procedure reference (like D-2026-7KQ4M2XH)');
  if (!isAgencyDecision(status)) throw new UsageError(`status must be one of ${AGENCY_DECISIONS.join(', ')}`);
  const note = parsed.values.note?.trim() ?? null;
  if (note !== null && (note === '' || note.length > MAX_NOTE || /[\u0000-\u001f\u007f]/.test(note))) throw new UsageError(`--note must be 1 to ${MAX_NOTE} characters on one line`);
  const agency = parsed.values.agency;
  if (agency !== undefined && !ACTOR_ID.test(agency)) throw new UsageError('--agency must be an agency code (letters, digits, . _ : @ -)');
  return { reference: ref, status, note, agency };
}

/** The operator's login as an actor id (an odd character in a login name is replaced, not refused). */
const operatorActor = (name: string): string => (ACTOR_ID.test(name) ? name : `op-${name.replace(/[^A-Za-z0-9._:@-]/g, '_')}`.slice(0, 128));

export const proceduresStatusCommand: Command = {
  name: 'procedures status',
  summary: "record the agency's decision on a procedure: in-review, accepted or rejected",
  usage: 'sesame procedures status REFERENCE in-review|accepted|rejected [--note TEXT] [--agency CODE]',
  async run(args, io) {
    const { reference, status, note, agency } = parse(args);
    return withRuntime(io, async (rt) => {
      // By default the operator running the command decides; --agency records the agency's system as the author.
      const actor: Actor = agency !== undefined ? { kind: 'agency', id: agency } : { kind: 'operator', id: operatorActor(rt.operator) };
      const done = await system(rt.db, 'cli:procedures-status', async (tx) => {
        const change = await changeProcedureStatus(tx, { ring: rt.ring, clock: rt.clock }, { reference, status, note, actor });
        await audit(tx, rt.clock, { type: 'procedure.status-changed', accountId: change.accountId, payload: { procedureId: change.id, from: change.from, to: change.to, by: actor.kind === 'agency' ? 'agency' : 'operator' } }, actor.kind === 'operator' ? rt.operator : undefined);
        return change;
      }).catch((err: unknown) => {
        if (err instanceof UnknownProcedureError || err instanceof StatusTransitionError) throw new CommandError(err.message);
        throw err;
      });
      print(io.stdout, `${reference}: ${done.from} → ${done.to}`);
      return EXIT.ok;
    });
  },
};
