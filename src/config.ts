import path from 'node:path';
import { z } from 'zod';
import { authPolicyFromEnv, type AuthPolicy } from './auth/policy.ts';
import { isolationSettingsFromEnv, type IsolationSettings } from './isolation/settings.ts';
import { signingKeyPolicyFromEnv, SigningKeyPolicyError, type SigningKeyPolicy } from './oidc/signing-keys.ts';
import { OidcLifetimeError, oidcLifetimesFromEnv, type OidcLifetimes } from './oidc/lifetimes.ts';
import type { SuspiciousRule } from './oidc/acr.ts';

/** Environment → typed configuration. Every variable is documented in docs/configuration.md. */
export type Environment = 'development' | 'production';

export interface Config {
  env: Environment;
  host: string;
  port: number;
  publicUrl: URL;
  dataDir: string;
  /** PostgreSQL connection string; absent means embedded PGlite under dataDir. */
  databaseUrl: string | undefined;
  smtpUrl: string | undefined;
  mailFrom: string;
  keysFile: string;
  /** Whether a missing key file may be generated (development only). */
  generateKeys: boolean;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  /**
   * Which proxies' X-Forwarded-For to believe: none, the N nearest hops, or these addresses
   * and CIDR ranges. Never "all": the client would then choose its own address (and so its
   * throttling bucket) with a header.
   */
  trustProxy: false | number | string[];
  /** Name shown to citizens in pages and mails (the agency running Sésame). */
  serviceName: string;
  /** Time zone in which pages and mails show times to citizens. */
  timeZone: string;
  /**
   * WebAuthn relying party: passkeys are bound to rpId (the public host, or a parent domain of
   * it) and assertions are accepted only from these origins.
   */
  webauthn: { rpId: string; rpName: string; origins: string[] };
  /** A MaxMind-format database for the login history's "approximate place"; null: the bundled DB-IP Lite country database. */
  geoipDatabase: string | null;
  auth: AuthPolicy;
  /** The identity tripwire, the kill switch's cache, and the test-only fault switch (refused in production). */
  isolation: IsolationSettings;
  /** A change of bank details takes effect this long after it is made; until then payments go to the previous IBAN and the change can be cancelled. */
  bankHoldSeconds: number;
  /** OpenID signing keys: how long a new key is published before it signs, and kept after it retires. */
  oidcSigningKeys: SigningKeyPolicy;
  /** Lifetimes of codes and tokens (src/oidc/lifetimes.ts). */
  oidcLifetimes: OidcLifetimes;
  /** The header by which the reverse proxy marks an authorisation request as suspicious (eidas2 at least, no SSO); null: off. */
  oidcSuspicious: SuspiciousRule | null;
  /** Bearer token /metrics asks for; null: open (development only). */
  metricsToken: string | null;
  /** Who answers for personal data (GDPR Art. 33(3)(b), 34): named in incident notices and the breach report. */
  dataProtection: { controller: string; dpoName: string; dpoEmail: string | null; dpoPostalAddress: string | null; dpoPhone: string | null };
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

const optional = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

const schema = z.object({
  SESAME_ENV: z.enum(['development', 'production']).default('development'),
  HOST: optional,
  PORT: optional.pipe(z.string().regex(/^\d+$/, 'must be a number').transform(Number).pipe(z.number().int().min(0).max(65535)).optional()),
  SESAME_PUBLIC_URL: optional.pipe(z.url({ protocol: /^https?$/ }).optional()),
  SESAME_DATA_DIR: optional,
  DATABASE_URL: optional.pipe(z.url({ protocol: /^postgres(ql)?$/ }).optional()),
  SMTP_URL: optional.pipe(z.url({ protocol: /^smtps?$/ }).optional()),
  SESAME_MAIL_FROM: optional,
  SESAME_KEYS_FILE: optional,
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).optional(),
  SESAME_TRUST_PROXY: optional.pipe(
    z
      .string()
      .refine((v) => v !== 'true', 'name the proxies: a number of hops (1) or their addresses / CIDR ranges, comma-separated; "true" would trust any client')
      .refine((v) => v === 'false' || /^\d{1,2}$/.test(v) || v.split(',').every((p) => /^[0-9a-fA-F:.]+(\/\d{1,3})?$/.test(p.trim())), 'must be false, a number of hops, or addresses / CIDR ranges')
      .optional(),
  ),
  SESAME_SERVICE_NAME: optional,
  SESAME_WEBAUTHN_RP_ID: optional.pipe(z.string().regex(/^[a-z0-9.-]+$/, 'must be a host name such as compte.example.fr').optional()),
  SESAME_BANK_HOLD_SECONDS: optional.pipe(z.string().regex(/^\d+$/, 'must be a whole number of seconds').transform(Number).pipe(z.number().int().min(1)).optional()),
  SESAME_GEOIP_DB: optional,
  SESAME_METRICS_TOKEN: optional.pipe(z.string().min(32, 'must be at least 32 characters').regex(/^[\x21-\x7e]+$/, 'must be printable ASCII without spaces').optional()),
  SESAME_CONTROLLER_NAME: optional.pipe(z.string().max(200).regex(/^[^\p{Cc}]*$/u, 'must be one line').optional()),
  SESAME_DPO_NAME: optional.pipe(z.string().max(200).regex(/^[^\p{Cc}]*$/u, 'must be one line').optional()),
  SESAME_DPO_EMAIL: optional.pipe(z.email().max(254).optional()),
  SESAME_DPO_POSTAL_ADDRESS: optional.pipe(z.string().max(500).optional()),
  SESAME_DPO_PHONE: optional.pipe(z.string().regex(/^\+?[0-9 .()-]{6,30}$/, 'must be a telephone number').optional()),
  SESAME_OIDC_SUSPICIOUS_HEADER: optional.pipe(
    z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/, 'must be a header name such as X-Waf-Suspicious')
      .transform((v) => v.toLowerCase())
      .refine((v) => !RESERVED_HEADERS.has(v), 'must be a header of its own, set by the reverse proxy only (not a standard or forwarding header)')
      .optional(),
  ),
  SESAME_OIDC_SUSPICIOUS_VALUES: optional.pipe(
    z
      .string()
      .transform((v) => v.split(',').map((p) => p.trim().toLowerCase()))
      .refine((vs) => vs.every((v) => /^[a-z0-9_.-]{1,64}$/.test(v)), 'must be comma-separated values such as 1,true')
      .optional(),
  ),
  SESAME_TIME_ZONE: optional.refine((v) => v === undefined || validTimeZone(v), 'must be an IANA time zone such as Europe/Paris'),
});

