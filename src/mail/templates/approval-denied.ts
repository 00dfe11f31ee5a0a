import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

export interface ApprovalDeniedParams {
  /** 'denied': the citizen tapped « Refuser »; 'mismatch': they tapped another number than the one shown where the login was asked. */
  reason: 'denied' | 'mismatch';
  at: string;
  /** The browser that asked for the approval. */
  browser: string | null;
  os: string | null;
  place: string | null;
}

const schema = z.object({ reason: z.enum(['denied', 'mismatch']), at: isoInstant(), ...deviceParams, place: mailText(100).nullable() });

/**
 * Sent when the citizen denies a login on their phone, or taps another number than the one
 * shown where the login was asked (perhaps a reflex tap on a request they did not make):
 * either way, whoever asked knew the password. The mail says which, and what to do; the phone
 * itself offered to end every session.
 */
export const approvalDenied = defineTemplate<ApprovalDeniedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: p.reason === 'denied' ? `Connexion refusée sur votre compte ${serviceName}` : `Connexion annulée sur votre compte ${serviceName}`,
    greeting: 'Bonjour,',
    paragraphs: [
      p.reason === 'denied'
        ? `Vous avez refusé sur votre téléphone une connexion à votre compte ${serviceName}, demandée le ${formatDateTime('fr', p.at, timeZone)} depuis\u00a0: ${describeDevice('fr', p)}.${p.place ? ` Lieu approximatif\u00a0: ${p.place}.` : ''}`
        : `Une connexion à votre compte ${serviceName} a été demandée le ${formatDateTime('fr', p.at, timeZone)} depuis\u00a0: ${describeDevice('fr', p)}.${p.place ? ` Lieu approximatif\u00a0: ${p.place}.` : ''} Sur votre téléphone, un autre nombre que celui affiché sur l’écran de cette connexion a été touché\u00a0: la connexion a été annulée.`,
      p.reason === 'denied'
        ? `Cette demande venait de quelqu’un qui connaît votre mot de passe.`
        : `Si vous n’étiez pas en train de vous connecter, vous avez peut-être touché un nombre par réflexe sur une demande qui ne venait pas de vous\u00a0: elle venait alors de quelqu’un qui connaît votre mot de passe.`,
      `Par précaution, la validation sur votre téléphone est suspendue pendant une heure.`,
      [
        `Tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur et choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0»\u00a0: toutes les sessions ouvertes seront fermées. Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: p.reason === 'denied' ? `Sign-in denied on your ${serviceName} account` : `Sign-in cancelled on your ${serviceName} account`,
    greeting: 'Hello,',
    paragraphs: [
      p.reason === 'denied'
        ? `You denied on your phone a sign-in to your ${serviceName} account, requested on ${formatDateTime('en', p.at, timeZone)} from: ${describeDevice('en', p)}.${p.place ? ` Approximate location: ${p.place}.` : ''}`
        : `A sign-in to your ${serviceName} account was requested on ${formatDateTime('en', p.at, timeZone)} from: ${describeDevice('en', p)}.${p.place ? ` Approximate location: ${p.place}.` : ''} On your phone, another number than the one shown on that sign-in’s screen was tapped: the sign-in was cancelled.`,
      p.reason === 'denied'
        ? `That request came from someone who knows your password.`
        : `If you were not signing in, you may have tapped a number by reflex on a request that was not yours: it then came from someone who knows your password.`,
      `As a precaution, approval on your phone is suspended for one hour.`,
      [
        `Type the address `,
        { strong: siteAddress },
        ` into your browser yourself and choose a new password with “Forgotten password”: every open session will be ended. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
    ],
  }),
});
