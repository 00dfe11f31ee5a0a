import type { isolationFr } from './isolation.fr.ts';

export const isolationEn: Record<keyof typeof isolationFr, string> = {
  'maintenance.title': 'Service temporarily unavailable',
  'maintenance.lead': 'Your personal area is closed for maintenance. Your procedures and your data are kept.',
  'maintenance.body': 'We are doing what is needed to reopen the service as soon as possible. Please try again a little later.',
  'maintenance.safe': 'No one can sign in meanwhile: no one can reach your account.',
  'maintenance.staff.lead': 'The operator console is closed.',
  'maintenance.staff.body': 'The on-call team will reopen it. The sesame command line remains available.',
};
