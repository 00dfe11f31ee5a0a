import type { ParseArgsConfig } from 'node:util';
import { system, type Tx } from '../../../db/contexts.ts';
import { resolveIncident, UnknownIncidentError, type Incident, type IncidentActor } from '../../../incident/incidents.ts';
import { flags } from '../../args.ts';
import { CommandError, print, UsageError, type CliIo } from '../../io.ts';
import type { Runtime } from '../../runtime.ts';

/**
 * What every `sesame incident …` command shares: `--incident REF` (default: the only open
 * incident), `--json` (one JSON document on stdout, nothing else there), `--apply` for those
 * that change data (without it they only say what they would do), and instants given as ISO
 * 8601 with an offset or Z, so that no one guesses a time zone under pressure.
 */
type Options = NonNullable<ParseArgsConfig['options']>;

export const COMMON = {
  incident: { type: 'string' },
  json: { type: 'boolean' },
} as const satisfies Options;

export const APPLY = { apply: { type: 'boolean' } } as const satisfies Options;

export function incidentFlags<O extends Options>(args: string[], options: O) {
  return flags(args, { ...COMMON, ...options });
}

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/;

/** `--from 2021-10-14T08:00:00+02:00`: a UsageError naming the flag otherwise. */
export function instantFlag(name: string, value: string | undefined, required: true): Date;
export function instantFlag(name: string, value: string | undefined, required: false): Date | undefined;
export function instantFlag(name: string, value: string | undefined, required: boolean): Date | undefined {
  if (value === undefined) {
    if (required) throw new UsageError(`--${name} is required (an instant like 2021-10-14T08:00:00+02:00)`);
    return undefined;
  }
  const date = new Date(value);
  if (!INSTANT.test(value) || Number.isNaN(date.getTime())) throw new UsageError(`--${name} must be an instant with its offset, like 2021-10-14T08:00:00+02:00 or 2021-10-14T06:00:00Z`);
  return date;
}

/** `--from`/`--to` as a window: from < to. */
export function windowFlags(values: { from?: string; to?: string }): { from: Date; to: Date } {
  const from = instantFlag('from', values.from, true);
  const to = instantFlag('to', values.to, true);
  if (from.getTime() >= to.getTime()) throw new UsageError('--from must be before --to');
  return { from, to };
}

export const operatorOf = (rt: Runtime): IncidentActor => ({ kind: 'operator', name: rt.operator });

/** The incident the command works on, in its own transaction. */
export async function incidentOf(rt: Runtime, reference: string | undefined): Promise<Incident> {
  return system(rt.db, 'cli:incident', (tx) => inIncident(tx, reference));
}

export async function inIncident(tx: Tx, reference: string | undefined): Promise<Incident> {
  try {
    return await resolveIncident(tx, reference);
  } catch (err) {
    if (err instanceof UnknownIncidentError) throw new CommandError(err.message);
    throw err;
  }
}

/** Either the JSON document or the human lines; stdout carries nothing else with --json. */
export function output(io: CliIo, json: boolean | undefined, doc: unknown, lines: () => string[]): void {
  if (json) {
    print(io.stdout, JSON.stringify(doc, null, 2));
    return;
  }
  for (const line of lines()) print(io.stdout, line);
}

/** The line a dry run ends with. */
export const dryRunHint = (command: string): string => `dry run: nothing was changed. Run again with --apply to do it: ${command} --apply`;
