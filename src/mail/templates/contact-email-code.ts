import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime, formatTime } from '../../time-format.ts';
import { defineTemplate } from './types.ts';

export interface ContactEmailCodeParams {
  /** Exactly 6 digits. */
  code: string;
  requestedAt: string;
  expiresAt: string;
  browser: string | null;
  os: string | null;
}

const schema = z.object({ code: z.string().regex(/^[0-9]{6}$/), requestedAt: isoInstant(), expiresAt: isoInstant(), ...deviceParams });

/**
 * Sent to the NEW address of a change of email: the change only happens once this code is
 * typed, which proves the address is the citizen's and spelled right. Whoever receives it may
 * not be the account's owner (a typo), so it names nobody and says how to ignore it.
 */
export const contactEmailCode = defineTemplate<ContactEmailCodeParams>(schema, {
  fr: (p, { serviceName, timeZone }) => ({
    subject: `Confirmez votre nouvelle adresse électronique ${serviceName}`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Cette adresse électronique a été indiquée le ${formatDateTime('fr', p.requestedAt, timeZone)} comme nouvelle adresse d’un compte ${serviceName}, depuis\u00a0: ${describeDevice('fr', p)}.`,
      ['Pour confirmer ce changement, saisissez ce code sur la page ouverte dans votre navigateur\u00a0: ', { strong: p.code }],
      `Il expire à ${formatTime('fr', p.expiresAt, timeZone)} et ne peut servir qu’une seule fois. Les agents de ${serviceName} ne vous demanderont jamais ce code\u00a0: ne le donnez à personne.`,
      `Si vous n’avez rien demandé, ignorez ce message\u00a0: sans ce code, cette adresse ne sera pas enregistrée.`,
    ],
  }),
  en: (p, { serviceName, timeZone }) => ({
    subject: `Confirm your new ${serviceName} email address`,
    greeting: 'Hello,',
    paragraphs: [
      `This email address was given on ${formatDateTime('en', p.requestedAt, timeZone)} as the new address of a ${serviceName} account, from: ${describeDevice('en', p)}.`,
      ['To confirm the change, type this code into the page open in your browser: ', { strong: p.code }],
      `It expires at ${formatTime('en', p.expiresAt, timeZone)} and can be used only once. ${serviceName} staff will never ask you for this code: do not give it to anyone.`,
      `If you did not ask for anything, ignore this message: without this code, this address will not be recorded.`,
    ],
  }),
});
