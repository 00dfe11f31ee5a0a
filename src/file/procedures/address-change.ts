import { addDays, isIsoDate } from './dates.ts';
import { clean, type ProcedureError } from './form.ts';

/**
 * Change of address: a French postal address and the day of the move. The address fields
 * follow the contact page's rules and storage (src/account-area/contact/address.ts: one
 * string, lines joined by a newline), so that on submission the file's postal address changes
 * to exactly what the contact page would have written (contact.address-changed, same
 * transaction). This module holds what is the procedure's own: the move date and the data filed.
 */

export type AddressChangeData = {
  street: string;
  complement: string | null;
  postalCode: string;
  city: string;
  /** YYYY-MM-DD */
  moveDate: string;
};

export const ADDRESS_FIELDS = ['street', 'complement', 'postalCode', 'city', 'moveDate'] as const;

/** How far back a move may be declared, and how far ahead. */
export const MOVE_DAYS_BEFORE = 365;
export const MOVE_DAYS_AFTER = 90;

export function parseMoveDate(value: string | undefined, today: string): { ok: true; value: string } | { ok: false; error: ProcedureError } {
  const day = clean(value);
  if (day === '') return { ok: false, error: 'required' };
  if (!isIsoDate(day)) return { ok: false, error: 'date' };
  if (day < addDays(today, -MOVE_DAYS_BEFORE)) return { ok: false, error: 'date-too-early' };
  if (day > addDays(today, MOVE_DAYS_AFTER)) return { ok: false, error: 'date-too-late' };
  return { ok: true, value: day };
}

/** The address on one line, for pages: "12 rue de la Paix, Bâtiment B, 75002 PARIS". */
export function displayAddress(d: Pick<AddressChangeData, 'street' | 'complement' | 'postalCode' | 'city'>): string {
  return [d.street, d.complement, `${d.postalCode} ${d.city}`].filter((part): part is string => part !== null && part !== '').join(', ');
}

/** The stored data read back (a shape check: the page shows what was filed, not something else). */
export function addressChangeOf(data: Record<string, unknown>): AddressChangeData | null {
  const { street, complement, postalCode, city, moveDate } = data;
  if (typeof street !== 'string' || (complement !== null && typeof complement !== 'string') || typeof postalCode !== 'string' || typeof city !== 'string' || typeof moveDate !== 'string') return null;
  return { street, complement, postalCode, city, moveDate };
}
