import { z } from 'zod';
import { formatDateTime } from '../../time-format.ts';
import type { MailSite } from '../site.ts';
import { isoInstant } from './device.ts';
import { mailText, type MailContent, type MailLocale, type Paragraph } from './types.ts';

/**
 * What both incident notices say (GDPR Article 34): what happened, which of the person's data,
 * what was done for them, what to do, how to reach the data protection officer. Everything is
 * plain text: the DPO's email address is written out (no `mailto:`), the site's address is to
 * be typed. The mail is in both languages, the one chosen first: the account has no language
 * of its own on file and a notice must be understood by whoever receives it.
 */
export const NOTICE_DATA = ['identity', 'contact', 'bank-details', 'payments', 'procedures'] as const;
export type NoticeData = (typeof NOTICE_DATA)[number];

export interface IncidentNoticeParams {
  /** INC-2026-001: to quote when contacting the agency. */
  reference: string;
  /** The incident's window, ISO instants (shown in the site's zone). */
  from: string;
  to: string;
  /** The person's data concerned; empty when their account was only used in the window. */
  data: NoticeData[];
  /** Changes to their file made in the window and cancelled (`incident cancel`). */
  changesCancelled: number;
  /** Whether `incident reset-credentials` reset their account. */
  credentialsReset: boolean;
  /** Authenticators added in the window and removed by that reset. */
  authenticatorsRemoved: number;
  /** The data controller (config.dataProtection.controller). */
  controller: string;
  dpo: { name: string; email: string | null; postalAddress: string | null; phone: string | null };
}

export const noticeSchema = z.object({
  reference: z.string().regex(/^INC-\d{4}-\d{3,}$/),
  from: isoInstant(),
  to: isoInstant(),
  data: z.array(z.enum(NOTICE_DATA)).max(NOTICE_DATA.length),
  changesCancelled: z.number().int().min(0).max(100_000),
  credentialsReset: z.boolean(),
  authenticatorsRemoved: z.number().int().min(0).max(1000),
  controller: mailText(200),
  dpo: z.object({
    name: mailText(200),
    email: z.email().max(254).nullable(),
    postalAddress: mailText(500).nullable(),
    phone: z
      .string()
      .regex(/^\+?[0-9 .()-]{6,30}$/)
      .nullable(),
  }),
});

export type NoticeKind = 'data-exposed' | 'credentials-reset';

const DATA: Record<MailLocale, Record<NoticeData, string>> = {
  fr: {
    identity: 'votre identité (nom, prénoms, date de naissance, numéro de sécurité sociale)',
    contact: 'vos coordonnées (adresse électronique, téléphone, adresse postale)',
    'bank-details': 'vos coordonnées bancaires (IBAN)',
    payments: 'vos paiements (prestations, montants, dates)',
    procedures: 'vos démarches',
  },
  en: {
    identity: 'your identity (name, first names, date of birth, social security number)',
    contact: 'your contact details (email address, telephone, postal address)',
    'bank-details': 'your bank details (IBAN)',
    payments: 'your payments (benefits, amounts, dates)',
    procedures: 'your applications',
  },
};

type Say = (p: IncidentNoticeParams, site: MailSite) => string;

const FR: Record<NoticeKind, { subject: Say; happened: Say }> = {
  'data-exposed': {
    subject: (p, { serviceName }) => `${serviceName}\u00a0: incident de sécurité concernant vos données (${p.reference})`,
    happened: (p, { serviceName, timeZone }) =>
      `Entre le ${formatDateTime('fr', p.from, timeZone)} et le ${formatDateTime('fr', p.to, timeZone)}, une erreur de ${serviceName} a pu montrer des informations de votre dossier à une autre personne connectée au service, ou lui permettre de les modifier. Nous vous écrivons pour vous dire ce qui s’est passé, ce que nous avons fait et ce que vous pouvez faire. Cet incident porte la référence ${p.reference}\u00a0: rappelez-la si vous nous contactez.`,
  },
  'credentials-reset': {
    subject: (p, { serviceName }) => `${serviceName}\u00a0: choisissez un nouveau mot de passe (incident ${p.reference})`,
    happened: (p, { serviceName, timeZone }) =>
      `Entre le ${formatDateTime('fr', p.from, timeZone)} et le ${formatDateTime('fr', p.to, timeZone)}, une erreur de ${serviceName} a touché votre compte. Par précaution, nous avons réinitialisé vos moyens de connexion\u00a0: votre mot de passe actuel ne permet plus de vous connecter. Cet incident porte la référence ${p.reference}\u00a0: rappelez-la si vous nous contactez.`,
  },
};

