import { z } from 'zod';
import { isoInstant } from './device.ts';
import { formatDateTime } from '../../time-format.ts';
import { defineTemplate, mailText } from './types.ts';

export type BankChangeCancelledVia = 'account' | 'code';

export interface BankDetailsChangeCancelledParams {
  /** When the change was cancelled. */
  at: string;
  /** When the cancelled change had been made. */
  changedAt: string;
  /** The IBAN of the cancelled change, masked. */
  cancelledMaskedIban: string;
  /** The IBAN payments keep going to, masked; null when none is on file any more. */
  keptMaskedIban: string | null;
  /** From the account (a session), or with the mailed code and the NIR (no session). */
  via: BankChangeCancelledVia;
}

const schema = z.object({
  at: isoInstant(),
  changedAt: isoInstant(),
  cancelledMaskedIban: mailText(50),
  keptMaskedIban: mailText(50).nullable(),
  via: z.enum(['account', 'code']),
});

/** Confirms a cancelled change of bank details; after a cancellation by code, what else to do. */
export const bankDetailsChangeCancelled = defineTemplate<BankDetailsChangeCancelledParams>(schema, {
  fr: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `Le changement de vos coordonnées bancaires ${serviceName} a été annulé`,
    greeting: 'Bonjour,',
    paragraphs: [
      `Le changement de coordonnées bancaires fait le ${formatDateTime('fr', p.changedAt, timeZone)} (nouvel IBAN ${p.cancelledMaskedIban}) a été annulé le ${formatDateTime('fr', p.at, timeZone)}${p.via === 'code' ? ' avec le code d’annulation' : ' depuis votre compte'}.`,
      p.keptMaskedIban ? `Vos paiements continuent d’être versés sur votre IBAN ${p.keptMaskedIban}.` : `Aucun IBAN n’est plus enregistré\u00a0: vos paiements sont suspendus jusqu’à ce que vous en indiquiez un.`,
      ...(p.via === 'code'
        ? [
            `Par sécurité, toutes les sessions ouvertes sur votre compte ont été fermées.`,
            [
              `Tapez vous-même l’adresse `,
              { strong: siteAddress },
              ` dans votre navigateur et choisissez tout de suite un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0». Prévenez aussi ${serviceName} par ses moyens de contact habituels (accueil, téléphone).`,
            ],
          ]
        : [
            [
              `Si ce n’était pas vous, tapez vous-même l’adresse `,
              { strong: siteAddress },
              ` dans votre navigateur, changez votre mot de passe et mettez fin aux autres sessions dans «\u00a0Sécurité du compte\u00a0».`,
            ],
          ]),
    ],
  }),
  en: (p, { serviceName, siteAddress, timeZone }) => ({
    subject: `The change of your ${serviceName} bank details has been cancelled`,
    greeting: 'Hello,',
    paragraphs: [
      `The change of bank details made on ${formatDateTime('en', p.changedAt, timeZone)} (new IBAN ${p.cancelledMaskedIban}) was cancelled on ${formatDateTime('en', p.at, timeZone)}${p.via === 'code' ? ' with the cancellation code' : ' from your account'}.`,
      p.keptMaskedIban ? `Your payments keep going to your IBAN ${p.keptMaskedIban}.` : `No IBAN is on file any more: your payments are on hold until you give one.`,
      ...(p.via === 'code'
        ? [
            `For your security, all sessions on your account have been ended.`,
            [
              `Type the address `,
              { strong: siteAddress },
              ` into your browser yourself and choose a new password at once with “Forgotten password”. Also tell ${serviceName} through its usual contact channels (front desk, telephone).`,
            ],
          ]
        : [
            [
              `If it was not you, type the address `,
              { strong: siteAddress },
              ` into your browser yourself, change your password and end the other sessions in “Account security”.`,
            ],
          ]),
    ],
  }),
});
