import { z } from 'zod';
import { defineTemplate, mailText } from './types.ts';

export interface AccountCreatedParams {
  givenName: string;
}

/** Sent when an account is created for someone (by an agent, an import): how to connect the first time, and what to do if unexpected. */
export const accountCreated = defineTemplate<AccountCreatedParams>(z.object({ givenName: mailText(100) }), {
  fr: ({ givenName }, { serviceName, siteAddress }) => ({
    subject: `Votre compte ${serviceName} a été créé`,
    greeting: `Bonjour ${givenName},`,
    paragraphs: [
      `Un compte ${serviceName} vient d’être créé à votre nom.`,
      [
        `Pour votre première connexion, ouvrez votre navigateur, tapez vous-même l’adresse `,
        { strong: siteAddress },
        ` dans la barre d’adresse, puis suivez les indications pour activer votre compte.`,
      ],
      `Si vous n’attendiez pas ce message, ne vous connectez pas et signalez-le à ${serviceName} par ses moyens de contact habituels (accueil, téléphone). Ne communiquez jamais un code ou un mot de passe, même à une personne qui se présente comme un agent.`,
    ],
  }),
  en: ({ givenName }, { serviceName, siteAddress }) => ({
    subject: `Your ${serviceName} account has been created`,
    greeting: `Hello ${givenName},`,
    paragraphs: [
      `A ${serviceName} account has just been created in your name.`,
      [
        `To sign in for the first time, open your browser, type the address `,
        { strong: siteAddress },
        ` into the address bar yourself, then follow the instructions to activate your account.`,
      ],
      `If you did not expect this message, do not sign in and report it to ${serviceName} through its usual contact channels (front desk, telephone). Never give a code or a password to anyone, even someone who says they are an agent.`,
    ],
  }),
});
