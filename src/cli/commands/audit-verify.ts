import { system } from '../../db/contexts.ts';
import { verifyAuditChain } from '../../audit/verify.ts';
import { flags } from '../args.ts';
import { EXIT, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';
import type { Command } from '../command.ts';

const REASONS = { hash: 'its content no longer matches its hash', link: 'it does not point to the previous event', sequence: 'an event is missing before it' };

export const auditVerifyCommand: Command = {
  name: 'audit verify',
  summary: 'walk the hash-chained audit log and report the first broken link',
  usage: 'sesame audit verify',
  async run(args, io) {
    flags(args, {});
    return withRuntime(io, async (rt) => {
      const report = await system(rt.db, 'cli:audit-verify', (tx) => verifyAuditChain(tx));
      if (report.ok) {
        print(io.stdout, `audit chain intact: ${report.rows} events`);
        return EXIT.ok;
      }
      print(io.stdout, `audit chain BROKEN at event #${report.brokenAt}: ${REASONS[report.reason]} (${report.rows} events verified before it)`);
      return EXIT.failed;
    });
  },
};
