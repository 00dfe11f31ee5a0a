import { accountEn } from './account.en.ts';
import { activationEn } from './activation.en.ts';
import type { Messages } from './fr.ts';
import { loginEn } from './login.en.ts';
import { recoveryEn } from './recovery.en.ts';
import { deviceEn } from './device.en.ts';
import { passkeyEn } from './passkey.en.ts';
import { stepUpEn } from './stepup.en.ts';
import { totpEn } from './totp.en.ts';
import { contactEn } from './contact.en.ts';
import { bankEn } from './bank.en.ts';
import { isolationEn } from './isolation.en.ts';
import { fileEn } from './file.en.ts';
import { consoleEn } from './console.en.ts';
import { oidcEn } from './oidc.en.ts';
import { oidcLogoutEn } from './oidc-logout.en.ts';
import { connectedServicesEn } from './connected-services.en.ts';

/** English messages, typed by the French ones: a missing key fails the typecheck. */
export const en: Messages = {
  ...loginEn,
  ...activationEn,
  ...recoveryEn,
  ...accountEn,
  ...stepUpEn,
  ...passkeyEn,
  ...totpEn,
  ...contactEn,
  ...bankEn,
  ...isolationEn,
  ...deviceEn,
  ...fileEn,
  ...consoleEn,
  ...oidcEn,
  ...oidcLogoutEn,
  ...connectedServicesEn,
  'layout.skipLinks': 'Quick access',
  'layout.skipToContent': 'Content',
  'layout.skipToFooter': 'Footer',
  'layout.homeTitle': 'Home - {service} - République Française',
  'layout.tagline': 'Your account for online public services',
  'layout.menu': 'Menu',
  'layout.close': 'Close',
  'layout.switchTo': 'Français',
  'layout.switchToTitle': 'Lire cette page en français',
  'layout.footerBrandTitle': 'Back to the home page - {service}',
  'layout.footerDesc': '{service} is the login and personal space for your online procedures with public services.',
  'layout.newWindow': '{site} - new window',
  'layout.license': 'Unless otherwise stated, the content of this site is available under the',
  'layout.licenseName': 'etalab-2.0 licence',

  'home.title': 'Your account for public services',
  'home.lead': 'With {service}, you log in securely to your online procedures and follow your file from your personal space.',
  'home.secureTitle': 'A protected login',
  'home.secureBody': 'Every login asks for a second check: a code sent by email, a passkey saved on your device or an approval on a trusted phone.',
  'home.fileTitle': 'Your file, for you only',
  'home.fileBody': 'Only you can see your file. Every important change, such as your bank details, is notified to you.',
  'home.dataTitle': 'Your data encrypted',
  'home.dataBody': 'Your personal information is encrypted. Staff only access it to handle your file, and every access is recorded.',

  'error.code': 'Error {status}',
  'error.backHome': 'Home page',
  'error.reference': 'Incident reference:',
  'error.notFound.title': 'Page not found',
  'error.notFound.lead': 'The page you are looking for cannot be found. We apologise for the inconvenience.',
  'error.notFound.body': 'If you typed the web address in the browser, check that it is correct. The page may no longer be available.',
  'error.badRequest.title': 'Bad request',
  'error.badRequest.lead': 'Your request could not be understood.',
  'error.badRequest.body': 'Go back to the previous page, check what you entered and try again.',
  'error.csrf.title': 'Form refused',
  'error.csrf.lead': 'The form has expired or does not come from this site. Reload the page and try again.',
  'error.csrf.body': 'For your security, we only accept forms sent from the pages of this site.',
  'error.client.title': 'Request refused',
  'error.client.lead': 'Your request could not be processed.',
  'error.client.body': 'Go back to the previous page and try again.',
  'error.server.title': 'Unexpected error',
  'error.server.lead': 'Sorry, the service has a problem. We are working to fix it as quickly as possible.',
  'error.server.body': 'Try refreshing the page or try again a little later. If you contact support, give them the reference below.',
};
