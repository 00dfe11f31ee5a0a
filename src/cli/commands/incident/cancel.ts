import { UnknownIncidentError } from '../../../incident/incidents.ts';
import { cancelIncidentChanges, DEFAULT_BATCH_SIZE, NoCohortError, type CancelReport } from '../../../incident/cancel.ts';
import type { Command } from '../../command.ts';
import { CommandError, EXIT, print, UsageError } from '../../io.ts';
import { withRuntime } from '../../runtime.ts';
import { APPLY, dryRunHint, incidentFlags, operatorOf, output, windowFlags } from './common.ts';

const USAGE = 'sesame incident cancel --from INSTANT --to INSTANT [--cohort] [--batch-size N] [--incident INC-…] [--apply] [--json]';
const MAX_BATCH = 10_000;

function batchSizeFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_BATCH_SIZE;
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isInteger(n) || n < 1 || n > MAX_BATCH) throw new UsageError(`--batch-size must be a whole number of accounts from 1 to ${MAX_BATCH}`);
  return n;
}

const json = (r: CancelReport, from: Date, to: Date, applied: boolean) => ({
  reference: r.incident.reference,
  from: from.toISOString(),
  to: to.toISOString(),
  applied,
  cohortId: r.cohortId,
  accounts: r.accounts,
  batches: r.batches,
  changes: r.changes.map((c) => ({
    accountId: c.accountId,
    eventId: c.eventId,
    type: c.type,
    occurredAt: c.occurredAt.toISOString(),
    action: c.action,
    ...(c.laterEventId ? { laterEventId: c.laterEventId } : {}),
    ...(c.cancelledBy ? { cancelledBy: c.cancelledBy } : {}),
    ...(c.cancellationId ? { cancellationId: c.cancellationId } : {}),
  })),
  // A citizen's own cancellations in the window: never cancelled themselves.
  citizenCancellations: r.leftAlone.map((l) => ({ accountId: l.accountId, eventId: l.eventId, occurredAt: l.occurredAt.toISOString(), cancels: l.cancels })),
  counts: { cancel: r.counts.cancel, conflict: r.counts.conflict, alreadyCancelled: r.counts.alreadyCancelled },
});

function lines(r: CancelReport, from: Date, to: Date, applied: boolean, command: string): string[] {
  const scope = r.cohortId ? `the accounts of cohort ${r.cohortId}` : 'every account';
  const verb = applied ? 'cancelled' : 'to cancel';
  const out = [`${r.incident.reference}: changes made by citizens from ${from.toISOString()} to ${to.toISOString()} in ${scope} (${r.accounts} accounts)`];
  if (r.changes.length > 0) out.push('account                               event                                 type                      occurred at               action');
  for (const c of r.changes) {
    const action =
      c.action === 'cancel' ? verb : c.action === 'conflict' ? `conflict: changed again by ${c.laterEventId ?? '?'}, kept` : `already cancelled by ${c.cancelledBy ?? '?'}`;
    out.push(`${c.accountId}  ${c.eventId}  ${c.type.padEnd(24)}  ${c.occurredAt.toISOString()}  ${action}`);
  }
  for (const l of r.leftAlone) out.push(`${l.accountId}  ${l.eventId}  ${'event.cancelled'.padEnd(24)}  ${l.occurredAt.toISOString()}  left alone: the citizen's own cancellation of ${l.cancels}`);
  out.push(
    `${r.counts.cancel} ${verb}, ${r.counts.conflict} conflicts (kept: changed again after), ${r.counts.alreadyCancelled} already cancelled, ${r.counts.leftAlone} citizen cancellations left alone`,
  );
  if (!applied) out.push(dryRunHint(command));
  return out;
}

export const incidentCancelCommand: Command = {
  name: 'incident cancel',
  summary: 'cancel every change citizens made to their files in a window, with compensating events (dry run first)',
  usage: USAGE,
  async run(args, io) {
    const f = incidentFlags(args, { from: { type: 'string' }, to: { type: 'string' }, cohort: { type: 'boolean' }, 'batch-size': { type: 'string' }, ...APPLY });
    const { from, to } = windowFlags(f);
    const batchSize = batchSizeFlag(f['batch-size']);
    const apply = f.apply === true;
    const command = [
      'sesame incident cancel',
      `--from ${f.from ?? ''}`,
      `--to ${f.to ?? ''}`,
      ...(f.cohort ? ['--cohort'] : []),
      ...(f['batch-size'] !== undefined ? [`--batch-size ${batchSize}`] : []),
      ...(f.incident !== undefined ? [`--incident ${f.incident.toUpperCase()}`] : []),
    ].join(' ');
    return withRuntime(io, async (rt) => {
      const report = await cancelIncidentChanges(
        rt.db,
        { ring: rt.ring, clock: rt.clock },
        f.incident,
        {
          from,
          to,
          cohort: f.cohort === true,
          batchSize,
          apply,
          by: operatorOf(rt),
          // With --json stdout holds the document alone: progress goes to stderr. A pipe is
          // written synchronously on Linux, so each line is out before the next batch starts.
          afterBatch: (b) => print(f.json ? io.stderr : io.stdout, `batch ${b.batch}: ${b.cancelled} cancelled, ${b.conflicts} conflicts`),
        },
      ).catch((err: unknown) => {
        if (err instanceof UnknownIncidentError || err instanceof NoCohortError) throw new CommandError(err.message);
        throw err;
      });
      output(io, f.json, json(report, from, to, apply), () => lines(report, from, to, apply, command));
      return EXIT.ok;
    });
  },
};
