import { t } from '../../../web/i18n.ts';
import type { SecondStep } from '../method-registry.ts';

/** The authenticator app and its recovery codes as second steps (routes.ts serves their pages). */
export const totpSecondSteps: SecondStep[] = [
  { method: 'totp', path: 'totp', kinds: ['totp'], label: (locale) => t(locale, 'totp.secondStep.label') },
  { method: 'recovery-code', path: 'recovery-code', kinds: ['totp'], label: (locale) => t(locale, 'totp.recovery.secondStep.label') },
];
