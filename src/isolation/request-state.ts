import type { FastifyRequest } from 'fastify';
import type { Session } from '../auth/sessions.ts';
import type { IsolationViolationError } from './errors.ts';

/** What the tripwire knows about one request, kept beside it (never on the request object, which pages can reach). */
interface RequestIsolation {
  /** Accounts whose data the response carries (carries()). */
  carried: Set<string>;
  /** Sessions citizenRequest proved in this request (id → account). */
  proven: Map<string, string>;
  /** A violation already raised in this request: whatever the page made of it, its body is not sent. */
  violation: IsolationViolationError | null;
}

const states = new WeakMap<FastifyRequest, RequestIsolation>();

function stateOf(request: FastifyRequest): RequestIsolation {
  let state = states.get(request);
  if (!state) states.set(request, (state = { carried: new Set(), proven: new Map(), violation: null }));
  return state;
}

export const peekState = (request: FastifyRequest): Readonly<RequestIsolation> | undefined => states.get(request);

export const carriedBy = (request: FastifyRequest): Set<string> => stateOf(request).carried;

export function markVerified(request: FastifyRequest, session: Session): void {
  stateOf(request).proven.set(session.id, session.accountId);
}

export function markViolation(request: FastifyRequest, violation: IsolationViolationError): void {
  const state = stateOf(request);
  state.violation ??= violation;
  // Nothing of what was gathered for this response may be sent now.
  state.carried.clear();
}
