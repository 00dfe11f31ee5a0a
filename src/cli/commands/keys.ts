import { setTimeout as sleep } from 'node:timers/promises';
import { system } from '../../db/contexts.ts';
import { newKekId, writeKeyRing } from '../../crypto/keyring.ts';
import { dataKeysByKek, rewrapDataKeys } from '../../accounts/key-rotation.ts';
import { audit } from '../../audit/log.ts';
import {
  listSigningKeys,
  rewrapSigningKeys,
  rotateSigningKey,
  signingKeysByKek,
  signingKeyState,
  SIGNING_ALGS,
  type SigningAlg,
  type SigningKeyInfo,
} from '../../oidc/signing-keys.ts';
import { flags } from '../args.ts';
import { CommandError, EXIT, UsageError, print } from '../io.ts';
import { withRuntime } from '../runtime.ts';
import type { Command } from '../command.ts';

export const keysRotateCommand: Command = {
  name: 'keys rotate',
  summary: 'make a new key-encryption key and re-wrap every data key with it (run again to resume)',
  usage: 'sesame keys rotate [--batch-size N] [--wait-seconds S]',
  async run(args, io) {
    const f = flags(args, { 'batch-size': { type: 'string' }, 'wait-seconds': { type: 'string' } });
    const batchSize = Number(f['batch-size'] ?? 500);
    const wait = Number(f['wait-seconds'] ?? 5);
    if (!Number.isInteger(batchSize) || batchSize < 1) throw new UsageError('--batch-size must be a positive integer');
    if (!Number.isFinite(wait) || wait < 0) throw new UsageError('--wait-seconds must be a number of seconds');
    return withRuntime(io, async (rt) => {
      const counts = await dataKeysByKek(rt.db);
      const left = [...counts].filter(([kek]) => kek !== rt.ring.currentKekId).reduce((n, [, c]) => n + c, 0);
      if (left > 0) {
        print(io.stdout, `resuming the unfinished rotation to ${rt.ring.currentKekId}: ${left} data keys left`);
      } else {
        const previous = rt.ring.kekIds;
        rt.ring.adopt(rt.ring.withNewKek(newKekId(rt.clock.now())));
        // The key file is written before anything is wrapped with the new key, so an
        // interruption at any point leaves every data key readable.
        await writeKeyRing(rt.config.keysFile, rt.ring);
        await system(rt.db, 'cli:keys-rotate', (tx) =>
          audit(tx, rt.clock, { type: 'keys.kek_rotated', accountId: null, payload: { from: previous, to: rt.ring.currentKekId } }, rt.operator),
        );
        print(io.stdout, `new key-encryption key ${rt.ring.currentKekId} written to ${rt.config.keysFile}`);
        // Running servers poll the key file; give them time to learn the new key before
        // data keys they will need to unwrap are wrapped with it.
        if (wait > 0) await sleep(wait * 1000);
      }
      const { rewrapped } = await rewrapDataKeys(rt.db, rt.ring, rt.clock, {
        batchSize,
        afterBatch: (done) => print(io.stdout, `re-wrapped ${done} data keys`),
      });
      // The provider's signing keys too (a handful), so that retiring the old KEK loses none.
      const signing = await system(rt.db, 'cli:keys-rotate', (tx) => rewrapSigningKeys(tx, rt.ring));
      if (signing > 0) print(io.stdout, `re-wrapped ${signing} OpenID signing keys`);
      print(io.stdout, `done: ${rewrapped} data keys re-wrapped; every data key is now under ${rt.ring.currentKekId}`);
      const retired = rt.ring.kekIds.filter((k) => k !== rt.ring.currentKekId);
      if (retired.length > 0) print(io.stdout, `older keys no longer used: ${retired.join(', ')} (remove them with \`sesame keys retire --kek ID\` once backups made with them have expired)`);
      return EXIT.ok;
    });
  },
};

export const keysStatusCommand: Command = {
  name: 'keys status',
  summary: 'show the current key-encryption key, how many data and signing keys each key wraps, and the OpenID signing keys',
  usage: 'sesame keys status',
  async run(args, io) {
    flags(args, {});
    return withRuntime(io, async (rt) => {
      const counts = await dataKeysByKek(rt.db);
      const signing = await signingKeysByKek(rt.db);
      for (const kek of new Set([...rt.ring.kekIds, ...counts.keys(), ...signing.keys()])) {
        const known = rt.ring.kekIds.includes(kek) ? '' : ' (NOT IN THE KEY FILE: these accounts cannot be read)';
        const s = signing.get(kek) ?? 0;
        print(io.stdout, `${kek === rt.ring.currentKekId ? '* ' : '  '}${kek}: ${counts.get(kek) ?? 0} data keys${s > 0 ? `, ${s} signing keys` : ''}${known}`);
      }
      const keys = await system(rt.db, 'cli:keys-status', (tx) => listSigningKeys(tx));
      if (keys.length > 0) print(io.stdout, 'OpenID signing keys:');
      for (const k of keys) print(io.stdout, `  ${k.kid.padEnd(27)}  ${k.alg}  ${signingKeyLife(k, rt.clock.now())}`);
      return EXIT.ok;
    });
  },
};

