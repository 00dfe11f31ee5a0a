import { MAX_ACCESS_CACHE_MS } from '../incident/access-cache.ts';
import { DEFAULT_TRIPWIRE, type TripwireSettings } from './violations.ts';

/** Test-only faults (never in production): each makes one part of the app wrong on purpose, to prove the tripwire catches it. */
export const FAULTS = ['wrong-session-account'] as const;
export type Fault = (typeof FAULTS)[number];

export interface IsolationSettings {
  tripwire: TripwireSettings;
  /** How long a process may trust its copy of the kill switch (0–1000 ms). */
  accessCacheMs: number;
  /** Seconds the maintenance page tells clients to wait (Retry-After). */
  maintenanceRetryAfter: number;
  faultInjection: Fault | null;
}

export const DEFAULT_ISOLATION: IsolationSettings = { tripwire: DEFAULT_TRIPWIRE, accessCacheMs: MAX_ACCESS_CACHE_MS, maintenanceRetryAfter: 300, faultInjection: null };

class Invalid extends Error {
  readonly variable: string;
  constructor(variable: string, message: string) {
    super(message);
    this.variable = variable;
  }
}

function wholeNumber(env: NodeJS.ProcessEnv, variable: string, min: number, max: number, fallback: number): number {
  const raw = env[variable]?.trim();
  if (raw === undefined || raw === '') return fallback;
  if (!/^\d{1,9}$/.test(raw) || Number(raw) < min || Number(raw) > max) throw new Invalid(variable, `must be a whole number from ${min} to ${max}`);
  return Number(raw);
}

function faultOf(env: NodeJS.ProcessEnv, production: boolean): Fault | null {
  const fault = env.SESAME_FAULT_INJECTION?.trim() || null;
  if (fault === null) return null;
  if (!(FAULTS as readonly string[]).includes(fault)) throw new Invalid('SESAME_FAULT_INJECTION', `must be one of: ${FAULTS.join(', ')} (tests only)`);
  // The switch exists for tests; a production process refuses to start with it.
  if (production) throw new Invalid('SESAME_FAULT_INJECTION', 'refused in production: fault injection is for tests only');
  return fault as Fault;
}

/** SESAME_TRIPWIRE_*, SESAME_ACCESS_CACHE_MS, SESAME_MAINTENANCE_RETRY_AFTER, SESAME_FAULT_INJECTION (docs/configuration.md). */
export function isolationSettingsFromEnv(env: NodeJS.ProcessEnv, production: boolean): { settings: IsolationSettings } | { variable: string; message: string } {
  try {
    return {
      settings: {
        tripwire: {
          threshold: wholeNumber(env, 'SESAME_TRIPWIRE_THRESHOLD', 1, 1_000_000, DEFAULT_TRIPWIRE.threshold),
          windowSeconds: wholeNumber(env, 'SESAME_TRIPWIRE_WINDOW_SECONDS', 1, 86_400, DEFAULT_TRIPWIRE.windowSeconds),
        },
        accessCacheMs: wholeNumber(env, 'SESAME_ACCESS_CACHE_MS', 0, MAX_ACCESS_CACHE_MS, DEFAULT_ISOLATION.accessCacheMs),
        maintenanceRetryAfter: wholeNumber(env, 'SESAME_MAINTENANCE_RETRY_AFTER', 1, 86_400, DEFAULT_ISOLATION.maintenanceRetryAfter),
        faultInjection: faultOf(env, production),
      },
    };
  } catch (err) {
    if (err instanceof Invalid) return { variable: err.variable, message: err.message };
    throw err;
  }
}
