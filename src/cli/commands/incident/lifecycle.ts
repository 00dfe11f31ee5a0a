import { system } from '../../../db/contexts.ts';
import { closeIncident, listIncidents, openIncident, timelineOf, TITLE_MAX, UnknownIncidentError, type Incident, type IncidentStep } from '../../../incident/incidents.ts';
import type { Command } from '../../command.ts';
import { CommandError, EXIT, UsageError } from '../../io.ts';
import { withRuntime } from '../../runtime.ts';
import { incidentFlags, inIncident, instantFlag, operatorOf, output } from './common.ts';

const incidentJson = (i: Incident) => ({
  reference: i.reference,
  title: i.title,
  detectedAt: i.detectedAt.toISOString(),
  openedAt: i.openedAt.toISOString(),
  openedBy: i.openedBy,
  closedAt: i.closedAt?.toISOString() ?? null,
});

const stepJson = (s: IncidentStep) => ({ at: s.at.toISOString(), by: s.by, step: s.kind, applied: s.applied, summary: s.summary });

const stepLine = (s: IncidentStep): string => {
  const details = Object.entries(s.summary)
    .map(([k, v]) => `${k}=${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');
  return `  ${s.at.toISOString()}  ${s.kind.padEnd(17)} ${s.applied ? 'applied' : 'dry run'}  ${s.by}${details ? `  ${details}` : ''}`;
};

export const incidentOpenCommand: Command = {
  name: 'incident open',
  summary: 'open an incident: the reference every incident step is attached to',
  usage: 'sesame incident open --title "TEXT" --detected-at 2021-10-14T19:00:00+02:00 [--json]',
  async run(args, io) {
    const f = incidentFlags(args, { title: { type: 'string' }, 'detected-at': { type: 'string' } });
    if (f.incident !== undefined) throw new UsageError('--incident does not apply: this command opens one');
    const title = f.title?.trim() ?? '';
    if (title === '' || title.length > TITLE_MAX || /\p{Cc}/u.test(title)) throw new UsageError(`--title is required: 1 to ${TITLE_MAX} characters on one line, no personal data`);
    const detectedAt = instantFlag('detected-at', f['detected-at'], true);
    return withRuntime(io, async (rt) => {
      if (detectedAt.getTime() > rt.clock.now().getTime()) throw new UsageError('--detected-at is in the future');
      const incident = await openIncident(rt.db, rt.clock, { title, detectedAt, by: operatorOf(rt) });
      output(io, f.json, incidentJson(incident), () => [
        `opened ${incident.reference}: ${incident.title}`,
        `detected at ${incident.detectedAt.toISOString()}; the Article 33 notification is due by ${new Date(incident.detectedAt.getTime() + 72 * 3600_000).toISOString()}`,
        'every `sesame incident …` command now attaches to it (or name it with --incident).',
      ]);
      return EXIT.ok;
    });
  },
};

export const incidentStatusCommand: Command = {
  name: 'incident status',
  summary: 'show an incident and its timeline (or, with --all, every incident)',
  usage: 'sesame incident status [--incident INC-…] [--all] [--json]',
  async run(args, io) {
    const f = incidentFlags(args, { all: { type: 'boolean' } });
    if (f.all && f.incident !== undefined) throw new UsageError('--all and --incident do not go together');
    return withRuntime(io, async (rt) =>
      system(rt.db, 'cli:incident-status', async (tx) => {
        if (f.all) {
          const all = await listIncidents(tx, { openOnly: false });
          output(io, f.json, all.map(incidentJson), () =>
            all.length === 0 ? ['no incident'] : all.map((i) => `${i.reference}  ${i.closedAt ? 'closed' : 'OPEN  '}  detected ${i.detectedAt.toISOString()}  ${i.title}`),
          );
          return EXIT.ok;
        }
        const incident = await inIncident(tx, f.incident);
        const steps = await timelineOf(tx, incident);
        output(io, f.json, { ...incidentJson(incident), timeline: steps.map(stepJson) }, () => [
          `${incident.reference}  ${incident.closedAt ? `closed at ${incident.closedAt.toISOString()}` : 'OPEN'}  ${incident.title}`,
          `detected at ${incident.detectedAt.toISOString()}, opened at ${incident.openedAt.toISOString()} by ${incident.openedBy}`,
          'timeline:',
          ...steps.map(stepLine),
        ]);
        return EXIT.ok;
      }),
    );
  },
};

export const incidentCloseCommand: Command = {
  name: 'incident close',
  summary: 'mark an incident as handled (its timeline stays)',
  usage: 'sesame incident close --incident INC-… [--json]',
  async run(args, io) {
    const f = incidentFlags(args, {});
    if (f.incident === undefined) throw new UsageError('--incident is required: name the incident to close');
    const reference = f.incident;
    return withRuntime(io, async (rt) => {
      const { incident, changed } = await closeIncident(rt.db, rt.clock, { reference, by: operatorOf(rt) }).catch((err: unknown) => {
        throw err instanceof UnknownIncidentError ? new CommandError(err.message) : err;
      });
      output(io, f.json, { ...incidentJson(incident), changed }, () => [changed ? `closed ${incident.reference}` : `${incident.reference} was already closed: nothing changed`]);
      return EXIT.ok;
    });
  },
};
