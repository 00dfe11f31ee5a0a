import { accessHistory, closeAccess, openAccess, readAccess, type AccessState } from '../../incident/access.ts';
import { countViolations } from '../../isolation/violations.ts';
import { flags } from '../args.ts';
import type { Command } from '../command.ts';
import { EXIT, UsageError, print } from '../io.ts';
import { withRuntime, type Runtime } from '../runtime.ts';

/**
 * `sesame access open|close|status`: the kill switch by hand. Every server process obeys a
 * change within SESAME_ACCESS_CACHE_MS (1 s at most). Changes are audited and kept in the
 * flag's history.
 */
const describe = (s: AccessState): string => {
  const head = `citizen access: ${s.open ? 'OPEN' : 'CLOSED'}`;
  if (!s.changedAt) return `${head} (never changed)`;
  return `${head} since ${s.changedAt.toISOString()} by ${s.changedBy ?? 'unknown'}${s.reason ? ` (reason: ${s.reason})` : ''}`;
};

async function printStatus(rt: Runtime, out: NodeJS.WritableStream): Promise<void> {
  const { windowSeconds, threshold } = rt.config.isolation.tripwire;
  const [state, history, violations] = await Promise.all([
    readAccess(rt.db),
    accessHistory(rt.db, 5),
    countViolations(rt.db, new Date(rt.clock.now().getTime() - windowSeconds * 1000)),
  ]);
  print(out, describe(state));
  print(out, `isolation violations in the last ${windowSeconds} s: ${violations} (access closes automatically at ${threshold})`);
  if (history.length > 0) {
    print(out, 'recent changes:');
    for (const h of history) print(out, `  ${h.changedAt.toISOString()}  ${h.state.padEnd(6)}  ${h.changedBy}${h.reason ? `  ${h.reason}` : ''}`);
  }
}

export const accessStatusCommand: Command = {
  name: 'access status',
  summary: 'show whether citizen access is open (kill switch), the recent violations and changes',
  usage: 'sesame access status',
  async run(args, io) {
    flags(args, {});
    return withRuntime(io, async (rt) => {
      await printStatus(rt, io.stdout);
      return EXIT.ok;
    });
  },
};

export const accessCloseCommand: Command = {
  name: 'access close',
  summary: 'close citizen access (maintenance page, no logins) on every server process',
  usage: 'sesame access close --reason "TEXT"   (why, for the history: an incident number, not personal data)',
  async run(args, io) {
    const f = flags(args, { reason: { type: 'string' } });
    const reason = f.reason?.trim() ?? '';
    if (reason === '') throw new UsageError('--reason is required: say why access is closed (it is kept in the history)');
    if (reason.length > 500 || /\p{Cc}/u.test(reason)) throw new UsageError('--reason must be at most 500 characters on one line');
    return withRuntime(io, async (rt) => {
      const change = await closeAccess(rt.db, rt.clock, { by: { kind: 'operator', name: rt.operator }, reason });
      print(io.stdout, change.changed ? 'closed: citizen pages now answer the maintenance page; logins are refused' : 'already closed: nothing changed');
      print(io.stdout, describe(change.state));
      return EXIT.ok;
    });
  },
};

export const accessOpenCommand: Command = {
  name: 'access open',
  summary: 'reopen citizen access after an incident',
  usage: 'sesame access open',
  async run(args, io) {
    flags(args, {});
    return withRuntime(io, async (rt) => {
      const change = await openAccess(rt.db, rt.clock, { by: { kind: 'operator', name: rt.operator } });
      print(io.stdout, change.changed ? 'opened: citizen pages and logins are available again' : 'already open: nothing changed');
      print(io.stdout, describe(change.state));
      return EXIT.ok;
    });
  },
};
