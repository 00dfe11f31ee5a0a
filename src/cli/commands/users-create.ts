import { createAccount, DuplicateNirError } from '../../accounts/accounts.ts';
import { setPasswordHash } from '../../accounts/credentials.ts';
import { checkPassword, normalisePassword } from '../../accounts/password-policy.ts';
import { validatePerson } from '../../accounts/person-input.ts';
import { hashPassword } from '../../crypto/passwords.ts';
import { system } from '../../db/contexts.ts';
import { queueMail } from '../../mail/outbox.ts';
import { flags } from '../args.ts';
import { CommandError, EXIT, UsageError, print, readAll } from '../io.ts';
import { withRuntime } from '../runtime.ts';
import type { Command } from '../command.ts';

const FLAG_OF = {
  nir: '--nir', givenNames: '--given-name', familyName: '--family-name', usageName: '--usage-name', birthDate: '--birthdate',
  birthPlace: '--birth-place', gender: '--gender', email: '--email', phone: '--phone', postalAddress: '--address',
} as const;

export const usersCreateCommand: Command = {
  name: 'users create',
  summary: 'create a citizen account (active with --password-stdin, else pending activation and told by mail)',
  usage:
    'sesame users create --nir NIR --email EMAIL --given-name NAMES --family-name NAME --birthdate YYYY-MM-DD\n' +
    '                    [--usage-name NAME] [--birth-place PLACE] [--gender female|male] [--phone PHONE] [--address ADDRESS]\n' +
    '                    [--password-stdin] [--locale fr|en] [--json]',
  async run(args, io) {
    const f = flags(args, {
      nir: { type: 'string' }, email: { type: 'string' }, 'given-name': { type: 'string' }, 'family-name': { type: 'string' },
      'usage-name': { type: 'string' }, birthdate: { type: 'string' }, 'birth-place': { type: 'string' }, gender: { type: 'string' }, phone: { type: 'string' },
      address: { type: 'string' }, 'password-stdin': { type: 'boolean' }, locale: { type: 'string' }, json: { type: 'boolean' },
    });
    const locale = f.locale ?? 'fr';
    if (locale !== 'fr' && locale !== 'en') throw new UsageError('--locale must be fr or en');
    for (const required of ['nir', 'email', 'given-name', 'family-name', 'birthdate'] as const) {
      if (f[required] === undefined) throw new UsageError(`--${required} is required`);
    }
    return withRuntime(io, async (rt) => {
      const person = validatePerson(
        {
          nir: f.nir ?? '', email: f.email, givenNames: f['given-name'] ?? '', familyName: f['family-name'] ?? '',
          usageName: f['usage-name'], birthDate: f.birthdate ?? '', birthPlace: f['birth-place'], gender: f.gender, phone: f.phone, postalAddress: f.address,
        },
        rt.clock.now(),
      );
      if ('problems' in person) throw new UsageError(person.problems.map((p) => `${FLAG_OF[p.field]}: ${p.message}`).join('\n'));

      let hash: string | null = null;
      if (f['password-stdin']) {
        const password = normalisePassword((await readAll(io.stdin)).replace(/\r?\n$/, ''));
        const problem = checkPassword(password, { nir: person.identity.nir });
        if (problem) throw new UsageError(`password (stdin): ${problem.message.en}`);
        // Outside the transaction (tens of milliseconds), with the configured parameters: a hash
        // with other ones would answer logins in another time than the rest.
        hash = await hashPassword(password, rt.config.auth.argon2);
      }
      const status = hash ? 'active' : 'pending_activation';
      const { id } = await system(rt.db, 'cli:users-create', async (tx) => {
        const created = await createAccount(tx, rt, { ...person, status, via: 'cli' });
        if (hash) await setPasswordHash(tx, rt.clock, created.id, hash);
        // A pending account is told how to do its first connection; same transaction, so
        // no mail goes out for an account that was not created.
        else await queueMail(tx, rt, { accountId: created.id, template: 'account-created', locale, params: { givenName: person.identity.givenNames } });
        return created;
      }).catch((err: unknown) => {
        if (err instanceof DuplicateNirError) throw new CommandError('--nir: an account with this NIR already exists');
        throw err;
      });
      print(io.stdout, f.json ? JSON.stringify({ id, status }) : id);
      return EXIT.ok;
    });
  },
};
