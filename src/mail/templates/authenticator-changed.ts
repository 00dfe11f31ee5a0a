import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, type MailLocale } from './types.ts';

export type AuthenticatorKind = 'passkey' | 'totp' | 'device' | 'recovery-codes';
export type AuthenticatorChange = 'added' | 'removed' | 'regenerated';

export interface AuthenticatorChangedParams {
  at: string;
  browser: string | null;
  os: string | null;
  kind: AuthenticatorKind;
  change: AuthenticatorChange;
}

const schema = z.object({
  at: isoInstant(),
  ...deviceParams,
  kind: z.enum(['passkey', 'totp', 'device', 'recovery-codes']),
  change: z.enum(['added', 'removed', 'regenerated']),
});

const WHAT: Record<MailLocale, Record<AuthenticatorKind, string>> = {
  fr: { passkey: 'une clé d’accès', totp: 'une application d’authentification', device: 'un téléphone de validation', 'recovery-codes': 'de nouveaux codes de secours' },
  en: { passkey: 'a passkey', totp: 'an authenticator app', device: 'an approval phone', 'recovery-codes': 'new recovery codes' },
};
const DONE: Record<MailLocale, Record<AuthenticatorChange, string>> = {
  fr: { added: 'a été ajouté à', removed: 'a été retiré de', regenerated: 'ont été créés pour' },
  en: { added: 'was added to', removed: 'was removed from', regenerated: 'were created for' },
};

/**
 * Sent at every enrolment and removal of a way to log in: someone who took over the password
 * and the mailbox would add their own authenticator first; the owner must hear of it.
 */
export const authenticatorChanged = defineTemplate<AuthenticatorChangedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Sécurité de votre compte ${serviceName}\u00a0: ${p.change === 'removed' ? 'méthode de connexion retirée' : 'méthode de connexion ajoutée'}`,
    greeting: 'Bonjour,',
    paragraphs: [
      `${WHAT.fr[p.kind].replace(/^./, (c) => c.toUpperCase())} ${DONE.fr[p.change]} votre compte ${serviceName} le ${formatDateTime('fr', p.at, timeZone)}, depuis\u00a0: ${describeDevice('fr', p)}.`,
      `Si c’était vous, vous n’avez rien à faire.`,
      [
        `Si ce n’était pas vous\u00a0: tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur, choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0», puis, dans «\u00a0Sécurité du compte\u00a0», retirez ce que vous ne reconnaissez pas et mettez fin aux autres sessions. Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Security of your ${serviceName} account: ${p.change === 'removed' ? 'sign-in method removed' : 'sign-in method added'}`,
    greeting: 'Hello,',
    paragraphs: [
      `${WHAT.en[p.kind].replace(/^./, (c) => c.toUpperCase())} ${DONE.en[p.change]} your ${serviceName} account on ${formatDateTime('en', p.at, timeZone)}, from: ${describeDevice('en', p)}.`,
      `If it was you, there is nothing to do.`,
      [
        `If it was not you: type the address `,
        { strong: siteAddress },
        ` into your browser yourself, choose a new password with “Forgotten password”, then, in “Account security”, remove what you do not recognise and end the other sessions. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
    ],
  }),
});
