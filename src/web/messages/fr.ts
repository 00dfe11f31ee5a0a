/**
 * French messages: the reference language. `en.ts` is typed by this object's keys, so a
 * key added here without its translation fails the typecheck. `{name}` is a variable.
 */
import { accountFr } from './account.fr.ts';
import { activationFr } from './activation.fr.ts';
import { loginFr } from './login.fr.ts';
import { recoveryFr } from './recovery.fr.ts';
import { deviceFr } from './device.fr.ts';
import { passkeyFr } from './passkey.fr.ts';
import { stepUpFr } from './stepup.fr.ts';
import { totpFr } from './totp.fr.ts';
import { contactFr } from './contact.fr.ts';
import { bankFr } from './bank.fr.ts';
import { isolationFr } from './isolation.fr.ts';
import { fileFr } from './file.fr.ts';
import { consoleFr } from './console.fr.ts';
import { oidcFr } from './oidc.fr.ts';
import { oidcLogoutFr } from './oidc-logout.fr.ts';
import { connectedServicesFr } from './connected-services.fr.ts';

export const fr = {
  ...loginFr,
  ...activationFr,
  ...recoveryFr,
  ...accountFr,
  ...stepUpFr,
  ...passkeyFr,
  ...totpFr,
  ...contactFr,
  ...bankFr,
  ...isolationFr,
  ...deviceFr,
  ...fileFr,
  ...consoleFr,
  ...oidcFr,
  ...oidcLogoutFr,
  ...connectedServicesFr,
  'layout.skipLinks': 'Accès rapide',
  'layout.skipToContent': 'Contenu',
  'layout.skipToFooter': 'Pied de page',
  'layout.homeTitle': 'Accueil - {service} - République Française',
  'layout.tagline': 'Votre compte pour les services publics en ligne',
  'layout.menu': 'Menu',
  'layout.close': 'Fermer',
  'layout.switchTo': 'English',
  'layout.switchToTitle': 'Read this page in English',
  'layout.footerBrandTitle': 'Retour à l’accueil - {service}',
  'layout.footerDesc': '{service} est le service de connexion et d’espace personnel de vos démarches en ligne.',
  'layout.newWindow': '{site} - nouvelle fenêtre',
  'layout.license': 'Sauf mention explicite de propriété intellectuelle détenue par des tiers, les contenus de ce site sont proposés sous',
  'layout.licenseName': 'licence etalab-2.0',

  'home.title': 'Votre compte pour les services publics',
  'home.lead': 'Avec {service}, vous vous connectez en toute sécurité à vos démarches en ligne et vous suivez votre dossier depuis votre espace personnel.',
  'home.secureTitle': 'Une connexion protégée',
  'home.secureBody': 'Chaque connexion demande une seconde vérification : un code reçu par courriel, une clé d’accès enregistrée sur votre appareil ou une validation sur un téléphone de confiance.',
  'home.fileTitle': 'Votre dossier, à vous seul',
  'home.fileBody': 'Vous seul voyez votre dossier. Chaque changement important, comme vos coordonnées bancaires, vous est signalé.',
  'home.dataTitle': 'Vos données chiffrées',
  'home.dataBody': 'Vos informations personnelles sont chiffrées. Les agents n’y accèdent que pour traiter votre dossier et chaque accès est enregistré.',

  'error.code': 'Erreur {status}',
  'error.backHome': 'Page d’accueil',
  'error.reference': 'Référence de l’incident :',
  'error.notFound.title': 'Page non trouvée',
  'error.notFound.lead': 'La page que vous cherchez est introuvable. Excusez-nous pour la gêne occasionnée.',
  'error.notFound.body': 'Si vous avez tapé l’adresse web dans le navigateur, vérifiez qu’elle est correcte. La page n’est peut-être plus disponible.',
  'error.badRequest.title': 'Demande incorrecte',
  'error.badRequest.lead': 'Votre demande n’a pas pu être comprise.',
  'error.badRequest.body': 'Revenez à la page précédente, vérifiez les informations saisies et recommencez.',
  'error.csrf.title': 'Formulaire refusé',
  'error.csrf.lead': 'Le formulaire a expiré ou ne vient pas de ce site. Rechargez la page et recommencez.',
  'error.csrf.body': 'Par sécurité, nous n’acceptons que les formulaires envoyés depuis les pages de ce site.',
  'error.client.title': 'Demande refusée',
  'error.client.lead': 'Votre demande n’a pas pu être traitée.',
  'error.client.body': 'Revenez à la page précédente et recommencez.',
  'error.server.title': 'Erreur inattendue',
  'error.server.lead': 'Désolé, le service rencontre un problème. Nous y travaillons pour le résoudre le plus rapidement possible.',
  'error.server.body': 'Essayez de rafraîchir la page ou réessayez un peu plus tard. Si vous contactez l’assistance, donnez-lui la référence ci-dessous.',
} satisfies Record<string, string>;

export type MessageKey = keyof typeof fr;
export type Messages = Record<MessageKey, string>;
