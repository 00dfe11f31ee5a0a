import { UUID } from '../../db/contexts.ts';
import { rebuildAccount, rebuildAll, UnknownAccountError, type RebuildReport } from '../../file/rebuild.ts';
import { flags } from '../args.ts';
import { CommandError, EXIT, UsageError, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';
import type { Command } from '../command.ts';

const summary = (r: RebuildReport): string =>
  `${r.accounts} accounts rebuilt, ${r.corrected} projection parts corrected${r.shredded > 0 ? `, ${r.shredded} shredded accounts skipped` : ''}`;

export const fileRebuildCommand: Command = {
  name: 'file rebuild',
  summary: "recompute the file's projections (contact, bank details) from its events",
  usage: 'sesame file rebuild [--account UUID] [--batch-size N]',
  async run(args, io) {
    const f = flags(args, { account: { type: 'string' }, 'batch-size': { type: 'string' } });
    const account = f.account?.toLowerCase();
    if (account !== undefined && !UUID.test(account)) throw new UsageError('--account must be an account id (a UUID)');
    const batchSize = Number(f['batch-size'] ?? 200);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a positive integer');
    if (account !== undefined && f['batch-size'] !== undefined) throw new UsageError('--batch-size only applies without --account');
    return withRuntime(io, async (rt) => {
      const deps = { ring: rt.ring, clock: rt.clock };
      if (account !== undefined) {
        const report = await rebuildAccount(rt.db, deps, account).catch((err: unknown) => {
          throw err instanceof UnknownAccountError ? new CommandError('--account: no account with this id') : err;
        });
        print(io.stdout, `done: ${summary(report)}`);
        return EXIT.ok;
      }
      const report = await rebuildAll(rt.db, deps, { batchSize, afterBatch: (r) => print(io.stdout, summary(r)) });
      print(io.stdout, `done: ${summary(report)}`);
      return EXIT.ok;
    });
  },
};