/** Headers a client sends or a proxy sets for other purposes: never a suspicion mark. */
const RESERVED_HEADERS = new Set(['host', 'cookie', 'authorization', 'content-type', 'content-length', 'user-agent', 'referer', 'origin', 'accept', 'accept-language', 'forwarded', 'x-forwarded-for', 'x-forwarded-proto', 'x-forwarded-host', 'x-real-ip']);

function trustProxyOf(value: string | undefined): false | number | string[] {
  if (value === undefined || value === 'false') return false;
  if (/^\d+$/.test(value)) return Number(value) === 0 ? false : Number(value);
  return value.split(',').map((p) => p.trim());
}

function validTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('fr-FR', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}

/**
 * The suspicion mark: only a reverse proxy that sets (or strips) the header on every request
 * can be believed, so it needs SESAME_TRUST_PROXY. Values: default "1" and "true".
 */
function suspiciousRuleOf(header: string | undefined, values: string[] | undefined, trustProxy: false | number | string[]): SuspiciousRule | null {
  if (header === undefined) {
    if (values !== undefined) throw new ConfigError('SESAME_OIDC_SUSPICIOUS_VALUES: needs SESAME_OIDC_SUSPICIOUS_HEADER');
    return null;
  }
  if (trustProxy === false) throw new ConfigError('SESAME_OIDC_SUSPICIOUS_HEADER: needs SESAME_TRUST_PROXY (the reverse proxy sets the header)');
  return { header, values: values ?? ['1', 'true'] };
}

function oidcLifetimesOf(env: NodeJS.ProcessEnv): OidcLifetimes {
  try {
    return oidcLifetimesFromEnv(env);
  } catch (err) {
    throw err instanceof OidcLifetimeError ? new ConfigError(err.message) : err;
  }
}

/** Reads and validates the environment; throws ConfigError naming the offending variable. */
function signingKeyPolicyOf(env: NodeJS.ProcessEnv): SigningKeyPolicy {
  try {
    return signingKeyPolicyFromEnv(env);
  } catch (err) {
    throw err instanceof SigningKeyPolicyError ? new ConfigError(err.message) : err;
  }
}

