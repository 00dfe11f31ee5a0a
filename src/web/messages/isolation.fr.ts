/** The maintenance page shown while a scope of access is closed (kill switch). */
export const isolationFr = {
  'maintenance.title': 'Service momentanément indisponible',
  'maintenance.lead': 'Votre espace personnel est fermé pour une opération de maintenance. Vos démarches et vos données sont conservées.',
  'maintenance.body': 'Nous faisons le nécessaire pour rouvrir le service au plus vite. Réessayez un peu plus tard.',
  'maintenance.safe': 'Aucune connexion n’est possible pendant cette période : personne ne peut accéder à votre compte.',
  'maintenance.staff.lead': 'La console des opérateurs est fermée.',
  'maintenance.staff.body': 'Elle sera rouverte par l’équipe d’astreinte. La ligne de commande sesame reste disponible.',
};
