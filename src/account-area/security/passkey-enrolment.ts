import type { PublicKeyCredentialCreationOptionsJSON, RegistrationResponseJSON } from '@simplewebauthn/server';
import type { AuthDeps } from '../../auth/auth-deps.ts';
import { addAuthenticator } from '../../auth/authenticators.ts';
import { createFlow, endFlow, loadFlow, setFlowChallenge, takeFlowChallenge } from '../../auth/flows/flow.ts';
import { accountPasskeys, registrationOptions, storePasskey, verifyRegistration } from '../../auth/methods/passkey.ts';
import type { Session } from '../../auth/sessions.ts';
import { audit } from '../../audit/log.ts';
import type { FastifyRequest } from 'fastify';
import { system } from '../../db/contexts.ts';
import { citizenRequest } from '../../isolation/citizen-request.ts';
import type { ClientInfo } from '../../web/client.ts';
import type { Locale } from '../../web/i18n.ts';

/**
 * Adding a passkey. The registration challenge is kept server-side in a flow row of kind
 * `confirm` made for the ceremony (state `passkey-enrolment`, tied to the session and this
 * browser's CSRF binding), taken once whatever the outcome: a challenge echoed by the client
 * is never trusted, and an attestation cannot be replayed.
 */
const ENROLMENT_STATE = 'passkey-enrolment';
/** The ceremony itself takes a minute or two; the gate (step-up, fresh code) is checked again at the end anyway. */
const ENROLMENT_TTL_SECONDS = 10 * 60;

export const NAME_MAX = 60;

/** The name the citizen gives: trimmed, inner whitespace collapsed, 1 to 60 characters. */
export function passkeyName(raw: string): { ok: true; name: string } | { ok: false; reason: 'required' | 'too-long' } {
  const name = raw.normalize('NFC').replace(/\s+/gu, ' ').trim();
  if (name === '') return { ok: false, reason: 'required' };
  if ([...name].length > NAME_MAX) return { ok: false, reason: 'too-long' };
  return { ok: true, name };
}

export async function startEnrolment(
  deps: AuthDeps,
  o: { session: Session; request: FastifyRequest; csrfBinding: string; label: string },
): Promise<{ flowId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
  const { accountId } = o.session;
  const existing = await citizenRequest(deps, o.request, (tx) => accountPasskeys(tx, accountId));
  const options = await registrationOptions(deps.webauthn, { macKey: deps.ring.macKey, accountId, label: o.label, existing });
  // Flows are the login machinery's, out of the citizen role's reach: the system context.
  const flowId = await system(deps.db, 'passkey-enrolment', async (tx) => {
    const flow = await createFlow(tx, deps.clock, {
      kind: 'confirm',
      state: ENROLMENT_STATE,
      accountId,
      csrfBinding: o.csrfBinding,
      ttlSeconds: Math.min(ENROLMENT_TTL_SECONDS, deps.policy.flowTtl),
      sessionId: o.session.id,
      returnTo: '/account/security',
    });
    setFlowChallenge(tx, flow.id, options.challenge);
    return flow.id;
  });
  return { flowId, options };
}

export type EnrolmentResult = { ok: true; authenticatorId: string } | { ok: false; reason: 'flow' | 'invalid' | 'duplicate' };

export async function finishEnrolment(
  deps: AuthDeps,
  o: {
    session: Session;
    request: FastifyRequest;
    fromStrongSession: boolean;
    flowId: string;
    csrfBinding: string;
    name: string;
    response: RegistrationResponseJSON;
    locale: Locale;
    client: ClientInfo;
    requestId: string;
  },
): Promise<EnrolmentResult> {
  const { clock } = deps;
  const { accountId } = o.session;
  // Committed on its own: the challenge is gone even if what follows fails.
  const challenge = await system(deps.db, 'passkey-enrolment', async (tx) => {
    const loaded = await loadFlow(tx, clock, o.flowId, { kind: 'confirm', csrfBinding: o.csrfBinding });
    if (!loaded.ok) return null;
    const { flow } = loaded;
    if (flow.state !== ENROLMENT_STATE || flow.sessionId !== o.session.id || flow.accountId !== accountId) return null;
    const taken = await takeFlowChallenge(tx, flow.id);
    await endFlow(tx, clock, flow.id, 'done');
    return taken;
  });
  const fail = async (reason: 'flow' | 'invalid' | 'duplicate'): Promise<EnrolmentResult> => {
    await citizenRequest(deps, o.request, (tx) =>
      audit(tx, clock, { type: 'method.failed', accountId, requestId: o.requestId, payload: { flowId: o.flowId, method: 'passkey', reason: `enrolment-${reason}` } }),
    );
    return { ok: false, reason };
  };
  if (!challenge) return fail('flow');
  const verified = await verifyRegistration(deps.webauthn, o.response, challenge);
  if (!verified.ok) return fail('invalid');

  // One citizen transaction: the authenticator and its key appear together or not at all.
  // The credential id is unique across accounts; the citizen role cannot see another
  // account's row, so the check is the constraint itself, reported as a duplicate.
  try {
    const id = await citizenRequest(deps, o.request, async (tx) => {
      const existing = await tx.query(`SELECT 1 FROM passkey_credentials WHERE credential_id = $1`, [verified.credentialId]);
      if (existing.rows.length > 0) return null;
      const added = await addAuthenticator(tx, deps, {
        accountId,
        kind: 'passkey',
        name: o.name,
        fromStrongSession: o.fromStrongSession,
        locale: o.locale,
        client: { browser: o.client.browser, os: o.client.os },
        requestId: o.requestId,
      });
      storePasskey(tx, { authenticatorId: added.id, accountId, credential: verified });
      return added.id;
    });
    if (!id) return fail('duplicate');
    return { ok: true, authenticatorId: id };
  } catch (err) {
    if (isUniqueViolation(err)) return fail('duplicate');
    throw err;
  }
}

const isUniqueViolation = (err: unknown): boolean => typeof err === 'object' && err !== null && 'code' in err && (err as { code: unknown }).code === '23505';
