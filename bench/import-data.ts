/**
 * Generated agency files for the import benchmark and tests: valid rows (NIR with its key,
 * birth date matching it, French IBAN with its RIB key), deterministic for a given index,
 * written as a stream so that a file of millions of rows never sits in memory.
 */
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import { nirKey } from '../src/accounts/nir.ts';

const GIVEN = ['Camille', 'Léa', 'Hugo', 'Chloé', 'Louis', 'Inès', 'Jules', 'Manon', 'Arthur', 'Zoé'];
const FAMILY = ['Martin', 'Bernard', 'Dubois', 'Thomas', 'Robert', 'Richard', 'Petit', 'Durand', 'Leroy', "N'Diaye"];

/** A valid NIR for index i, unique for 0 ≤ i < 93 000 000 (order, commune, department), with its birth date and sex. */
export function nirFor(i: number, seed = 0): { nir: string; birthDate: string; sex: 1 | 2 } {
  const sex = ((i + seed) % 2) + 1;
  const yy = String(40 + ((i + seed) % 60)).padStart(2, '0');
  const mm = String(1 + ((i + seed) % 12)).padStart(2, '0');
  const deptN = 1 + (Math.floor(i / (999 * 999)) % 94);
  const dept = String(deptN >= 20 ? deptN + 1 : deptN).padStart(2, '0'); // 20 was Corsica's, 2A/2B since
  const commune = String(1 + (Math.floor(i / 999) % 999)).padStart(3, '0');
  const order = String(1 + (i % 999)).padStart(3, '0');
  const body = `${sex}${yy}${mm}${dept}${commune}${order}`;
  return { nir: body + nirKey(body), birthDate: `19${yy}-${mm}-${String(1 + (i % 28)).padStart(2, '0')}`, sex: sex as 1 | 2 };
}

const mod97 = (digits: string): number => {
  let r = 0;
  for (const d of digits) r = (r * 10 + Number(d)) % 97;
  return r;
};

/** A valid French IBAN (RIB key and ISO check digits) for index i. */
export function ibanFor(i: number): string {
  const bank = '30006';
  const branch = '00001';
  const account = String(i).padStart(11, '0');
  const key = String(97 - mod97(`${bank}${branch}${account}00`)).padStart(2, '0');
  const bban = `${bank}${branch}${account}${key}`;
  const check = String(98 - mod97(`${bban}152700`)).padStart(2, '0'); // F=15 R=27 00
  return `FR${check}${bban}`;
}

export const BENEFICIARY_HEADER = 'nir,given_names,family_name,birth_date,birth_place,gender,email,phone,postal_address,iban,iban_holder';

/** The cells of generated row i (every fourth without an IBAN). */
export function beneficiaryCells(i: number, seed = 0): string[] {
  const { nir, birthDate, sex } = nirFor(i, seed);
  return [
    nir,
    GIVEN[i % GIVEN.length] ?? 'Camille',
    FAMILY[(i >> 3) % FAMILY.length] ?? 'Martin',
    birthDate,
    'Paris',
    sex === 1 ? 'M' : 'F',
    `person${i}@example.org`,
    `06 12 34 ${String(i % 100).padStart(2, '0')} ${String((i >> 7) % 100).padStart(2, '0')}`,
    `${1 + (i % 200)} rue de la Paix, 75002 Paris`,
    i % 4 === 3 ? '' : ibanFor(i),
    '',
  ];
}

/** Cells as one CSV line (no line end), quoted where RFC 4180 needs it. */
export const csvRow = (cells: readonly string[], delimiter = ','): string =>
  cells.map((c) => (c.includes(delimiter) || /["\r\n]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(delimiter);

export const beneficiaryRow = (i: number, seed = 0): string => csvRow(beneficiaryCells(i, seed));

export const PAYMENT_HEADER = 'nir,reference,date,benefit,amount,status,iban';

export function paymentRow(i: number, beneficiaries: number): string {
  const { nir } = nirFor(i % beneficiaries);
  const month = 1 + (Math.floor(i / beneficiaries) % 12);
  return [nir, `PAY-${i}`, `2026-${String(month).padStart(2, '0')}-05`, ['RSA', 'APL', 'AF', 'PA'][i % 4], `${100 + (i % 900)}.${String(i % 100).padStart(2, '0')}`, month < 6 ? 'paid' : 'scheduled', ''].join(',');
}

/** Writes a CSV file of `rows` rows, streaming, CRLF line ends (as spreadsheets write them). */
export async function writeCsv(file: string, header: string, rows: number, row: (i: number) => string): Promise<void> {
  const out = createWriteStream(file);
  let chunk = `${header}\r\n`;
  for (let i = 0; i < rows; i++) {
    chunk += `${row(i)}\r\n`;
    if (chunk.length > 1 << 16) {
      if (!out.write(chunk)) await once(out, 'drain');
      chunk = '';
    }
  }
  out.end(chunk);
  await once(out, 'finish');
}
