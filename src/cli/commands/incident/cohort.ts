import { COHORT_CATEGORIES } from '../../../incident/cohort-store.ts';
import { runCohort, type CohortRun } from '../../../incident/cohort.ts';
import { UnknownIncidentError } from '../../../incident/incidents.ts';
import type { Command } from '../../command.ts';
import { CommandError, EXIT } from '../../io.ts';
import { withRuntime } from '../../runtime.ts';
import { APPLY, dryRunHint, incidentFlags, instantFlag, operatorOf, output, windowFlags } from './common.ts';

const USAGE =
  'sesame incident cohort --from 2021-10-14T08:00:00+02:00 --to 2021-10-14T19:00:00+02:00 [--exclude-password-changed-before INSTANT] [--only-touched-by-others] [--incident INC-…] [--apply] [--json]';

/** The same computation written out in full, instants in UTC, for the dry run's hint. */
function commandLine(run: CohortRun, o: { from: Date; to: Date; exclude: Date | undefined; onlyTouched: boolean }): string {
  return [
    'sesame incident cohort',
    `--incident ${run.incident.reference}`,
    `--from ${o.from.toISOString()}`,
    `--to ${o.to.toISOString()}`,
    ...(o.exclude ? [`--exclude-password-changed-before ${o.exclude.toISOString()}`] : []),
    ...(o.onlyTouched ? ['--only-touched-by-others'] : []),
  ].join(' ');
}

export const incidentCohortCommand: Command = {
  name: 'incident cohort',
  summary: 'count the accounts an incident affected in a window, by category (--apply saves them as the cohort the next steps use)',
  usage: USAGE,
  async run(args, io) {
    const f = incidentFlags(args, {
      from: { type: 'string' },
      to: { type: 'string' },
      'exclude-password-changed-before': { type: 'string' },
      'only-touched-by-others': { type: 'boolean' },
      ...APPLY,
    });
    const { from, to } = windowFlags(f);
    const exclude = instantFlag('exclude-password-changed-before', f['exclude-password-changed-before'], false);
    const onlyTouched = f['only-touched-by-others'] === true;
    const apply = f.apply === true;
    return withRuntime(io, async (rt) => {
      const run = await runCohort(rt.db, rt.clock, {
        from,
        to,
        excludePasswordChangedBefore: exclude ?? null,
        onlyTouchedByOthers: onlyTouched,
        incident: f.incident,
        by: operatorOf(rt),
        apply,
      }).catch((err: unknown) => {
        throw err instanceof UnknownIncidentError ? new CommandError(err.message) : err;
      });
      const { cohort } = run;
      const doc = {
        reference: run.incident.reference,
        from: from.toISOString(),
        to: to.toISOString(),
        total: cohort.total,
        byCategory: { ...cohort.byCategory },
        excludedPasswordChanged: cohort.excludedPasswordChanged,
        cohortId: run.cohortId,
        members: cohort.members.map((m) => m.accountId),
      };
      output(io, f.json, doc, () => {
        const width = Math.max(...COHORT_CATEGORIES.map((c) => c.length));
        return [
          `${run.incident.reference}: accounts affected from ${doc.from} to ${doc.to} (end excluded)${onlyTouched ? ', only those touched by another account' : ''}`,
          ...COHORT_CATEGORIES.map((c) => `  ${c.padEnd(width)}  ${cohort.byCategory[c]}`),
          `  ${'total'.padEnd(width)}  ${cohort.total} distinct accounts (one account can be in several categories)`,
          ...(exclude ? [`  excluded: ${cohort.excludedPasswordChanged} accounts whose password was last changed before ${exclude.toISOString()}`] : []),
          ...(run.cohortId
            ? [`saved cohort ${run.cohortId} (${cohort.total} accounts): --cohort on the next incident commands now means this list`]
            : ['the cohort was not saved.', dryRunHint(commandLine(run, { from, to, exclude, onlyTouched }))]),
        ];
      });
      return EXIT.ok;
    });
  },
};
