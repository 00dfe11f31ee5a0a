import { z } from 'zod';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

/** Where a change is cancelled without logging in (src/account-area/bank-details/cancel-by-code.ts), by language. */
export const CANCEL_PATHS = { fr: '/annuler-changement-bancaire', en: '/cancel-bank-change' } as const;

export interface BankDetailsChangedParams {
  at: string;
  /** The new IBAN, masked (`FR76 **** … 0189`). */
  maskedIban: string;
  /** The IBAN payments keep going to until then, masked; null when there was none. */
  previousMaskedIban: string | null;
  /** When the new IBAN starts to be used: the end of the hold. */
  effectiveAt: string;
  /** The one-time cancellation code, `XXXXX-XXXXX`. */
  cancelCode: string;
  browser: string | null;
  os: string | null;
}

const schema = z.object({
  at: isoInstant(),
  maskedIban: mailText(50),
  previousMaskedIban: mailText(50).nullable(),
  effectiveAt: isoInstant(),
  cancelCode: z.string().regex(/^[A-Z2-7]{5}-[A-Z2-7]{5}$/),
  ...deviceParams,
});

/**
 * Sent at every change of bank details (FranceConnect 2022: phished accounts had their
 * benefits diverted). The change waits until effectiveAt; the owner can stop it from the
 * account, or, if the account is no longer theirs, with the code and their NIR on a public
 * page whose address they type themselves (no link, as in every mail).
 */
export const bankDetailsChanged = defineTemplate<BankDetailsChangedParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Vos coordonnées bancaires ${serviceName} ont été modifiées`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Les coordonnées bancaires de votre compte ${serviceName} ont été modifiées le ${formatDateTime('fr', p.at, timeZone)}, depuis\u00a0: ${describeDevice('fr', p)}.`,
      ['Nouvel IBAN\u00a0: ', { strong: p.maskedIban }],
      [
        `Il sera utilisé pour vos paiements à partir du `,
        { strong: formatDateTime('fr', p.effectiveAt, timeZone) },
        p.previousMaskedIban ? `. Jusque-là, vos paiements continuent d’être versés sur votre IBAN actuel (${p.previousMaskedIban}).` : '.',
      ],
      `Si c’était vous, vous n’avez rien à faire.`,
      [
        `Si ce n’était pas vous, annulez ce changement avant cette date. Depuis votre compte\u00a0: tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans votre navigateur, connectez-vous, puis choisissez «\u00a0Annuler ce changement\u00a0» dans «\u00a0Coordonnées bancaires\u00a0».`,
      ],
      [
        `Sans vous connecter (si vous ne pouvez plus accéder à votre compte)\u00a0: tapez vous-même l’adresse `,
        { strong: `${siteAddress}${CANCEL_PATHS.fr}` },
        ` dans votre navigateur, puis saisissez votre numéro de sécurité sociale et ce code d’annulation\u00a0: `,
        { strong: p.cancelCode },
        `. Il ne sert qu’une fois. Changez ensuite votre mot de passe avec «\u00a0Mot de passe oublié\u00a0» et prévenez ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
      ],
      `Les agents de ${serviceName} ne vous demanderont jamais ce code.`,
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Your ${serviceName} bank details have been changed`,
    greeting: 'Hello,',
    paragraphs: [
      `The bank details of your ${serviceName} account were changed on ${formatDateTime('en', p.at, timeZone)}, from: ${describeDevice('en', p)}.`,
      ['New IBAN: ', { strong: p.maskedIban }],
      [
        `It will be used for your payments from `,
        { strong: formatDateTime('en', p.effectiveAt, timeZone) },
        p.previousMaskedIban ? `. Until then, your payments keep going to your current IBAN (${p.previousMaskedIban}).` : '.',
      ],
      `If it was you, there is nothing to do.`,
      [
        `If it was not you, cancel this change before that date. From your account: type the address `,
        { strong: siteAddress },
        ` into your browser yourself, sign in, then choose “Cancel this change” in “Bank details”.`,
      ],
      [
        `Without signing in (if you can no longer access your account): type the address `,
        { strong: `${siteAddress}${CANCEL_PATHS.en}` },
        ` into your browser yourself, then enter your social security number and this cancellation code: `,
        { strong: p.cancelCode },
        `. It works once. Then change your password with “Forgotten password” and tell ${serviceName} through its usual contact channels (front desk, telephone).`,
      ],
      `${serviceName} staff will never ask you for this code.`,
    ],
  }),
});
