import type { FastifyReply, FastifyRequest } from 'fastify';
import type { SafeHtml } from '../../web/html.ts';
import type { Locale } from '../../web/i18n.ts';
import type { AuthenticatorKind } from '../authenticators.ts';
import type { Flow } from './flow.ts';
import { DEVICE_SECOND_STEP } from './device/second-step.ts';
import { PASSKEY_FIRST_STEP } from './passkey/views.ts';
import { totpSecondSteps } from './totp/second-steps.ts';

/**
 * How the strong methods show up in the flows' pages, without the pages knowing each method:
 * - a first step stands alone (a passkey): its block is on /login and on a step-up's first page;
 * - a second step follows the password (authenticator app, recovery code, approval device):
 *   the second-step page links to `${flowUrl}/${path}`, a page the method serves for the
 *   bases `/login` and `/step-up`.
 * A new method adds its entry below; nothing else in the flows changes.
 */
export interface FirstStep {
  /** Offered on a step-up only when the account has one of these (always on /login: nobody is known yet). */
  kinds: readonly AuthenticatorKind[];
  render(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; flow: Flow | null; base: '/login' | '/step-up' }): SafeHtml;
  /** Module scripts (under src/web/assets) the block needs. */
  scripts: readonly string[];
}

export interface SecondStep {
  method: 'totp' | 'recovery-code' | 'device-approval';
  kinds: readonly AuthenticatorKind[];
  path: string;
  label(locale: Locale): string;
}

export const FIRST_STEPS: readonly FirstStep[] = [PASSKEY_FIRST_STEP];

export const SECOND_STEPS: readonly SecondStep[] = [...totpSecondSteps, DEVICE_SECOND_STEP];

export const offeredSecondSteps = (kinds: ReadonlySet<AuthenticatorKind>): SecondStep[] => SECOND_STEPS.filter((s) => s.kinds.some((k) => kinds.has(k)));