const EN: Record<NoticeKind, { subject: Say; happened: Say }> = {
  'data-exposed': {
    subject: (p, { serviceName }) => `${serviceName}: security incident concerning your data (${p.reference})`,
    happened: (p, { serviceName, timeZone }) =>
      `Between ${formatDateTime('en', p.from, timeZone)} and ${formatDateTime('en', p.to, timeZone)}, a fault in ${serviceName} may have shown information from your file to another person signed in to the service, or let them change it. We are writing to tell you what happened, what we have done and what you can do. This incident has the reference ${p.reference}: quote it if you contact us.`,
  },
  'credentials-reset': {
    subject: (p, { serviceName }) => `${serviceName}: choose a new password (incident ${p.reference})`,
    happened: (p, { serviceName, timeZone }) =>
      `Between ${formatDateTime('en', p.from, timeZone)} and ${formatDateTime('en', p.to, timeZone)}, a fault in ${serviceName} affected your account. As a precaution, we have reset the ways you sign in: your current password no longer lets you sign in. This incident has the reference ${p.reference}: quote it if you contact us.`,
  },
};

const list = (items: string[], and: string): string => (items.length <= 1 ? (items[0] ?? '') : `${items.slice(0, -1).join(', ')} ${and} ${items.at(-1) ?? ''}`);

function bodyFr(kind: NoticeKind, p: IncidentNoticeParams, site: MailSite): Paragraph[] {
  const { serviceName, siteAddress } = site;
  const dpo = p.dpo;
  const cancelled = p.changesCancelled === 1 ? '1 changement fait' : `${p.changesCancelled} changements faits`;
  const removed = p.authenticatorsRemoved === 1 ? '1 moyen de connexion ajouté' : `${p.authenticatorsRemoved} moyens de connexion ajoutés`;
  return [
    FR[kind].happened(p, site),
    p.data.length > 0
      ? `Les informations concernées sont\u00a0: ${list(p.data.map((d) => DATA.fr[d]), 'et')}.`
      : `Nous n’avons trouvé aucun signe que les informations de votre dossier aient été vues ou modifiées par quelqu’un d’autre\u00a0; votre compte a été utilisé pendant cette période.`,
    ...(p.changesCancelled > 0
      ? [`Ce que nous avons fait\u00a0: ${cancelled} sur votre dossier pendant cette période ${p.changesCancelled === 1 ? 'a été annulé' : 'ont été annulés'}\u00a0; votre dossier est revenu à son état d’avant.`]
      : []),
    ...(p.credentialsReset
      ? [
          `${p.changesCancelled > 0 ? 'Nous avons aussi' : 'Ce que nous avons fait\u00a0: nous avons'} fermé toutes les sessions ouvertes sur votre compte et rendu votre mot de passe inutilisable.${p.authenticatorsRemoved > 0 ? ` ${removed} pendant cette période (clé d’accès, application d’authentification ou téléphone de validation) ${p.authenticatorsRemoved === 1 ? 'a été retiré' : 'ont été retirés'}.` : ''}`,
        ]
      : []),
    [
      `Ce que vous pouvez faire\u00a0: tapez vous-même l’adresse `,
      { strong: siteAddress },
      p.credentialsReset
        ? ` dans votre navigateur et choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0» (un code vous sera envoyé par courriel). Une fois connecté, vérifiez vos coordonnées bancaires, vos paiements et vos démarches.`
        : ` dans votre navigateur, connectez-vous et vérifiez vos coordonnées bancaires, vos paiements et vos démarches. Par précaution, changez votre mot de passe avec «\u00a0Mot de passe oublié\u00a0».`,
    ],
    `Méfiez-vous des messages et des appels qui se serviraient de ces informations pour paraître crédibles\u00a0: ${serviceName} ne vous demandera jamais votre mot de passe ni un code reçu par courriel. Si vous remarquez quelque chose d’anormal (un paiement, une démarche ou un changement que vous n’avez pas fait), signalez-le à ${serviceName} par ses moyens de contact habituels (accueil, téléphone) en rappelant la référence ${p.reference}.`,
    `Pour toute question sur vos données personnelles, vous pouvez contacter le délégué à la protection des données de ${p.controller}\u00a0: ${dpo.name}${dpo.email ? `, par courriel à l’adresse ${dpo.email}` : ''}${dpo.postalAddress ? `, par courrier au ${dpo.postalAddress}` : ''}${dpo.phone ? `, par téléphone au ${dpo.phone}` : ''}. Vous pouvez aussi adresser une réclamation à la Commission nationale de l’informatique et des libertés (CNIL).`,
  ];
}

