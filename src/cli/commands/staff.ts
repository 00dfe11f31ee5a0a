import { system } from '../../db/contexts.ts';
import { createStaff, disableStaff, DuplicateStaffError, findStaff, listStaff, StaffInputError } from '../../staff/accounts.ts';
import { issueEnrolmentCode } from '../../staff/enrolment-codes.ts';
import { STAFF_ROLES, type StaffRole } from '../../staff/policy.ts';
import { flags } from '../args.ts';
import type { Command } from '../command.ts';
import { CommandError, EXIT, UsageError, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';

/**
 * `sesame staff create|list|disable`: the accounts of the operator console (/console). A new
 * account gets a one-time enrolment code, typed at /console/enrol with a passkey at hand;
 * there is no password. The CLI stays the main tool: the console only mirrors a few actions.
 */
const isRole = (v: string): v is StaffRole => (STAFF_ROLES as readonly string[]).includes(v);

export const staffCreateCommand: Command = {
  name: 'staff create',
  summary: 'create an operator console account and print its one-time enrolment code (24 h)',
  usage: 'sesame staff create --role operator --login NAME --name "Display Name" [--json]',
  async run(args, io) {
    const f = flags(args, { role: { type: 'string' }, login: { type: 'string' }, name: { type: 'string' }, json: { type: 'boolean' } });
    if (f.role === undefined || !isRole(f.role)) throw new UsageError(`--role is required: ${STAFF_ROLES.join('|')}`);
    if (f.login === undefined) throw new UsageError('--login is required');
    if (f.name === undefined) throw new UsageError('--name is required (the display name shown in the console)');
    const role = f.role;
    return withRuntime(io, async (rt) => {
      const enrolUrl = new URL('/console/enrol', rt.config.publicUrl).toString();
      const issued = await system(rt.db, 'cli:staff-create', async (tx) => {
        const staff = await createStaff(tx, rt.clock, { login: f.login ?? '', displayName: f.name ?? '', role, createdBy: rt.operator });
        return { staff, code: await issueEnrolmentCode(tx, rt.clock, rt.ring.macKey, staff.id, rt.operator) };
      }).catch((err: unknown) => {
        if (err instanceof StaffInputError) throw new UsageError(`--${err.field}: ${err.message}`);
        if (err instanceof DuplicateStaffError) throw new CommandError(`--login: ${err.message}`);
        throw err;
      });
      if (f.json) {
        print(io.stdout, JSON.stringify({ login: issued.staff.login, enrolmentCode: issued.code.code, expiresAt: issued.code.expiresAt.toISOString() }));
      } else {
        print(io.stdout, `created ${issued.staff.login} (${issued.staff.role})`);
        print(io.stdout, `enrolment code: ${issued.code.code}`);
        print(io.stdout, `single use, valid until ${issued.code.expiresAt.toISOString()}: give it to ${issued.staff.login} in person.`);
        print(io.stdout, `they type it at ${enrolUrl} and register a passkey (there is no password).`);
      }
      return EXIT.ok;
    });
  },
};

export const staffListCommand: Command = {
  name: 'staff list',
  summary: 'list the operator console accounts',
  usage: 'sesame staff list [--json]',
  async run(args, io) {
    const f = flags(args, { json: { type: 'boolean' } });
    return withRuntime(io, async (rt) => {
      const all = await system(rt.db, 'cli:staff-list', (tx) => listStaff(tx));
      if (f.json) {
        print(
          io.stdout,
          JSON.stringify(
            all.map((s) => ({ login: s.login, name: s.displayName, role: s.role, createdAt: s.createdAt.toISOString(), disabledAt: s.disabledAt?.toISOString() ?? null, passkeys: s.passkeys, liveSessions: s.liveSessions })),
          ),
        );
        return EXIT.ok;
      }
      if (all.length === 0) print(io.stdout, 'no staff account: create one with `sesame staff create --role operator --login NAME --name "…"`');
      for (const s of all) {
        print(io.stdout, `${s.login.padEnd(20)} ${s.role.padEnd(9)} ${s.disabledAt ? `disabled ${s.disabledAt.toISOString()}` : 'active'}  passkeys=${s.passkeys} sessions=${s.liveSessions}  ${s.displayName}`);
      }
      return EXIT.ok;
    });
  },
};

export const staffDisableCommand: Command = {
  name: 'staff disable',
  summary: 'disable an operator console account and end its sessions at once',
  usage: 'sesame staff disable --login NAME [--json]',
  async run(args, io) {
    const f = flags(args, { login: { type: 'string' }, json: { type: 'boolean' } });
    if (f.login === undefined) throw new UsageError('--login is required');
    const login = f.login;
    return withRuntime(io, async (rt) => {
      const result = await system(rt.db, 'cli:staff-disable', async (tx) => {
        const staff = await findStaff(tx, { login });
        if (!staff) throw new CommandError(`--login: no staff account ${login}`);
        return disableStaff(tx, rt.clock, staff.id, rt.operator);
      });
      if (f.json) print(io.stdout, JSON.stringify({ login, disabled: true, changed: result.changed, sessionsEnded: result.sessionsEnded }));
      else print(io.stdout, result.changed ? `disabled ${login}; ${result.sessionsEnded} session(s) ended` : `${login} was already disabled; ${result.sessionsEnded} session(s) ended`);
      return EXIT.ok;
    });
  },
};
