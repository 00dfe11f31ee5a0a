import { accountCipher } from '../../accounts/account-keys.ts';
import type { Level } from '../../auth/levels.ts';
import { DecryptionError, type FieldCipher } from '../../crypto/envelope.ts';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import { describeUserAgent } from '../../web/user-agent.ts';
import type { Place, PlaceFinder } from '../../web/place.ts';

/** One login as the citizen sees it: when, how, at which level, from which browser and roughly where. */
export interface LoginEntry {
  sessionId: string;
  at: Date;
  /** The login's own methods (a later step-up does not change them). */
  method: LoginMethod;
  level: Level;
  browser: string | null;
  os: string | null;
  place: Place;
  live: boolean;
  /** The services signed in to with this session (oidc.authorized events), first one first. */
  services: string[];
}

export type LoginMethod = 'passkey' | 'password-totp' | 'password-device' | 'password-email-code' | 'other';

/** From the login's amr (RFC 8176 values, see auth/levels.ts) to what the page names. */
export function loginMethodOf(amr: readonly string[]): LoginMethod {
  const has = (v: string): boolean => amr.includes(v);
  if (has('hwk')) return 'passkey';
  if (has('pwd') && has('otp')) return 'password-totp';
  if (has('pwd') && has('swk')) return 'password-device';
  if (has('pwd') && has('mail')) return 'password-email-code';
  return 'other';
}

interface Row extends Record<string, unknown> {
  id: string;
  created_at: Date;
  login_level: Level | null;
  level: Level;
  login_amr: string[] | null;
  amr: string[];
  client: Uint8Array;
  ended_at: Date | null;
  expires_at: Date;
  services: string[];
}

function clientOf(cipher: FieldCipher | null, sessionId: string, blob: Uint8Array): { ip?: string; userAgent?: string } {
  if (!cipher) return {};
  try {
    const client = cipher.decryptJson(`session:${sessionId}`, Buffer.from(blob));
    if (typeof client !== 'object' || client === null) return {};
    const { ip, userAgent } = client as { ip?: unknown; userAgent?: unknown };
    return { ip: typeof ip === 'string' ? ip : undefined, userAgent: typeof userAgent === 'string' ? userAgent : undefined };
  } catch (err) {
    if (err instanceof DecryptionError || err instanceof SyntaxError) return {};
    throw err;
  }
}

/** The account's last logins, newest first (citizen context: RLS shows this account's only). */
export async function loginHistory(tx: Tx, deps: { ring: KeyRing; places: PlaceFinder }, accountId: string, now: Date, limit = 20): Promise<LoginEntry[]> {
  const [{ rows }, cipher] = await Promise.all([
    tx.query<Row>(
      // The services: the audit log's oidc.authorized events of the session (the citizen reads their own).
      `SELECT s.id, s.created_at, s.login_level, s.level, s.login_amr, s.amr, s.client, s.ended_at, s.expires_at,
              ARRAY(SELECT k.name FROM audit_log a JOIN oidc_clients k ON k.client_id = a.payload ->> 'clientId'
                     WHERE a.account_id = s.account_id AND a.type = 'oidc.authorized' AND a.payload ->> 'sessionId' = s.id::text
                     GROUP BY k.client_id, k.name ORDER BY min(a.seq)) AS services
         FROM sessions s
        WHERE s.account_id = $1 ORDER BY s.created_at DESC, s.id LIMIT $2`,
      [accountId, limit],
    ),
    accountCipher(tx, deps.ring, accountId),
  ]);
  return rows.map((r) => {
    const client = clientOf(cipher, r.id, r.client);
    return {
      sessionId: r.id,
      at: r.created_at,
      method: loginMethodOf(r.login_amr ?? r.amr),
      level: r.login_level ?? r.level,
      ...describeUserAgent(client.userAgent),
      place: deps.places.find(client.ip),
      live: r.ended_at === null && r.expires_at.getTime() > now.getTime(),
      services: r.services,
    };
  });
}
