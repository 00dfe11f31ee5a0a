import type { FastifyReply, FastifyRequest } from 'fastify';
import type { KeyRing } from '../../crypto/keyring.ts';
import type { Tx } from '../../db/contexts.ts';
import type { JsonValue, ProcedureKind } from '../../file/catalogue.ts';
import type { FieldErrors, FormValues } from '../../file/procedures/form.ts';
import type { ProcedureView } from '../../file/projections/procedures.ts';
import type { SafeHtml } from '../../web/html.ts';
import type { Locale } from '../../web/i18n.ts';

/** What each kind of procedure gives the pages: its form, how it reads it, how it shows what was filed. */

export interface FormPage {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  /** What the citizen typed (empty on first display). */
  values: FormValues;
  errors: FieldErrors;
}

export type ParsedSubmission = { ok: true; data: Record<string, JsonValue>; newAddress?: string } | { ok: false; errors: FieldErrors };

/** A form ready for one citizen: it knows what it needs from their file (current address, quarters declared). */
export interface PreparedForm {
  /** False when there is nothing left to file (every quarter declared): `fields` then says why, and no form is drawn. */
  available: boolean;
  parse(values: FormValues): ParsedSubmission;
  /** The fields, inside the <form> the page draws. */
  fields(page: FormPage): SafeHtml;
}

export interface ProcedureKindModule {
  kind: ProcedureKind;
  /** The names of the fields the form posts (everything else in the body is ignored). */
  fields: readonly string[];
  /** A certificate is produced on the spot: accepted at once. */
  initialStatus: 'submitted' | 'accepted';
  /** Reads what the form needs, in the citizen's transaction. */
  prepare(tx: Tx, ring: KeyRing, accountId: string, today: string): Promise<PreparedForm>;
  /** What was filed, for the detail page. */
  describe(locale: Locale, procedure: ProcedureView): SafeHtml;
}