export function loadConfig(
  env: NodeJS.ProcessEnv = process.env,
  cwd = process.cwd(),
  /** `command`: an operator command (migrate, keys, users), which never sends mail itself. */
  purpose: 'server' | 'command' = 'server',
): Config {
  const parsed = schema.safeParse(env);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const variable = String(issue?.path[0] ?? 'environment');
    // The message names the variable, never echoes its value (it may be a secret URL).
    throw new ConfigError(`${variable}: ${issue?.message ?? 'invalid value'}`);
  }
  const e = parsed.data;
  const production = e.SESAME_ENV === 'production';
  if (production) {
    if (!e.SESAME_KEYS_FILE) throw new ConfigError('SESAME_KEYS_FILE: required in production (keys are never generated there)');
    if (!e.SESAME_PUBLIC_URL?.startsWith('https://')) throw new ConfigError('SESAME_PUBLIC_URL: must be an https:// URL in production');
    if (!e.SMTP_URL && purpose === 'server') throw new ConfigError('SMTP_URL: required in production (mail is never written to files there)');
    if (!e.SESAME_METRICS_TOKEN && purpose === 'server') throw new ConfigError('SESAME_METRICS_TOKEN: required in production (/metrics is not for everyone)');
  }
  const auth = authPolicyFromEnv(env);
  if (!('policy' in auth)) throw new ConfigError(`${auth.variable}: ${auth.message}`);
  const isolation = isolationSettingsFromEnv(env, production);
  if (!('settings' in isolation)) throw new ConfigError(`${isolation.variable}: ${isolation.message}`);
  const port = e.PORT ?? 8080;
  const dataDir = path.resolve(cwd, e.SESAME_DATA_DIR ?? 'data');
  const publicUrl = new URL(e.SESAME_PUBLIC_URL ?? `http://localhost:${port}`);
  const rpId = e.SESAME_WEBAUTHN_RP_ID ?? publicUrl.hostname;
  if (publicUrl.hostname !== rpId && !publicUrl.hostname.endsWith(`.${rpId}`)) {
    throw new ConfigError('SESAME_WEBAUTHN_RP_ID: must be the host of SESAME_PUBLIC_URL or a parent domain of it');
  }
  const serviceName = e.SESAME_SERVICE_NAME ?? 'Sésame';
  return {
    env: e.SESAME_ENV,
    host: e.HOST ?? (production ? '0.0.0.0' : '127.0.0.1'),
    port,
    publicUrl,
    dataDir,
    databaseUrl: e.DATABASE_URL,
    smtpUrl: e.SMTP_URL,
    mailFrom: e.SESAME_MAIL_FROM ?? `Sésame <ne-pas-repondre@${publicUrl.hostname}>`,
    keysFile: e.SESAME_KEYS_FILE ? path.resolve(cwd, e.SESAME_KEYS_FILE) : path.join(dataDir, 'keys.json'),
    generateKeys: !production,
    logLevel: e.LOG_LEVEL ?? 'info',
    trustProxy: trustProxyOf(e.SESAME_TRUST_PROXY),
    serviceName,
    timeZone: e.SESAME_TIME_ZONE ?? 'Europe/Paris',
    webauthn: { rpId, rpName: serviceName, origins: [publicUrl.origin] },
    geoipDatabase: e.SESAME_GEOIP_DB ? path.resolve(cwd, e.SESAME_GEOIP_DB) : null,
    auth: auth.policy,
    isolation: isolation.settings,
    bankHoldSeconds: e.SESAME_BANK_HOLD_SECONDS ?? 3 * 24 * 3600,
    metricsToken: e.SESAME_METRICS_TOKEN ?? null,
    oidcSigningKeys: signingKeyPolicyOf(env),
    oidcLifetimes: oidcLifetimesOf(env),
    oidcSuspicious: suspiciousRuleOf(e.SESAME_OIDC_SUSPICIOUS_HEADER, e.SESAME_OIDC_SUSPICIOUS_VALUES, trustProxyOf(e.SESAME_TRUST_PROXY)),
    dataProtection: {
      controller: e.SESAME_CONTROLLER_NAME ?? serviceName,
      dpoName: e.SESAME_DPO_NAME ?? `Délégué à la protection des données de ${serviceName}`,
      dpoEmail: e.SESAME_DPO_EMAIL ?? null,
      dpoPostalAddress: e.SESAME_DPO_POSTAL_ADDRESS ?? null,
      dpoPhone: e.SESAME_DPO_PHONE ?? null,
    },
  };
}
