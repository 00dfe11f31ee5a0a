/**
 * Valid French IBANs made up for tests: bank and branch codes, an 11-character account
 * number, the RIB key (the French check) and the ISO 13616 check digits, all computed. Distinct
 * for distinct `n`; `distinctMasks` also keeps the masked forms apart (first 4 and last 4 kept),
 * so that a masked IBAN on a page names one test citizen only.
 */

const mod97 = (digits: string): number => {
  let r = 0;
  for (const d of digits) r = (r * 10 + Number(d)) % 97;
  return r;
};

/** The RIB key of bank (5) + branch (5) + account (11 digits). */
export function ribKey(bank: string, branch: string, account: string): string {
  const r = (89 * mod97(bank) + 15 * mod97(branch) + 3 * mod97(account)) % 97;
  return String(97 - r).padStart(2, '0');
}

/** The IBAN whose BBAN is `bban` (FR). */
export function frenchIban(bban: string): string {
  const numeric = `${bban}152700`; // F=15, R=27, then "00"
  return `FR${String(98 - mod97(numeric)).padStart(2, '0')}${bban}`;
}

/** The n-th test IBAN (n ≥ 0): bank 30006, branch 00001, account number from n. */
export function testIban(n: number, bank = '30006', branch = '00001'): string {
  const account = String(n).padStart(11, '0');
  return frenchIban(`${bank}${branch}${account}${ribKey(bank, branch, account)}`);
}

/** As the app shows it: `FR76 **** **** **** **** ***0 189` (first 4 and last 4 characters kept). */
export function maskedIban(iban: string): string {
  const hidden = iban.slice(0, 4) + '*'.repeat(iban.length - 8) + iban.slice(-4);
  return hidden.replace(/(.{4})(?=.)/g, '$1 ');
}

/** In groups of four, as people write it. */
export const groupedIban = (iban: string): string => iban.replace(/(.{4})(?=.)/g, '$1 ');

/** `count` IBANs whose masked forms all differ (from `start`). */
export function distinctMasks(count: number, start = 0): string[] {
  const out: string[] = [];
  const masks = new Set<string>();
  for (let n = start; out.length < count; n++) {
    const iban = testIban(n);
    const mask = maskedIban(iban);
    if (masks.has(mask)) continue;
    masks.add(mask);
    out.push(iban);
  }
  return out;
}
