import { accessHistory, closeAccess, openAccess, previewAccess, readAccessScopes, type AccessActor, type AccessChange, type AccessPreview, type AccessState } from '../../incident/access.ts';
import { checkMessage, MESSAGE_MAX, type AccessMessages } from '../../incident/access-message.ts';
import { isScopeChoice, SCOPE_CHOICES, type ScopeChoice } from '../../incident/access-scope.ts';
import { UnknownIncidentError } from '../../incident/incidents.ts';
import { countViolations } from '../../isolation/violations.ts';
import type { Command } from '../command.ts';
import { CommandError, EXIT, UsageError, type CliIo } from '../io.ts';
import { withRuntime, type Runtime } from '../runtime.ts';
import { APPLY, dryRunHint, incidentFlags, output } from './incident/common.ts';

/**
 * `sesame access open|close|status`: the kill switch by hand, per scope (`citizens`: citizen
 * pages, logins and sessions; `staff`: the operator console; `all`). Dry run by default. Every
 * server process obeys a change within SESAME_ACCESS_CACHE_MS (1 s at most). Changes are
 * audited and kept in the flags' history; with an incident (named, or the only open one) the
 * run is a step of its timeline. It never needs one: the switch does not wait for bookkeeping.
 */
const SCOPE_FLAG = { scope: { type: 'string' } } as const;
const LABEL = { citizens: 'citizen access', staff: 'staff console' } as const;

const describe = (s: AccessState): string => {
  const head = `${LABEL[s.scope]}: ${s.open ? 'OPEN' : 'CLOSED'}`;
  if (!s.changedAt) return `${head} (never changed)`;
  return `${head} since ${s.changedAt.toISOString()} by ${s.changedBy ?? 'unknown'}${s.reason ? ` (reason: ${s.reason})` : ''}${s.messages ? ' (custom message)' : ''}`;
};

const stateJson = (s: AccessState) => ({
  open: s.open,
  changedAt: s.changedAt?.toISOString() ?? null,
  changedBy: s.changedBy,
  reason: s.reason,
  messages: s.messages,
});

function scopeFlag(value: string | undefined): ScopeChoice {
  if (value === undefined) return 'citizens';
  if (!isScopeChoice(value)) throw new UsageError(`--scope must be one of: ${SCOPE_CHOICES.join(', ')}`);
  return value;
}

function messageFlags(fr: string | undefined, en: string | undefined): AccessMessages | null {
  if (fr === undefined && en === undefined) return null;
  // The page always shows both languages: one without the other would leave half of it stale.
  if (fr === undefined) throw new UsageError('--message-fr is required with --message-en (the page shows both languages)');
  if (en === undefined) throw new UsageError('--message-en is required with --message-fr (the page shows both languages)');
  const check = (language: 'fr' | 'en', text: string): string => {
    try {
      return checkMessage(language, text);
    } catch {
      throw new UsageError(`--message-${language} must be 1 to ${MESSAGE_MAX} characters of plain text in one paragraph (no line breaks or control characters)`);
    }
  };
  return { fr: check('fr', fr), en: check('en', en) };
}

const operator = (rt: Runtime): AccessActor => ({ kind: 'operator', name: rt.operator });

/** Unknown incident: exit 1 with its message, nothing changed. */
async function named<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof UnknownIncidentError) throw new CommandError(err.message);
    throw err;
  }
}

function changeOutput(io: CliIo, json: boolean | undefined, action: 'close' | 'open', scope: ScopeChoice, change: AccessChange): void {
  const doc = {
    action,
    scope,
    applied: true,
    incident: change.incident,
    scopes: Object.fromEntries(change.scopes.map((s) => [s.scope, { open: s.state.open, changed: s.changed }])),
    sessionsEnded: change.sessionsEnded,
    staffSessionsEnded: change.staffSessionsEnded,
  };
  output(io, json, doc, () => [
    ...change.scopes.map((s) => `${LABEL[s.scope]}: ${s.changed ? (action === 'close' ? 'closed' : 'opened') : `already ${action === 'close' ? 'closed' : 'open'}: nothing changed`}`),
    ...(action === 'close' && scope !== 'staff' ? [`citizen sessions ended: ${change.sessionsEnded}`] : []),
    ...(action === 'close' && scope !== 'citizens' ? [`staff sessions ended: ${change.staffSessionsEnded}`] : []),
    ...change.scopes.map((s) => describe(s.state)),
    ...(change.incident ? [`recorded on ${change.incident}'s timeline`] : []),
  ]);
}

function previewOutput(io: CliIo, json: boolean | undefined, p: AccessPreview, command: string): void {
  const doc = {
    action: p.action,
    scope: p.scope,
    applied: false,
    incident: p.incident,
    scopes: Object.fromEntries(p.scopes.map((s) => [s.scope, { open: s.open, changed: s.wouldChange }])),
    sessionsEnded: p.sessionsToEnd,
    staffSessionsEnded: p.staffSessionsToEnd,
  };
  const verb = p.action === 'close' ? 'close' : 'open';
  output(io, json, doc, () => [
    ...p.scopes.map((s) => `${LABEL[s.scope]}: ${s.wouldChange ? `would ${verb} (now ${s.open ? 'open' : 'closed'})` : `already ${p.action === 'close' ? 'closed' : 'open'}: would change nothing`}`),
    ...(p.action === 'close' && p.scope !== 'staff' ? [`citizen sessions that would end: ${p.sessionsToEnd}`] : []),
    ...(p.action === 'close' && p.scope !== 'citizens' ? [`staff sessions that would end: ${p.staffSessionsToEnd}`] : []),
    ...(p.incident ? [`recorded on ${p.incident}'s timeline as a dry run`] : []),
    dryRunHint(command),
  ]);
}

