import type { oidcLogoutFr } from './oidc-logout.fr.ts';

export const oidcLogoutEn: Record<keyof typeof oidcLogoutFr, string> = {
  'oidc.logout.title': 'Sign out',
  'oidc.logout.leadClient': 'You are signing out of “{client}”.',
  'oidc.logout.lead': 'An online service has signed you out.',
  'oidc.logout.question': 'Do you also want to sign out of {service}? Otherwise, the services that use {service} can still sign you in without asking for your password again.',
  'oidc.logout.confirm': 'Sign me out of {service}',
  'oidc.logout.stay': 'Stay signed in to {service}',
  'oidc.logout.done.title': 'You are signed out',
  'oidc.logout.done.all': 'You are signed out of {service} and of the services you signed in to with it.',
  'oidc.logout.done.client': 'You are signed out of “{client}”. You are still signed in to {service}.',
  'oidc.logout.done.login': 'Sign in',
  'oidc.logout.done.account': 'My account',
  'oidc.back.title': 'Back to the service',
  'oidc.back.lead': 'You are signed in. You are being sent back to the service.',
  'oidc.back.link': 'Continue to the service',
  'oidc.formPost.title': 'Back to the service',
  'oidc.formPost.lead': 'You are being sent back to the service.',
  'oidc.formPost.button': 'Continue to the service',
};
