import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tx } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { SafeHtml } from '../../../web/html.ts';
import type { Locale, MessageKey } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import type { Flow } from '../flow.ts';
import type { RequestContext, RequestResult } from './request-step.ts';

/**
 * The emailed-code flows: a first form that always creates a flow and "sends" a code, the
 * code, then a new password. What differs between them is all in a CodeFlowSpec.
 */
export type CodeFlowKind = 'activation' | 'recovery';

export interface CodeFlowSpec<Typed> {
  kind: CodeFlowKind;
  /** The first form ('/activate', '/recover'); a flow's pages are `${base}/<id>`. */
  base: string;
  firstForm: FirstForm<Typed>;
  choosePassword: { title: MessageKey; lead: MessageKey };
  finish: Finish;
  /** Where a finished flow goes. */
  doneUrl: string;
}

/** A flow's first form; `Typed` is what it gives back to the citizen (fields, errors). */
export interface FirstForm<Typed> {
  title: MessageKey;
  /** The alert when the client is throttled; `{time}` is when it may try again. */
  throttled: MessageKey;
  render(o: { request: FastifyRequest; reply: FastifyReply; locale: Locale; alert?: SafeHtml } & Partial<Typed>): SafeHtml;
  /**
   * The fields, checked for format only: a format error says nothing about any account.
   * Well-formed, they come with how to start the flow.
   */
  read(request: FastifyRequest, locale: Locale): { ok: false; typed: Typed } | { ok: true; typed: Typed; start: (context: RequestContext) => Promise<RequestResult> };
}

/** The password chosen, hashed, for a flow whose code was verified (so with an account). */
export interface ChosenPassword {
  flow: Flow;
  accountId: string;
  hash: string;
  /** The account's NIR, read at the password step. */
  nir: string;
  locale: Locale;
  client: ClientInfo;
  requestId: string;
}

/**
 * What setting the password does, in the transaction that holds the flow's lock. It checks
 * the account first: one that changed state since the code was sent ends the flow as failed.
 */
export type Finish = (tx: Tx, deps: AuthDeps, chosen: ChosenPassword) => Promise<{ ok: true } | { ok: false; problem: 'account-changed' }>;
