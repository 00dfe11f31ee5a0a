import { system } from '../../../db/contexts.ts';
import { latestCohort, type Cohort } from '../../../incident/cohort-store.ts';
import type { Incident } from '../../../incident/incidents.ts';
import { resetCredentials } from '../../../incident/reset-credentials.ts';
import type { Command } from '../../command.ts';
import { CommandError, EXIT, UsageError } from '../../io.ts';
import { withRuntime, type Runtime } from '../../runtime.ts';
import { APPLY, dryRunHint, incidentFlags, inIncident, operatorOf, output } from './common.ts';

const USAGE = 'sesame incident reset-credentials --cohort [--incident INC-…] [--apply] [--json]';

/** The incident and its latest saved cohort (what `--cohort` means), or a CommandError saying how to get one. */
export async function incidentCohort(rt: Runtime, reference: string | undefined): Promise<{ incident: Incident; cohort: Cohort }> {
  return system(rt.db, 'cli:incident', async (tx) => {
    const incident = await inIncident(tx, reference);
    const cohort = await latestCohort(tx, incident);
    if (!cohort) throw new CommandError(`${incident.reference} has no saved cohort: compute one with \`sesame incident cohort --from … --to … --apply\``);
    return { incident, cohort };
  });
}

export const incidentResetCredentialsCommand: Command = {
  name: 'incident reset-credentials',
  summary: "end the cohort's sessions, make their passwords unusable until renewed, remove authenticators added in the window (dry run first)",
  usage: USAGE,
  async run(args, io) {
    const f = incidentFlags(args, { cohort: { type: 'boolean' }, ...APPLY });
    if (!f.cohort) throw new UsageError('--cohort is required: the reset applies to the incident’s latest saved cohort');
    const apply = f.apply === true;
    return withRuntime(io, async (rt) => {
      const { incident, cohort } = await incidentCohort(rt, f.incident);
      const c = await resetCredentials(rt.db, rt.clock, { incident, cohort, by: operatorOf(rt), apply });
      const doc = { reference: incident.reference, applied: apply, cohortId: cohort.id, accounts: c.accounts, sessionsEnded: c.sessionsEnded, authenticatorsRemoved: c.authenticatorsRemoved, alreadyReset: c.alreadyReset, missing: c.missing };
      const verb = apply ? 'reset' : 'to reset';
      output(io, f.json, doc, () => [
        `${incident.reference}: cohort ${cohort.id} (${cohort.members.length} accounts, window ${cohort.from.toISOString()} to ${cohort.to.toISOString()})`,
        `${c.accounts} accounts ${verb}: ${c.sessionsEnded} sessions ${apply ? 'ended' : 'to end'}, ${c.authenticatorsRemoved} authenticators added in the window ${apply ? 'removed' : 'to remove'}; passwords ${apply ? 'made' : 'to make'} unusable until renewed with "Mot de passe oublié"`,
        `${c.alreadyReset} already reset for this incident (left alone)${c.missing > 0 ? `, ${c.missing} accounts no longer exist` : ''}`,
        ...(apply ? ['next: tell them, with `sesame incident notify --cohort --template credentials-reset`'] : [dryRunHint(`sesame incident reset-credentials --cohort${f.incident ? ` --incident ${f.incident.toUpperCase()}` : ''}`)]),
      ]);
      return EXIT.ok;
    });
  },
};
