import { MARK, ibanForms, type SeededCitizen } from './seed.ts';

/**
 * Reads every response for whose data it carries. Names, emails, addresses and payment
 * references carry the citizen's mark (seed.ts); IBANs are known in every written form
 * (clear, grouped, masked: the masks are distinct in a run). Procedure references and
 * procedure ids are only known once their owner has filed them, so the ones a citizen sees
 * are kept (a few strings each) and checked against the database at the end.
 */

export interface Leak {
  kind: 'name' | 'iban' | 'procedure-reference' | 'procedure-id';
  /** The citizen who received the response (index). */
  receiver: number;
  /** Whose data it was (index), or -1 when the owner is no test citizen. */
  owner: number;
  route: string;
}

// Written grouped or not, clear or masked; spaces may be no-break ones.
const IBAN_LIKE = /FR[0-9]{2}(?: ?[0-9A-Z*]{4}){5} ?[0-9A-Z*]{3}/g;
const SPACES = /&nbsp;|&#160;|&#xa0;|&#8239;|&#x202f;|[\u00a0\u202f]/gi;
export const PROCEDURE_REFERENCE = /D-\d{4}-[2-9A-HJ-NP-Z]{8}/g;
const PROCEDURE_HREF = /\/account\/procedures\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})/g;

export class LeakDetector {
  readonly #byCode = new Map<string, number>();
  readonly #byIban = new Map<string, number>();
  /** What each citizen saw that can only be attributed at the end. */
  readonly references: Set<string>[];
  readonly procedureIds: Set<string>[];
  readonly leaks: Leak[] = [];
  /** IBAN-shaped strings that are no test citizen's (e.g. a placeholder in a form), counted. */
  unknownIbans = 0;

  constructor(citizens: readonly SeededCitizen[]) {
    for (const c of citizens) {
      this.#byCode.set(c.code, c.index);
      for (const form of ibanForms(c.iban)) this.#byIban.set(form.replace(/ /g, ''), c.index);
    }
    this.references = citizens.map(() => new Set());
    this.procedureIds = citizens.map(() => new Set());
  }

  /** Checks one response received by citizen `receiver`; returns the leaks found in it. */
  scan(receiver: number, route: string, body: string): Leak[] {
    const found: Leak[] = [];
    for (const m of body.matchAll(MARK)) {
      const owner = this.#byCode.get((m[1] ?? '').toLowerCase());
      if (owner !== undefined && owner !== receiver) found.push({ kind: 'name', receiver, owner, route });
    }
    const spaced = body.replace(SPACES, ' ');
    for (const m of spaced.matchAll(IBAN_LIKE)) {
      const owner = this.#byIban.get(m[0].replace(/ /g, ''));
      if (owner === undefined) this.unknownIbans++;
      else if (owner !== receiver) found.push({ kind: 'iban', receiver, owner, route });
    }
    for (const m of body.matchAll(PROCEDURE_REFERENCE)) this.references[receiver]?.add(m[0]);
    for (const m of body.matchAll(PROCEDURE_HREF)) if (m[1]) this.procedureIds[receiver]?.add(m[1]);
    this.leaks.push(...found);
    return found;
  }

  /** At the end: every reference and procedure id a citizen saw is one of their own procedures. */
  settle(owners: { byReference: ReadonlyMap<string, number>; byId: ReadonlyMap<string, number> }): Leak[] {
    const found: Leak[] = [];
    this.references.forEach((refs, receiver) => {
      for (const r of refs) {
        const owner = owners.byReference.get(r) ?? -1;
        if (owner !== receiver) found.push({ kind: 'procedure-reference', receiver, owner, route: '(any)' });
      }
    });
    this.procedureIds.forEach((ids, receiver) => {
      for (const id of ids) {
        const owner = owners.byId.get(id) ?? -1;
        if (owner !== receiver) found.push({ kind: 'procedure-id', receiver, owner, route: '(any)' });
      }
    });
    this.leaks.push(...found);
    return found;
  }
}
