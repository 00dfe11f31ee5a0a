import { t } from '../../../web/i18n.ts';
import type { SecondStep } from '../method-registry.ts';

/** « Valider sur mon téléphone », offered after the password to accounts with an approval device. */
export const DEVICE_SECOND_STEP: SecondStep = {
  method: 'device-approval',
  kinds: ['device'],
  path: 'device',
  label: (locale) => t(locale, 'device.method.label'),
};