export const keysRetireCommand: Command = {
  name: 'keys retire',
  summary: 'remove an old key-encryption key from the key file once no data key uses it',
  usage: 'sesame keys retire --kek ID',
  async run(args, io) {
    const f = flags(args, { kek: { type: 'string' } });
    const kek = f.kek;
    if (!kek) throw new UsageError('--kek is required');
    return withRuntime(io, async (rt) => {
      if (!rt.ring.kekIds.includes(kek)) throw new CommandError(`--kek: ${kek} is not in the key file`);
      const still = ((await dataKeysByKek(rt.db)).get(kek) ?? 0) + ((await signingKeysByKek(rt.db)).get(kek) ?? 0);
      if (still > 0) throw new CommandError(`--kek: ${still} keys (data keys and signing keys) are still wrapped by ${kek}; run \`sesame keys rotate\` first`);
      await writeKeyRing(rt.config.keysFile, rt.ring.withoutKek(kek));
      print(io.stdout, `${kek} removed from ${rt.config.keysFile}`);
      return EXIT.ok;
    });
  },
};

/** Where a signing key is in its life, for `keys status`. */
function signingKeyLife(k: SigningKeyInfo, now: Date): string {
  const at = (d: Date | null): string => d?.toISOString() ?? '?';
  switch (signingKeyState(k, now)) {
    case 'unpublished':
      return `not yet published (from ${at(k.publishedAt)})`;
    case 'published':
      return `in the JWKS, signs from ${at(k.activeFrom)}`;
    case 'active':
      return k.retiredAt ? `signing until ${at(k.retiredAt)}, then in the JWKS until ${at(k.removeAfter)}` : `signing since ${at(k.activeFrom)}`;
    case 'retired':
      return `retired ${at(k.retiredAt)}, in the JWKS until ${at(k.removeAfter)}`;
    case 'removed':
      return `out of the JWKS since ${at(k.removeAfter)} (deleted at the next rotation)`;
  }
}

export const keysRotateSigningCommand: Command = {
  name: 'keys rotate-signing',
  summary: 'publish a new OpenID signing key: it signs after the propagation delay, when the current one retires',
  usage: 'sesame keys rotate-signing [--alg ES256|RS256] [--json]',
  async run(args, io) {
    const f = flags(args, { alg: { type: 'string' }, json: { type: 'boolean' } });
    const alg = f.alg ?? 'ES256';
    if (!(SIGNING_ALGS as readonly string[]).includes(alg)) throw new UsageError(`--alg: must be one of ${SIGNING_ALGS.join(', ')}`);
    return withRuntime(io, async (rt) => {
      const policy = rt.config.oidcSigningKeys;
      const result = await system(rt.db, 'cli:keys-rotate-signing', (tx) => rotateSigningKey(tx, rt.ring, rt.clock, alg as SigningAlg, policy, rt.operator));
      if (result.outcome === 'under-way') {
        throw new CommandError(`a rotation of ${alg} is under way: ${result.key.kid} signs from ${result.key.activeFrom.toISOString()}; rotate again after that`);
      }
      const { key, retired, deleted } = result;
      if (f.json) {
        print(
          io.stdout,
          JSON.stringify({
            alg,
            kid: key.kid,
            published_at: key.publishedAt.toISOString(),
            active_from: key.activeFrom.toISOString(),
            retired: retired ? { kid: retired.kid, retired_at: retired.retiredAt?.toISOString() ?? null, remove_after: retired.removeAfter?.toISOString() ?? null } : null,
            deleted,
          }),
        );
        return EXIT.ok;
      }
      print(io.stdout, `new ${alg} signing key ${key.kid}: in the JWKS now, signs from ${key.activeFrom.toISOString()}`);
      if (retired) print(io.stdout, `${retired.kid} signs until then, and stays in the JWKS until ${retired.removeAfter?.toISOString() ?? '?'}`);
      if (deleted.length > 0) print(io.stdout, `deleted (no longer in the JWKS): ${deleted.join(', ')}`);
      return EXIT.ok;
    });
  },
};
