/** Messages of the "My Account" pages (French, the reference). */
export const accountFr = {
  'account.title': 'Mon compte',
  'account.security': 'Sécurité du compte',
} satisfies Record<string, string>;
