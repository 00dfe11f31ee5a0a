import { system } from '../../../db/contexts.ts';
import { thousands, Progress } from '../../../import/progress.ts';
import { isNoticeTemplate, NOTICE_TEMPLATES, notifyCohort } from '../../../incident/notify.ts';
import { DpoConfigError } from '../../../incident/notify-params.ts';
import { MailRenderError } from '../../../mail/render.ts';
import { countStates, noticeStatuses } from '../../../incident/notify-status.ts';
import type { Command } from '../../command.ts';
import { CommandError, EXIT, print, UsageError, type CliIo } from '../../io.ts';
import { withRuntime } from '../../runtime.ts';
import { APPLY, dryRunHint, incidentFlags, inIncident, operatorOf, output } from './common.ts';
import { incidentCohort } from './reset-credentials.ts';

const USAGE = `sesame incident notify --cohort --template ${NOTICE_TEMPLATES.join('|')} [--rate N] [--incident INC-…] [--apply] [--json]
       sesame incident notify --status [--incident INC-…] [--json]`;
const DEFAULT_RATE = 20;
const MAX_RATE = 1000;

function rateFlag(value: string | undefined): number {
  if (value === undefined) return DEFAULT_RATE;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > MAX_RATE) throw new UsageError(`--rate must be a whole number of mails per second from 1 to ${MAX_RATE}`);
  return n;
}

async function status(io: CliIo, f: { incident?: string; json?: boolean }): Promise<number> {
  return withRuntime(io, (rt) =>
    system(rt.db, 'cli:incident-notify-status', async (tx) => {
      const incident = await inIncident(tx, f.incident);
      const all = await noticeStatuses(tx, incident);
      const counts = countStates(all);
      const recipients = all.map((s) => ({ accountId: s.accountId, template: s.template, status: s.state, attempts: s.attempts, queuedAt: s.queuedAt.toISOString(), sentAt: s.sentAt?.toISOString() ?? null, lastError: s.lastError }));
      output(io, f.json, { reference: incident.reference, counts, recipients }, () => [
        `${incident.reference}: ${all.length} notices: ${counts.sent} sent, ${counts.queued} queued, ${counts.failed} failed`,
        ...(all.length > 0 ? ['account                               template                    status  attempts'] : []),
        ...all.map((s) => `${s.accountId}  ${s.template.padEnd(26)}  ${s.state.padEnd(6)}  ${s.attempts}${s.lastError ? `  (${s.lastError})` : ''}`),
      ]);
      return EXIT.ok;
    }),
  );
}

export const incidentNotifyCommand: Command = {
  name: 'incident notify',
  summary: 'mail each person of the cohort a notice, once, through the outbox (dry run first); --status: where each notice is',
  usage: USAGE,
  async run(args, io) {
    const f = incidentFlags(args, { cohort: { type: 'boolean' }, template: { type: 'string' }, rate: { type: 'string' }, status: { type: 'boolean' }, ...APPLY });
    if (f.status) {
      for (const flag of ['cohort', 'template', 'rate', 'apply'] as const) if (f[flag] !== undefined) throw new UsageError(`--${flag} does not go with --status`);
      return status(io, f);
    }
    if (!f.cohort) throw new UsageError('--cohort is required: notices go to the incident’s latest saved cohort');
    if (f.template === undefined) throw new UsageError(`--template is required: ${NOTICE_TEMPLATES.join(' or ')}`);
    if (!isNoticeTemplate(f.template)) throw new UsageError(`--template must be ${NOTICE_TEMPLATES.join(' or ')}`);
    const template = f.template;
    const rate = rateFlag(f.rate);
    const apply = f.apply === true;
    return withRuntime(io, async (rt) => {
      const { incident, cohort } = await incidentCohort(rt, f.incident);
      const stderr = io.stderr as NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
      let progress: Progress | undefined;
      let total = 0;
      let queuedSoFar = 0;
      const { counts: c, withoutAddress } = await notifyCohort(
        { db: rt.db, ring: rt.ring, clock: rt.clock, config: rt.config },
        {
          incident,
          cohort,
          template,
          by: operatorOf(rt),
          apply,
          rate,
          onStart: (n) => {
            total = n;
            if (!f.json) print(io.stdout, `${incident.reference}: queuing ${thousands(n)} notices at ${rate} per second`);
            progress = new Progress(io.stderr, { label: 'notify', totalBytes: n, now: () => performance.now(), tty: stderr.isTTY === true, columns: stderr.columns, unit: 'mails' });
          },
          onBatch: (handled, queued) => {
            queuedSoFar = queued;
            progress?.update(handled, queued);
          },
        },
      ).catch((err: unknown) => {
        // Both name a variable or a reason code, never a value: nothing was queued.
        if (err instanceof DpoConfigError || err instanceof MailRenderError) throw new CommandError(`${err.message}; nothing was queued`);
        throw err;
      });
      progress?.update(total, queuedSoFar, true);
      progress?.end();
      const doc = { reference: incident.reference, template, applied: apply, cohortId: cohort.id, recipients: c.recipients, queued: c.queued, alreadyNotified: c.alreadyNotified, noAddress: c.noAddress, notReset: c.notReset, withoutAddress };
      output(io, f.json, doc, () => [
        `${incident.reference}: ${template} notice for cohort ${cohort.id}: ${c.recipients} recipients`,
        `${c.queued} ${apply ? 'queued' : 'to queue'}, ${c.alreadyNotified} already notified (not sent again), ${c.noAddress} without an email address`,
        ...(c.noAddress > 0 ? ['write to those without an address by post (the Article 34 text of `sesame incident report`): --json lists their account ids'] : []),
        ...(c.notReset > 0 ? [`${c.notReset} cohort members were not reset for this incident: they do not get this notice (run reset-credentials first, or send data-exposed)`] : []),
        ...(apply ? ['the mail worker delivers them with its retries; follow with `sesame incident notify --status`'] : [dryRunHint(`sesame incident notify --cohort --template ${template}${f.rate ? ` --rate ${rate}` : ''}${f.incident ? ` --incident ${f.incident.toUpperCase()}` : ''}`)]),
      ]);
      return EXIT.ok;
    });
  },
};
