import type { connectedServicesFr } from './connected-services.fr.ts';

export const connectedServicesEn: Record<keyof typeof connectedServicesFr, string> = {
  'services.title': 'Connected services',
  'services.lead': 'The online services you signed in to with Sésame and the information you agreed to give them. If you remove a service’s access, it can no longer get your information from Sésame and you will be asked for your agreement again at your next sign-in to that service. This does not delete any account you may have with that service.',
  'services.none': 'You have not allowed any service to receive your information.',
  'services.since': 'Allowed on {date}',
  'services.updated': 'agreement changed on {date}',
  'services.receives': 'This service receives:',
  'services.disabled': 'Service disabled',
  'services.revoke': 'Remove access',
  'services.revokeTitle': 'Remove the access of “{service}”',
  'services.revoked': 'The service’s access was removed. It no longer receives your information.',
  'security.history.services': 'Services',
  'security.history.noService': 'None',
};
