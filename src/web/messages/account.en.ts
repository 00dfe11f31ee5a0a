import type { accountFr } from './account.fr.ts';

export const accountEn: Record<keyof typeof accountFr, string> = {
  'account.title': 'My account',
  'account.security': 'Account security',
};
