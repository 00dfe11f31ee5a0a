import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

export interface NewBrowserLoginParams {
  at: string;
  browser: string | null;
  os: string | null;
  /** Approximate place ("Lyon, France"), when known. */
  place: string | null;
}

const schema = z.object({ at: isoInstant(), ...deviceParams, place: mailText(100).nullable() });

/** Sent after a sign-in from a browser never seen on the account: the one sign of a stolen password the owner can notice. */
export const newBrowserLogin = defineTemplate<NewBrowserLoginParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Nouvelle connexion à votre compte ${serviceName}`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Quelqu’un vient de se connecter à votre compte ${serviceName} depuis un navigateur qui n’avait encore jamais été utilisé pour ce compte.`,
      `Le ${formatDateTime('fr', p.at, timeZone)}, depuis\u00a0: ${describeDevice('fr', p)}.${p.place ? ` Lieu approximatif\u00a0: ${p.place}.` : ''}`,
      `Si c’était vous, vous n’avez rien à faire.`,
      [
        `Si ce n’était pas vous\u00a0: tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur, changez votre mot de passe, puis mettez fin aux autres sessions depuis la page «\u00a0Sécurité du compte\u00a0». Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `New sign-in to your ${serviceName} account`,
    greeting: 'Hello,',
    paragraphs: [
      `Someone has just signed in to your ${serviceName} account from a browser that had never been used for this account before.`,
      `On ${formatDateTime('en', p.at, timeZone)}, from: ${describeDevice('en', p)}.${p.place ? ` Approximate location: ${p.place}.` : ''}`,
      `If it was you, there is nothing to do.`,
      [
        `If it was not you: type the address `,
        { strong: siteAddress },
        ` into your browser yourself, change your password, then end the other sessions from the “Account security” page. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
    ],
  }),
});
