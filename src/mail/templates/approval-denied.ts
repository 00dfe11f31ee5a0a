import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

export interface ApprovalDeniedParams {
  at: string;
  /** The browser that asked for the approval. */
  browser: string | null;
  os: string | null;
  place: string | null;
}

const schema = z.object({ at: isoInstant(), ...deviceParams, place: mailText(100).nullable() });

/**
 * Sent when the citizen denies a login on their phone: whoever asked knew the password. The
 * mail says so and what to do; the phone itself offered to end every session.
 */
export const approvalDenied = defineTemplate<ApprovalDeniedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Connexion refusée sur votre compte ${serviceName}`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Vous avez refusé sur votre téléphone une connexion à votre compte ${serviceName}, demandée le ${formatDateTime('fr', p.at, timeZone)} depuis\u00a0: ${describeDevice('fr', p)}.${p.place ? ` Lieu approximatif\u00a0: ${p.place}.` : ''}`,
      `Cette demande venait de quelqu’un qui connaît votre mot de passe.`,
      [
        `Tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur et choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0»\u00a0: toutes les sessions ouvertes seront fermées. Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Sign-in denied on your ${serviceName} account`,
    greeting: 'Hello,',
    paragraphs: [
      `You denied on your phone a sign-in to your ${serviceName} account, requested on ${formatDateTime('en', p.at, timeZone)} from: ${describeDevice('en', p)}.${p.place ? ` Approximate location: ${p.place}.` : ''}`,
      `That request came from someone who knows your password.`,
      [
        `Type the address `,
        { strong: siteAddress },
        ` into your browser yourself and choose a new password with “Forgotten password”: every open session will be ended. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
    ],
  }),
});
