import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

export interface ContactEmailChangedParams {
  at: string;
  /** The new address, masked (`j***@e***.fr`): enough to recognise it, not to learn it. */
  newAddress: string;
  browser: string | null;
  os: string | null;
}

const schema = z.object({ at: isoInstant(), newAddress: mailText(254), ...deviceParams });

/**
 * Sent to the PREVIOUS address once the change is made: whoever took over the account would
 * move its mail elsewhere first, and this is the last message the owner gets there.
 */
export const contactEmailChanged = defineTemplate<ContactEmailChangedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `L’adresse électronique de votre compte ${serviceName} a été changée`,
    greeting: 'Bonjour,',
    paragraphs: [
      `L’adresse électronique de votre compte ${serviceName} a été remplacée le ${formatDateTime('fr', p.at, timeZone)} par ${p.newAddress}, depuis\u00a0: ${describeDevice('fr', p)}. Les messages de ${serviceName} ne seront plus envoyés à cette adresse-ci.`,
      `Si c’était vous, vous n’avez rien à faire.`,
      [
        `Si ce n’était pas vous, quelqu’un a peut-être pris la main sur votre compte\u00a0: prévenez tout de suite ${serviceName} par ses moyens de contact habituels (accueil, téléphone). Si vous pouvez encore vous connecter, tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur, remettez votre adresse dans «\u00a0Coordonnées\u00a0», changez votre mot de passe et mettez fin aux autres sessions dans «\u00a0Sécurité du compte\u00a0».`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `The email address of your ${serviceName} account has been changed`,
    greeting: 'Hello,',
    paragraphs: [
      `The email address of your ${serviceName} account was replaced on ${formatDateTime('en', p.at, timeZone)} with ${p.newAddress}, from: ${describeDevice('en', p)}. ${serviceName} will no longer send messages to this address.`,
      `If it was you, there is nothing to do.`,
      [
        `If it was not you, someone may have taken over your account: tell ${serviceName} at once through its usual contact channels (front desk, telephone). If you can still sign in, type the address `,
        { strong: siteAddress },
        ` into your browser yourself, put your address back in “Contact details”, change your password and end the other sessions in “Account security”.`,
      ],
    ],
  }),
});
