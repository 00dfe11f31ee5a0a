/** The provider's pages (consent) and the words for each claim a service may receive. */
export const oidcFr = {
  'oidc.consent.title': 'Partage de vos informations',
  'oidc.consent.lead': '« {client} » demande à recevoir les informations suivantes :',
  'oidc.consent.remembered': 'Votre accord est conservé pour ce service : il ne vous sera pas redemandé à la prochaine connexion.',
  'oidc.consent.accept': 'Autoriser et continuer',
  'oidc.consent.deny': 'Refuser',
  'oidc.claim.sub': 'un identifiant propre à ce service, qui ne permet pas de vous reconnaître dans d’autres services',
  'oidc.claim.given_name': 'vos prénoms',
  'oidc.claim.family_name': 'votre nom de naissance',
  'oidc.claim.birthdate': 'votre date de naissance',
  'oidc.claim.gender': 'votre sexe',
  'oidc.claim.birthplace': 'votre commune de naissance (code INSEE)',
  'oidc.claim.birthcountry': 'votre pays de naissance (code INSEE)',
  'oidc.claim.preferred_username': 'votre nom d’usage',
  'oidc.claim.email': 'votre adresse électronique',
  'oidc.claim.phone_number': 'votre numéro de téléphone',
};
