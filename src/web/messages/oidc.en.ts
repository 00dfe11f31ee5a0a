import type { oidcFr } from './oidc.fr.ts';

export const oidcEn: Record<keyof typeof oidcFr, string> = {
  'oidc.consent.title': 'Sharing your information',
  'oidc.consent.lead': '“{client}” asks to receive the following information:',
  'oidc.consent.remembered': 'Your agreement is kept for this service: you will not be asked again at your next sign-in.',
  'oidc.consent.accept': 'Allow and continue',
  'oidc.consent.deny': 'Refuse',
  'oidc.cancel.title': 'Cancel the sign-in',
  'oidc.cancel.lead': 'You will not be signed in to “{client}” and will be sent back to it without being identified.',
  'oidc.cancel.confirm': 'Cancel and go back to the service',
  'oidc.cancel.back': 'Continue signing in',
  'oidc.cancel.link': 'Cancel and go back to the service',
  'oidc.claim.sub': 'an identifier of your own for this service, which does not let other services recognise you',
  'oidc.claim.given_name': 'your given names',
  'oidc.claim.family_name': 'your birth name',
  'oidc.claim.birthdate': 'your date of birth',
  'oidc.claim.gender': 'your sex',
  'oidc.claim.birthplace': 'your town of birth (INSEE code)',
  'oidc.claim.birthcountry': 'your country of birth (INSEE code)',
  'oidc.claim.preferred_username': 'your usage name',
  'oidc.claim.email': 'your email address',
  'oidc.claim.phone_number': 'your telephone number',
};
