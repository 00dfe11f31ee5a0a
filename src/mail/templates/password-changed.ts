import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, type MailLocale } from './types.ts';

export type PasswordChangedVia = 'activation' | 'recovery' | 'change';

export interface PasswordChangedParams {
  at: string;
  browser: string | null;
  os: string | null;
  /** Chosen on activation, reset with "forgotten password", or changed from the account. */
  via: PasswordChangedVia;
}

const schema = z.object({ at: isoInstant(), ...deviceParams, via: z.enum(['activation', 'recovery', 'change']) });

const DONE: Record<MailLocale, Record<PasswordChangedVia, string>> = {
  fr: { activation: 'choisi', recovery: 'réinitialisé', change: 'changé' },
  en: { activation: 'set', recovery: 'reset', change: 'changed' },
};

// Une réinitialisation ou un changement ferme les autres sessions ; une activation n'en avait pas.
// A reset or a change ends the other sessions; an activation had none.
const endsSessions = (via: PasswordChangedVia): boolean => via !== 'activation';

/** Sent after the password is set, reset or changed: if it was not the owner, they learn it now and know what to do. */
export const passwordChanged = defineTemplate<PasswordChangedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Votre mot de passe ${serviceName} a été ${DONE.fr[p.via]}`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Le mot de passe de votre compte ${serviceName} a été ${DONE.fr[p.via]} le ${formatDateTime('fr', p.at, timeZone)}, depuis\u00a0: ${describeDevice('fr', p)}.`,
      ...(endsSessions(p.via) ? ['Par sécurité, toutes les autres sessions ouvertes sur votre compte ont été fermées.'] : []),
      `Si c’était vous, vous n’avez rien à faire.`,
      [
        `Si ce n’était pas vous\u00a0: tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur et choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0». Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Your ${serviceName} password has been ${DONE.en[p.via]}`,
    greeting: 'Hello,',
    paragraphs: [
      `The password of your ${serviceName} account was ${DONE.en[p.via]} on ${formatDateTime('en', p.at, timeZone)}, from: ${describeDevice('en', p)}.`,
      ...(endsSessions(p.via) ? ['For your security, all other sessions on your account have been ended.'] : []),
      `If it was you, there is nothing to do.`,
      [
        `If it was not you: type the address `,
        { strong: siteAddress },
        ` into your browser yourself and choose a new password with “Forgotten password”. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
    ],
  }),
});
