/** Messages of the "My Account" pages (French, the reference). */
export const accountFr = {
  'account.title': 'Mon compte',
  'account.security': 'Sécurité du compte',
  'account.back': 'Retour à mon compte',

  'security.title': 'Sécurité du compte',
  'security.lead': 'Changez votre mot de passe et vérifiez les appareils connectés à votre compte.',

  'security.password.title': 'Changer de mot de passe',
  'security.password.lead':
    'Saisissez d’abord votre mot de passe actuel. Une fois le mot de passe changé, vos autres sessions seront fermées et vous recevrez un courriel de confirmation.',
  'security.password.current': 'Mot de passe actuel',
  'security.password.wrongCurrent': 'Le mot de passe actuel est incorrect.',
  'security.password.same': 'Le nouveau mot de passe doit être différent du mot de passe actuel.',
  'security.password.notChanged': 'Le mot de passe n’a pas été changé',
  'security.password.fix': 'Corrigez les champs signalés puis recommencez.',
  'security.password.throttled.title': 'Trop de tentatives',
  'security.password.throttled.body': 'Par sécurité, la vérification du mot de passe est suspendue jusqu’à {time}. Vous pourrez réessayer ensuite.',
  'security.password.recoveryRequired':
    'Par sécurité, le mot de passe actuel de ce compte ne peut plus être utilisé. Déconnectez-vous, puis choisissez un nouveau mot de passe avec « Mot de passe oublié ».',
  'security.password.changed': 'Votre mot de passe a été changé. Vos autres sessions ont été fermées.',

  'security.sessions.title': 'Sessions ouvertes',
  'security.sessions.lead': 'Voici les appareils connectés à votre compte. Si vous n’en reconnaissez pas un, déconnectez vos autres sessions, puis changez votre mot de passe.',
  'security.sessions.device': 'Appareil',
  'security.sessions.startedAt': 'Ouverte le',
  'security.sessions.lastSeenAt': 'Dernière activité',
  'security.sessions.level': 'Niveau de sécurité',
  'security.sessions.current': 'Cette session',
  'security.sessions.browserOnOs': '{browser} sur {os}',
  'security.sessions.unknownDevice': 'Appareil inconnu',
  'security.sessions.endOthers': 'Déconnecter mes autres sessions',
  'security.sessions.noOthers': 'Aucune autre session n’est ouverte sur votre compte.',
  'security.sessions.ended': 'Vos autres sessions ont été fermées.',

  'security.level.eidas1': 'Faible',
  'security.level.eidas2': 'Substantiel',
  'security.level.eidas3': 'Élevé',
} satisfies Record<string, string>;
