/** Messages of the recovery pages (French, the reference). */
export const recoveryFr = {
  'recovery.title': 'Mot de passe oublié',
  'recovery.lead':
    'Saisissez votre numéro de sécurité sociale. Si un compte activé correspond, nous enverrons un code à l’adresse électronique enregistrée pour que vous puissiez choisir un nouveau mot de passe.',
  'recovery.submit': 'Recevoir un code',
  'recovery.toActivation': 'Vous ne vous êtes jamais connecté ? Activer votre compte',
  'recovery.toLogin': 'Vous avez retrouvé votre mot de passe ? Se connecter',
  'recovery.throttled': 'Par sécurité, les demandes de nouveau mot de passe depuis votre connexion sont suspendues jusqu’à {time}. Vous pourrez réessayer ensuite.',
  'recovery.choosePassword.title': 'Choisissez un nouveau mot de passe',
  'recovery.choosePassword.lead':
    'Votre adresse électronique est confirmée. Choisissez un nouveau mot de passe. Par sécurité, toutes les sessions ouvertes sur votre compte seront fermées, sur tous vos appareils.',
} satisfies Record<string, string>;
