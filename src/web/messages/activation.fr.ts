/** Messages of the activation pages (French, the reference). */
export const activationFr = {
  'activation.title': 'Activer votre compte',
  'activation.lead':
    'Pour votre première connexion, saisissez votre numéro de sécurité sociale et votre date de naissance. Nous enverrons un code à l’adresse électronique que votre organisme a enregistrée.',
  'activation.birthDate': 'Date de naissance',
  'activation.birthDateHint': 'Format attendu : JJ/MM/AAAA',
  'activation.submit': 'Recevoir un code',
  'activation.toLogin': 'Votre compte est déjà activé ? Se connecter',
  'activation.birthDate.required': 'Saisissez votre date de naissance.',
  'activation.birthDate.format': 'Saisissez la date de naissance au format JJ/MM/AAAA, par exemple 14/07/1985.',
  'activation.birthDate.nonexistent': 'Cette date n’existe pas : vérifiez le jour et le mois.',
  'activation.birthDate.future': 'La date de naissance ne peut pas être dans le futur.',
  'activation.throttled': 'Par sécurité, les demandes d’activation depuis votre connexion sont suspendues jusqu’à {time}. Vous pourrez réessayer ensuite.',
  'activation.choosePassword.title': 'Choisissez votre mot de passe',
  'activation.choosePassword.lead':
    'Votre adresse électronique est confirmée. Choisissez le mot de passe de votre compte : vous vous connecterez ensuite avec votre numéro de sécurité sociale et ce mot de passe.',
} satisfies Record<string, string>;