function bodyEn(kind: NoticeKind, p: IncidentNoticeParams, site: MailSite): Paragraph[] {
  const { serviceName, siteAddress } = site;
  const dpo = p.dpo;
  const cancelled = p.changesCancelled === 1 ? '1 change' : `${p.changesCancelled} changes`;
  const removed = p.authenticatorsRemoved === 1 ? '1 way of signing in' : `${p.authenticatorsRemoved} ways of signing in`;
  return [
    EN[kind].happened(p, site),
    p.data.length > 0
      ? `The information concerned is: ${list(p.data.map((d) => DATA.en[d]), 'and')}.`
      : `We found no sign that the information in your file was seen or changed by anyone else; your account was used during that period.`,
    ...(p.changesCancelled > 0 ? [`What we have done: ${cancelled} made to your file during that period ${p.changesCancelled === 1 ? 'was' : 'were'} cancelled; your file is back as it was before.`] : []),
    ...(p.credentialsReset
      ? [
          `${p.changesCancelled > 0 ? 'We also' : 'What we have done: we'} ended every session open on your account and made your password unusable.${p.authenticatorsRemoved > 0 ? ` ${removed} added during that period (passkey, authenticator app or approval phone) ${p.authenticatorsRemoved === 1 ? 'was' : 'were'} removed.` : ''}`,
        ]
      : []),
    [
      `What you can do: type the address `,
      { strong: siteAddress },
      p.credentialsReset
        ? ` into your browser yourself and choose a new password with “Forgotten password” (a code will be sent to you by email). Once signed in, check your bank details, your payments and your applications.`
        : ` into your browser yourself, sign in and check your bank details, your payments and your applications. As a precaution, change your password with “Forgotten password”.`,
    ],
    `Beware of messages and calls that would use this information to seem genuine: ${serviceName} will never ask you for your password or for a code received by email. If you notice anything unusual (a payment, an application or a change you did not make), report it to ${serviceName} through its usual contact channels (front desk, telephone), quoting the reference ${p.reference}.`,
    `For any question about your personal data, you can contact the data protection officer of ${p.controller}: ${dpo.name}${dpo.email ? `, by email at the address ${dpo.email}` : ''}${dpo.postalAddress ? `, by post at ${dpo.postalAddress}` : ''}${dpo.phone ? `, by telephone on ${dpo.phone}` : ''}. You can also lodge a complaint with the French data protection authority (CNIL).`,
  ];
}

const body = (locale: MailLocale, kind: NoticeKind, p: IncidentNoticeParams, site: MailSite): Paragraph[] => (locale === 'fr' ? bodyFr(kind, p, site) : bodyEn(kind, p, site));

const OTHER: Record<MailLocale, MailLocale> = { fr: 'en', en: 'fr' };
const SEPARATOR: Record<MailLocale, string> = { fr: '— Version française —', en: '— English version —' };
const GREETING: Record<MailLocale, string> = { fr: 'Bonjour,', en: 'Hello,' };

/** The notice in `locale`, then in the other language under a heading of its own. */
export function noticeContent(kind: NoticeKind, locale: MailLocale, p: IncidentNoticeParams, site: MailSite): MailContent {
  const other = OTHER[locale];
  return {
    subject: (locale === 'fr' ? FR : EN)[kind].subject(p, site),
    greeting: GREETING[locale],
    paragraphs: [...body(locale, kind, p, site), SEPARATOR[other], GREETING[other], ...body(other, kind, p, site)],
  };
}
