import { z } from 'zod';
import type { MailSite } from '../site.ts';
import { describeDevice, deviceParams, isoInstant } from './device.ts';
import { formatDateTime, formatTime } from '../../time-format.ts';
import { defineTemplate, type MailContent, type Paragraph } from './types.ts';

export type OneTimeCodePurpose = 'login' | 'activation' | 'recovery' | 'confirm';

export interface OneTimeCodeParams {
  purpose: OneTimeCodePurpose;
  /** Exactly 6 digits. */
  code: string;
  requestedAt: string;
  expiresAt: string;
  browser: string | null;
  os: string | null;
}

const schema = z.object({
  purpose: z.enum(['login', 'activation', 'recovery', 'confirm']),
  code: z.string().regex(/^[0-9]{6}$/),
  requestedAt: isoInstant(),
  expiresAt: isoInstant(),
  ...deviceParams,
});

type Words = {
  subject: Record<OneTimeCodePurpose, (serviceName: string) => string>;
  purpose: Record<OneTimeCodePurpose, string>;
  /** What to do when the code was not asked for: depends on what an attacker could have done. */
  unexpected: Record<OneTimeCodePurpose, (site: MailSite) => Paragraph>;
  body: (p: OneTimeCodeParams, site: MailSite, purpose: string) => Paragraph[];
  greeting: string;
};

const FR: Words = {
  greeting: 'Bonjour,',
  subject: {
    login: (s) => `Votre code de connexion ${s}`,
    activation: (s) => `Votre code d’activation ${s}`,
    recovery: (s) => `Votre code de réinitialisation du mot de passe ${s}`,
    confirm: (s) => `Votre code de confirmation ${s}`,
  },
  purpose: {
    login: 'vous connecter à votre compte',
    activation: 'activer votre compte',
    recovery: 'choisir un nouveau mot de passe (mot de passe oublié)',
    confirm: 'confirmer une opération sur votre compte (changement de mot de passe, ajout d’une méthode de connexion)',
  },
  unexpected: {
    // Un code de connexion n'est envoyé qu'après le bon mot de passe : quelqu'un le connaît.
    // A sign-in code is only sent after the right password: someone knows it.
    login: ({ siteAddress }) => [
      `Si vous n’avez pas essayé de vous connecter, ignorez ce message\u00a0: personne ne peut se connecter sans ce code. Mais quelqu’un connaît peut-être votre mot de passe\u00a0: changez-le dès que possible en tapant vous-même l’adresse `,
      { strong: siteAddress },
      ` dans votre navigateur.`,
    ],
    activation: ({ siteAddress }) => [
      `Si vous n’avez rien demandé, ignorez ce message\u00a0: personne ne peut activer votre compte sans ce code. Si cela se reproduit, activez-le vous-même en tapant l’adresse `,
      { strong: siteAddress },
      ` dans votre navigateur, et choisissez votre mot de passe.`,
    ],
    recovery: ({ siteAddress }) => [
      `Si vous n’avez rien demandé, ignorez ce message\u00a0: personne ne peut changer votre mot de passe sans ce code. Si cela se reproduit, changez votre mot de passe en tapant vous-même l’adresse `,
      { strong: siteAddress },
      ` dans votre navigateur.`,
    ],
    // Demandé depuis une session ouverte : quelqu'un est peut-être connecté au compte.
    // Asked from a signed-in session: someone may be signed in to the account.
    confirm: ({ siteAddress }) => [
      `Si vous n’avez rien demandé, ignorez ce message\u00a0: personne ne peut faire cette opération sans ce code. Mais quelqu’un est peut-être connecté à votre compte\u00a0: tapez vous-même l’adresse `,
      { strong: siteAddress },
      ` dans votre navigateur, changez votre mot de passe et mettez fin aux autres sessions depuis la page «\u00a0Sécurité du compte\u00a0».`,
    ],
  },
  body: (p, { serviceName, timeZone }, purpose) => [
    `Un code pour ${purpose} sur ${serviceName} a été demandé le ${formatDateTime('fr', p.requestedAt, timeZone)}, depuis\u00a0: ${describeDevice('fr', p)}.`,
    ['Votre code\u00a0: ', { strong: p.code }],
    `Il expire à ${formatTime('fr', p.expiresAt, timeZone)} et ne peut servir qu’une seule fois.`,
    `Les agents de ${serviceName} ne vous demanderont jamais ce code, ni par téléphone, ni par message. Ne le donnez à personne.`,
  ],
};

const EN: Words = {
  greeting: 'Hello,',
  subject: {
    login: (s) => `Your ${s} sign-in code`,
    activation: (s) => `Your ${s} activation code`,
    recovery: (s) => `Your ${s} password reset code`,
    confirm: (s) => `Your ${s} confirmation code`,
  },
  purpose: {
    login: 'sign in to your account',
    activation: 'activate your account',
    recovery: 'choose a new password (forgotten password)',
    confirm: 'confirm an operation on your account (change of password, new sign-in method)',
  },
  unexpected: {
    login: ({ siteAddress }) => [
      `If you did not try to sign in, ignore this message: nobody can sign in without this code. But someone may know your password: change it as soon as possible by typing the address `,
      { strong: siteAddress },
      ` into your browser yourself.`,
    ],
    activation: ({ siteAddress }) => [
      `If you did not ask for anything, ignore this message: nobody can activate your account without this code. If it happens again, activate it yourself by typing the address `,
      { strong: siteAddress },
      ` into your browser, and choose your password.`,
    ],
    recovery: ({ siteAddress }) => [
      `If you did not ask for anything, ignore this message: nobody can change your password without this code. If it happens again, change your password by typing the address `,
      { strong: siteAddress },
      ` into your browser yourself.`,
    ],
    confirm: ({ siteAddress }) => [
      `If you did not ask for anything, ignore this message: nobody can do this operation without this code. But someone may be signed in to your account: type the address `,
      { strong: siteAddress },
      ` into your browser yourself, change your password and end the other sessions from the “Account security” page.`,
    ],
  },
  body: (p, { serviceName, timeZone }, purpose) => [
    `A code to ${purpose} on ${serviceName} was requested on ${formatDateTime('en', p.requestedAt, timeZone)}, from: ${describeDevice('en', p)}.`,
    ['Your code: ', { strong: p.code }],
    `It expires at ${formatTime('en', p.expiresAt, timeZone)} and can be used only once.`,
    `${serviceName} staff will never ask you for this code, not on the telephone, not by message. Do not give it to anyone.`,
  ],
};

const content = (words: Words) => (p: OneTimeCodeParams, site: MailSite): MailContent => ({
  subject: words.subject[p.purpose](site.serviceName),
  greeting: words.greeting,
  paragraphs: [...words.body(p, site, words.purpose[p.purpose]), words.unexpected[p.purpose](site)],
});

/** A one-time code sent by mail: what it is for, when and from where it was asked, and the rules that foil phishing. */
export const oneTimeCode = defineTemplate<OneTimeCodeParams>(schema, {
  fr: content(FR),
  en: content(EN),
});
