import type { AuthenticationResponseJSON, PublicKeyCredentialRequestOptionsJSON } from '@simplewebauthn/server';
import type { FastifyRequest } from 'fastify';
import { audit } from '../../../audit/log.ts';
import { system, type Tx } from '../../../db/contexts.ts';
import type { ClientInfo } from '../../../web/client.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { accountPasskeys, authenticationOptions, verifyAssertion, type AssertionFailure } from '../../methods/passkey.ts';
import { beginAttempt, clientKey } from '../../throttle.ts';
import { finishMethod, type Finished } from '../finish.ts';
import { createFlow, loadFlow, setFlowAuthenticator, setFlowChallenge, takeFlowChallenge, type Flow, type FlowProblem } from '../flow.ts';

/**
 * The passkey as a first step, at /login (nobody known yet: the credential says who) and in a
 * step-up (the session's account, and only its passkeys). Both run in one system
 * transaction that locks the flow, takes its challenge, verifies and finishes.
 */
export type PasskeyFlowKind = 'login' | 'step-up';

export type AssertionStepResult =
  | { ok: true; finished: Finished }
  | { ok: false; reason: 'throttled'; retryAt: Date | null }
  | { ok: false; reason: 'flow'; problem: FlowProblem | 'other-session' | 'wrong-state' }
  | { ok: false; reason: 'refused' };

/** A login flow waiting for a passkey, and the options for the browser. Nobody is known: no allowCredentials. */
export async function startPasskeyLogin(deps: AuthDeps, csrfBinding: string): Promise<{ flowId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
  const options = await authenticationOptions(deps.webauthn);
  return system(deps.db, 'login', async (tx) => {
    const flow = await createFlow(tx, deps.clock, { kind: 'login', state: 'passkey', accountId: null, csrfBinding, ttlSeconds: deps.policy.flowTtl, requestedLevel: 'eidas2' });
    setFlowChallenge(tx, flow.id, options.challenge);
    return { flowId: flow.id, options };
  });
}

/** Options for a step-up of this session: only its account's passkeys are allowed. */
export async function startPasskeyStepUp(
  deps: AuthDeps,
  o: { flowId: string; csrfBinding: string; sessionId: string },
): Promise<{ ok: true; options: PublicKeyCredentialRequestOptionsJSON } | { ok: false; problem: FlowProblem | 'other-session' }> {
  return system(deps.db, 'step-up', async (tx) => {
    const loaded = await loadFlow(tx, deps.clock, o.flowId, { kind: 'step-up', csrfBinding: o.csrfBinding });
    if (!loaded.ok) return loaded;
    const { flow } = loaded;
    if (flow.sessionId !== o.sessionId || !flow.accountId) return { ok: false, problem: 'other-session' };
    const options = await authenticationOptions(deps.webauthn, await accountPasskeys(tx, flow.accountId));
    setFlowChallenge(tx, flow.id, options.challenge);
    return { ok: true, options };
  });
}

/** The client counter is raised before verifying, as for passwords (throttle.ts), and lowered again on success. */
function forgiveClient(tx: Tx, client: Buffer): void {
  tx.send(`UPDATE client_throttle SET failures = greatest(failures - 1, 0) WHERE client_key = $1`, [client]);
}

export async function completeWithPasskey(
  deps: AuthDeps,
  request: FastifyRequest,
  o: {
    kind: PasskeyFlowKind;
    flowId: string;
    csrfBinding: string;
    /** Step-up: the current session, which the flow must belong to. */
    sessionId: string | null;
    response: AuthenticationResponseJSON;
    locale: Locale;
    client: ClientInfo;
  },
): Promise<AssertionStepResult> {
  const { clock, policy, ring } = deps;
  const client = clientKey(ring.macKey, o.client.ip);
  return system(deps.db, o.kind, async (tx) => {
    const verdict = await beginAttempt(tx, clock, policy, null, client);
    if (!verdict.ok) {
      await audit(tx, clock, { type: 'login.throttled', accountId: null, requestId: request.id, payload: { reason: verdict.reason, step: o.kind } });
      return { ok: false, reason: 'throttled', retryAt: 'retryAt' in verdict ? verdict.retryAt : null };
    }
    const loaded = await loadFlow(tx, clock, o.flowId, { kind: o.kind, csrfBinding: o.csrfBinding });
    if (!loaded.ok) return { ok: false, reason: 'flow', problem: loaded.problem };
    let flow: Flow = loaded.flow;
    if (o.kind === 'step-up' && (flow.sessionId === null || flow.sessionId !== o.sessionId)) return { ok: false, reason: 'flow', problem: 'other-session' };
    if (o.kind === 'login' && flow.state !== 'passkey') return { ok: false, reason: 'flow', problem: 'wrong-state' };

    const refuse = async (reason: AssertionFailure | 'no-challenge', accountId: string | null): Promise<AssertionStepResult> => {
      await audit(tx, clock, { type: 'method.failed', accountId, requestId: request.id, payload: { flowId: flow.id, method: 'passkey', reason } });
      return { ok: false, reason: 'refused' };
    };
    // Taken before anything is checked: an answer to this challenge is looked at once.
    const challenge = await takeFlowChallenge(tx, flow.id);
    if (!challenge) return refuse('no-challenge', flow.accountId);
    const result = await verifyAssertion(tx, deps.webauthn, { response: o.response, expectedChallenge: challenge, expectedAccount: flow.accountId });
    if (!result.ok) return refuse(result.reason, result.accountId);

    forgiveClient(tx, client);
    const { passkey } = result;
    if (flow.accountId === null) {
      // The login learns who it is for from the credential, and only once it verified.
      tx.send(`UPDATE auth_flows SET account_id = $2 WHERE id = $1`, [flow.id, passkey.accountId]);
      flow = { ...flow, accountId: passkey.accountId };
    }
    flow = setFlowAuthenticator(tx, flow, passkey.authenticatorId);
    const finished = await finishMethod(tx, deps, request, flow, 'passkey', { locale: o.locale, client: o.client, authenticatorId: passkey.authenticatorId });
    // A passkey is a first step that reaches eidas2 alone (levels.ts): a flow asking for it is done.
    if (!finished) throw new Error('a passkey did not finish its flow');
    return { ok: true, finished };
  });
}
