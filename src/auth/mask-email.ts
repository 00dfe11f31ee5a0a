/**
 * `jean.dupont@example.fr` → `j***@e***.fr`: enough for the owner to recognise the address,
 * too little for someone who only knows the NIR and password to learn it.
 */
export function maskEmail(email: string): string {
  const at = email.lastIndexOf('@');
  if (at < 1) return '***';
  const local = email.slice(0, at);
  const domain = email.slice(at + 1);
  const dot = domain.lastIndexOf('.');
  const host = dot > 0 ? domain.slice(0, dot) : domain;
  const tld = dot > 0 ? domain.slice(dot) : '';
  return `${[...local][0] ?? ''}***@${[...host][0] ?? ''}***${tld}`;
}