/** The command as typed, for the --apply hint (the texts quoted, nothing else added). */
const quote = (text: string): string => `'${text.replaceAll("'", `'\\''`)}'`;

export const accessStatusCommand: Command = {
  name: 'access status',
  summary: 'show whether citizen access and the staff console are open (kill switch), the recent violations and changes',
  usage: 'sesame access status [--json]',
  async run(args, io) {
    const f = incidentFlags(args, {});
    if (f.incident !== undefined) throw new UsageError('--incident does not apply to access status');
    return withRuntime(io, async (rt) => {
      const { windowSeconds, threshold } = rt.config.isolation.tripwire;
      const [scopes, history, violations] = await Promise.all([
        readAccessScopes(rt.db),
        accessHistory(rt.db, 5),
        countViolations(rt.db, new Date(rt.clock.now().getTime() - windowSeconds * 1000)),
      ]);
      const doc = {
        citizens: stateJson(scopes.citizens),
        staff: stateJson(scopes.staff),
        violations: { inWindow: violations, windowSeconds, threshold },
        history: history.map((h) => ({ scope: h.scope, state: h.state, changedAt: h.changedAt.toISOString(), changedBy: h.changedBy, reason: h.reason })),
      };
      output(io, f.json, doc, () => [
        describe(scopes.citizens),
        describe(scopes.staff),
        `isolation violations in the last ${windowSeconds} s: ${violations} (citizen access closes automatically at ${threshold})`,
        ...(history.length > 0
          ? ['recent changes:', ...history.map((h) => `  ${h.changedAt.toISOString()}  ${h.scope.padEnd(8)}  ${h.state.padEnd(6)}  ${h.changedBy}${h.reason ? `  ${h.reason}` : ''}`)]
          : []),
      ]);
      return EXIT.ok;
    });
  },
};

export const accessCloseCommand: Command = {
  name: 'access close',
  summary: 'close citizen access (maintenance page, no logins, every citizen session ended) and/or the staff console',
  usage:
    'sesame access close [--scope citizens|staff|all] --reason "TEXT" [--message-fr "TEXTE" --message-en "TEXT"] [--incident INC-…] [--apply] [--json]\n' +
    '  --reason: why, for the history (an incident number, not personal data); the messages are shown on the maintenance page',
  async run(args, io) {
    const f = incidentFlags(args, { ...SCOPE_FLAG, ...APPLY, reason: { type: 'string' }, 'message-fr': { type: 'string' }, 'message-en': { type: 'string' } });
    const scope = scopeFlag(f.scope);
    const reason = f.reason?.trim() ?? '';
    if (reason === '') throw new UsageError('--reason is required: say why access is closed (it is kept in the history)');
    if (reason.length > 500 || /\p{Cc}/u.test(reason)) throw new UsageError('--reason must be at most 500 characters on one line');
    const messages = messageFlags(f['message-fr'], f['message-en']);
    return withRuntime(io, async (rt) =>
      named(async () => {
        if (!f.apply) {
          const preview = await previewAccess(rt.db, rt.clock, { action: 'close', scope, by: operator(rt), incident: f.incident, messages });
          const typed = [
            `sesame access close --scope ${scope} --reason ${quote(reason)}`,
            ...(messages ? [`--message-fr ${quote(messages.fr)} --message-en ${quote(messages.en)}`] : []),
            ...(f.incident ? [`--incident ${f.incident}`] : []),
          ].join(' ');
          previewOutput(io, f.json, preview, typed);
          return EXIT.ok;
        }
        const change = await closeAccess(rt.db, rt.clock, { scope, by: operator(rt), reason, messages, incident: f.incident });
        changeOutput(io, f.json, 'close', scope, change);
        return EXIT.ok;
      }),
    );
  },
};

export const accessOpenCommand: Command = {
  name: 'access open',
  summary: 'reopen citizen access and/or the staff console after an incident',
  usage: 'sesame access open [--scope citizens|staff|all] [--incident INC-…] [--apply] [--json]',
  async run(args, io) {
    const f = incidentFlags(args, { ...SCOPE_FLAG, ...APPLY });
    const scope = scopeFlag(f.scope);
    return withRuntime(io, async (rt) =>
      named(async () => {
        if (!f.apply) {
          const preview = await previewAccess(rt.db, rt.clock, { action: 'open', scope, by: operator(rt), incident: f.incident });
          previewOutput(io, f.json, preview, `sesame access open --scope ${scope}${f.incident ? ` --incident ${f.incident}` : ''}`);
          return EXIT.ok;
        }
        const change = await openAccess(rt.db, rt.clock, { scope, by: operator(rt), incident: f.incident });
        changeOutput(io, f.json, 'open', scope, change);
        return EXIT.ok;
      }),
    );
  },
};
