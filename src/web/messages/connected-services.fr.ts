/** Connected services on /account/security (the consents given to services that use Sésame) and the login history's services. */
export const connectedServicesFr = {
  'services.title': 'Services connectés',
  'services.lead': 'Les services en ligne auxquels vous vous êtes connecté avec Sésame et les informations que vous avez accepté de leur transmettre. Si vous retirez l’accès d’un service, il ne peut plus obtenir vos informations auprès de Sésame et votre accord vous sera redemandé à votre prochaine connexion à ce service. Cela ne supprime pas le compte que vous avez peut-être chez ce service.',
  'services.none': 'Vous n’avez autorisé aucun service à recevoir vos informations.',
  'services.since': 'Autorisé le {date}',
  'services.updated': 'accord modifié le {date}',
  'services.receives': 'Ce service reçoit :',
  'services.disabled': 'Service désactivé',
  'services.revoke': 'Retirer l’accès',
  'services.revokeTitle': 'Retirer l’accès à « {service} »',
  'services.revoked': 'L’accès du service a été retiré. Il ne reçoit plus vos informations.',
  'security.history.services': 'Services',
  'security.history.noService': 'Aucun',
};
