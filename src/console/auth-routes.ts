import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { assertionOf, attestationOf, sendJsonError } from '../auth/flows/passkey/json.ts';
import { authenticationOptions, registrationOptions, verifyRegistration } from '../auth/methods/passkey.ts';
import { audit } from '../audit/log.ts';
import { system, type Tx } from '../db/contexts.ts';
import { findStaff } from '../staff/accounts.ts';
import { createCeremony, finishCeremony, loadCeremony, setChallenge, takeChallenge, type CeremonyKind } from '../staff/ceremonies.ts';
import { checkEnrolmentCode, consumeEnrolmentCode } from '../staff/enrolment-codes.ts';
import { asDescriptor, staffPasskeys, storeStaffPasskey, verifyStaffAssertion } from '../staff/passkeys.ts';
import { endStaffSession, startStaffSession, steppedUp } from '../staff/sessions.ts';
import { assertAccessOpen } from '../incident/access.ts';
import { beginConsoleAttempt, consoleClientAllowed, consoleClientBucket, countStaffFailure, forgiveConsoleAttempt, retryAfterSeconds } from '../staff/throttle.ts';
import { STAFF_POLICY } from '../staff/policy.ts';
import { CONSOLE_PREFIX } from '../incident/access-scope.ts';
import { clientOf } from '../web/client.ts';
import { csrfBinding } from '../web/csrf.ts';
import { alert, field } from '../web/forms.ts';
import { localeOf, t } from '../web/i18n.ts';
import type { ConsoleDeps } from './deps.ts';
import { sendConsolePage } from './layout.ts';
import { clearStaffCookie, forgetStaffSession, LOGIN_PATH, setStaffCookie, staffSessionOf } from './staff-session.ts';
import { enrolCodePage, enrolPasskeyPage, loginPage, stepUpPage } from './auth-views.ts';
import { PASSKEY_SCRIPTS } from './passkey-block.ts';

/**
 * Enrolment (code, then a passkey), login (passkey only: staff have no password) and the
 * step-up every action asks for. The ceremonies speak passkey.js's JSON; refusals say one
 * thing to the browser and the reason code to the audit log.
 */
export async function consoleAuthRoutes(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const { clock } = deps;
  const json = { config: { json: true } } as const;

  const refuse = async (tx: Tx, step: 'enrol' | 'login' | 'step-up', reason: string, staffId: string | null, requestId: string): Promise<{ ok: false }> => {
    await audit(tx, clock, { type: 'staff.refused', accountId: null, requestId, payload: { staffId, step, reason } });
    return { ok: false };
  };
  const refused = (request: FastifyRequest, reply: FastifyReply): FastifyReply => sendJsonError(reply, 401, 'refused', t(localeOf(request), 'console.passkey.refused'));
  const expired = (request: FastifyRequest, reply: FastifyReply): FastifyReply => sendJsonError(reply, 404, 'flow', t(localeOf(request), 'passkey.expired'));
  /** 429 with Retry-After, for passkey.js (it shows the message). */
  const throttled = (request: FastifyRequest, reply: FastifyReply, retryAt: Date): FastifyReply => {
    const seconds = retryAfterSeconds(clock, retryAt);
    reply.header('retry-after', seconds);
    return sendJsonError(reply, 429, 'throttled', t(localeOf(request), 'console.passkey.throttled', { minutes: Math.ceil(seconds / 60) }));
  };
  /** What the browser is told of a refused ceremony step (the audit log has why). */
  const refusal = (request: FastifyRequest, reply: FastifyReply, r: { ok: false; expired?: boolean; retryAt?: Date }): FastifyReply =>
    r.expired ? expired(request, reply) : r.retryAt ? throttled(request, reply, r.retryAt) : refused(request, reply);
  /** Failed enrolment codes and logins are throttled per client address (staff/throttle.ts). */
  const clientBucket = (request: FastifyRequest): Buffer => consoleClientBucket(deps.ring.macKey, clientOf(request).ip);
  const ENROL_PATH = `${CONSOLE_PREFIX}/enrol`;

  // --- Enrolment: /console/enrol (the code, no script needed), then the passkey.
  app.get(ENROL_PATH, async (request, reply) => sendConsolePage(request, reply, { title: t(localeOf(request), 'console.enrol.title'), main: enrolCodePage(request, reply) }));

  app.post(ENROL_PATH, async (request, reply) => {
    const locale = localeOf(request);
    const binding = csrfBinding(request, reply);
    const client = clientBucket(request);
    const started = await system(deps.db, 'console:enrol', async (tx): Promise<{ ok: true; id: string } | { ok: false; retryAt?: Date }> => {
      // Before the code is looked up: a throttled address is refused even the right code.
      const verdict = await beginConsoleAttempt(tx, clock, client);
      if (!verdict.ok) return { ok: false, retryAt: verdict.retryAt };
      const check = await checkEnrolmentCode(tx, clock, deps.ring.macKey, field(request, 'code', 100));
      if (!check.ok) return refuse(tx, 'enrol', `code-${check.reason}`, null, request.id);
      forgiveConsoleAttempt(tx, client);
      return { ok: true, id: await createCeremony(tx, clock, { kind: 'enrol', csrfBinding: binding, staffId: check.staffId, enrolmentCodeId: check.codeId }) };
    });
    if (started.ok) return reply.redirect(`${ENROL_PATH}/${started.id}`, 303);
    if (started.retryAt) {
      const seconds = retryAfterSeconds(clock, started.retryAt);
      reply.header('retry-after', seconds);
      const error = alert('error', t(locale, 'console.throttled.title'), t(locale, 'console.throttled.body', { minutes: Math.ceil(seconds / 60) }));
      return sendConsolePage(request, reply, { title: t(locale, 'console.enrol.title'), main: enrolCodePage(request, reply, error), status: 429 });
    }
    // One answer for unknown, used, expired or disabled: the audit log has which.
    const error = alert('error', t(locale, 'console.enrol.refused.title'), t(locale, 'console.enrol.refused.body'));
    return sendConsolePage(request, reply, { title: t(locale, 'console.enrol.title'), main: enrolCodePage(request, reply, error), status: 400 });
  });

  app.get<{ Params: { id: string } }>(`${ENROL_PATH}/:id`, async (request, reply) => {
    const live = await system(deps.db, 'console:enrol', (tx) => loadCeremony(tx, clock, request.params.id, { kind: 'enrol', csrfBinding: csrfBinding(request, reply) }));
    if (!live) return reply.redirect(ENROL_PATH, 303);
    return sendConsolePage(request, reply, { title: t(localeOf(request), 'console.enrol.title'), main: enrolPasskeyPage(request, reply, live.id), scripts: PASSKEY_SCRIPTS });
  });

  app.post<{ Params: { id: string } }>(`${ENROL_PATH}/:id/options`, json, async (request, reply) => {
    const binding = csrfBinding(request, reply);
    const started = await system(deps.db, 'console:enrol', async (tx) => {
      const live = await loadCeremony(tx, clock, request.params.id, { kind: 'enrol', csrfBinding: binding });
      const staff = live?.staffId ? await findStaff(tx, { id: live.staffId }) : null;
      if (!live || !staff) return null;
      const existing = (await staffPasskeys(tx, staff.id)).map(asDescriptor);
      const options = await registrationOptions(deps.webauthn, { macKey: deps.ring.macKey, accountId: staff.id, label: staff.login, existing });
      setChallenge(tx, live.id, options.challenge);
      return { flow: live.id, options };
    });
    return started ? reply.send(started) : expired(request, reply);
  });

  app.post<{ Params: { id: string } }>(`${ENROL_PATH}/:id/passkey`, json, async (request, reply) => {
    const response = attestationOf(request);
    if (!response) return sendJsonError(reply, 400, 'bad_request', t(localeOf(request), 'console.passkey.refused'));
    const binding = csrfBinding(request, reply);
    const done = await system(deps.db, 'console:enrol', async (tx) => {
      // First, as in citizen logins: a closure waits for this step, or this step sees it (no session outlives the sweep).
      await assertAccessOpen(tx, 'staff');
      const live = await loadCeremony(tx, clock, request.params.id, { kind: 'enrol', csrfBinding: binding });
      if (!live?.staffId || !live.enrolmentCodeId) return { ok: false as const, expired: true };
      // Taken before anything is checked: an answer to this challenge is looked at once.
      const challenge = await takeChallenge(tx, live.id);
      if (!challenge) return refuse(tx, 'enrol', 'no-challenge', live.staffId, request.id);
      const credential = await verifyRegistration(deps.webauthn, response, challenge);
      if (!credential.ok) return refuse(tx, 'enrol', credential.reason, live.staffId, request.id);
      // The code is spent here, guarded: of two browsers racing with one code, one enrols.
      if (!(await consumeEnrolmentCode(tx, clock, live.enrolmentCodeId))) return refuse(tx, 'enrol', 'code-used', live.staffId, request.id);
      const passkeyId = await storeStaffPasskey(tx, clock, live.staffId, credential);
      finishCeremony(tx, clock, live.id);
      // A passkey with user verification was just shown: the enrolment logs in.
      const session = await startStaffSession(tx, clock, live.staffId);
      await audit(tx, clock, { type: 'staff.enrolled', accountId: null, requestId: request.id, payload: { staffId: live.staffId, passkeyId, codeId: live.enrolmentCodeId } });
      await audit(tx, clock, { type: 'staff.login', accountId: null, requestId: request.id, payload: { staffId: live.staffId, sessionId: session.id } });
      return { ok: true as const, token: session.token };
    });
    if (!done.ok) return refusal(request, reply, done);
    setStaffCookie(reply, done.token);
    return reply.send({ redirect: CONSOLE_PREFIX });
  });

  // --- Login: a passkey alone, with user verification.
  app.get(LOGIN_PATH, async (request, reply) => {
    if (await staffSessionOf(request, deps)) return reply.redirect(CONSOLE_PREFIX, 303);
    return sendConsolePage(request, reply, { title: t(localeOf(request), 'console.login.title'), main: loginPage(request, reply), scripts: PASSKEY_SCRIPTS });
  });

  app.post(`${LOGIN_PATH}/options`, json, async (request, reply) => {
    if (await staffSessionOf(request, deps)) return reply.send({ redirect: CONSOLE_PREFIX });
    const options = await authenticationOptions(deps.webauthn);
    const binding = csrfBinding(request, reply);
    const client = clientBucket(request);
    const flow = await system(deps.db, 'console:login', async (tx) => {
      // A throttled address gets no ceremony either (looked at, not counted: asking is no failure).
      const verdict = await consoleClientAllowed(tx, clock, client);
      if (!verdict.ok) return verdict;
      const id = await createCeremony(tx, clock, { kind: 'login', csrfBinding: binding });
      setChallenge(tx, id, options.challenge);
      return { ok: true as const, id };
    });
    return flow.ok ? reply.send({ flow: flow.id, options }) : throttled(request, reply, flow.retryAt);
  });

  /** Takes the ceremony's challenge and checks the assertion; the caller finishes what it is for. */
  async function assertion(tx: Tx, request: FastifyRequest, reply: FastifyReply, kind: CeremonyKind & ('login' | 'step-up'), id: string, session: { id: string; staffId: string } | null) {
    const response = assertionOf(request);
    const live = await loadCeremony(tx, clock, id, { kind, csrfBinding: csrfBinding(request, reply), sessionId: session?.id });
    if (!live) return { ok: false as const, expired: true };
    const challenge = await takeChallenge(tx, live.id);
    if (!response) return refuse(tx, kind, 'malformed', session?.staffId ?? null, request.id);
    if (!challenge) return refuse(tx, kind, 'no-challenge', session?.staffId ?? null, request.id);
    const result = await verifyStaffAssertion(tx, clock, deps.webauthn, { response, expectedChallenge: challenge, expectedStaff: session?.staffId ?? null });
    if (!result.ok && result.reason === 'throttled') {
      await refuse(tx, kind, 'throttled', result.staffId, request.id);
      return { ok: false as const, retryAt: result.retryAt };
    }
    if (!result.ok) {
      // The account's cap on failed assertions: it waits for the window's end, no longer; reaching it is audited.
      if (result.staffId !== null && (await countStaffFailure(tx, clock, result.staffId)) === STAFF_POLICY.staffMaxFailures) {
        await refuse(tx, kind, 'failure-cap-reached', result.staffId, request.id);
      }
      return refuse(tx, kind, result.reason, result.staffId, request.id);
    }
    finishCeremony(tx, clock, live.id);
    return { ok: true as const, ceremony: live, staffId: result.passkey.staffId };
  }

  app.post<{ Params: { flow: string } }>(`${LOGIN_PATH}/:flow`, json, async (request, reply) => {
    const client = clientBucket(request);
    const done = await system(deps.db, 'console:login', async (tx) => {
      await assertAccessOpen(tx, 'staff');
      // Before the ceremony or the credential is looked up: a throttled address is refused even a good passkey.
      const verdict = await beginConsoleAttempt(tx, clock, client);
      if (!verdict.ok) return { ok: false as const, retryAt: verdict.retryAt };
      const checked = await assertion(tx, request, reply, 'login', request.params.flow, null);
      if (!checked.ok) return checked;
      forgiveConsoleAttempt(tx, client);
      const session = await startStaffSession(tx, clock, checked.staffId);
      await audit(tx, clock, { type: 'staff.login', accountId: null, requestId: request.id, payload: { staffId: checked.staffId, sessionId: session.id } });
      return { ok: true as const, token: session.token };
    });
    if (!done.ok) return refusal(request, reply, done);
    setStaffCookie(reply, done.token);
    return reply.send({ redirect: CONSOLE_PREFIX });
  });

  // --- Step-up: the passkey again, then back to the action with the form it kept.
  app.get<{ Params: { id: string } }>(`${CONSOLE_PREFIX}/step-up/:id`, async (request, reply) => {
    const session = await staffSessionOf(request, deps);
    if (!session) return reply.redirect(LOGIN_PATH, 303);
    const live = await system(deps.db, 'console:step-up', (tx) => loadCeremony(tx, clock, request.params.id, { kind: 'step-up', csrfBinding: csrfBinding(request, reply), sessionId: session.id }));
    if (!live) return reply.redirect(CONSOLE_PREFIX, 303);
    return sendConsolePage(request, reply, { title: t(localeOf(request), 'console.stepUp.title'), main: stepUpPage(request, reply, live.id), session, scripts: PASSKEY_SCRIPTS });
  });

  app.post<{ Params: { id: string } }>(`${CONSOLE_PREFIX}/step-up/:id/options`, json, async (request, reply) => {
    const session = await staffSessionOf(request, deps);
    if (!session) return sendJsonError(reply, 401, 'session', t(localeOf(request), 'passkey.expired'));
    const binding = csrfBinding(request, reply);
    const options = await system(deps.db, 'console:step-up', async (tx) => {
      const live = await loadCeremony(tx, clock, request.params.id, { kind: 'step-up', csrfBinding: binding, sessionId: session.id });
      if (!live) return null;
      const o = await authenticationOptions(deps.webauthn, (await staffPasskeys(tx, session.staffId)).map(asDescriptor));
      setChallenge(tx, live.id, o.challenge);
      return o;
    });
    return options ? reply.send({ options }) : expired(request, reply);
  });

  app.post<{ Params: { id: string } }>(`${CONSOLE_PREFIX}/step-up/:id/passkey`, json, async (request, reply) => {
    const session = await staffSessionOf(request, deps);
    if (!session) return sendJsonError(reply, 401, 'session', t(localeOf(request), 'passkey.expired'));
    const done = await system(deps.db, 'console:step-up', async (tx) => {
      const checked = await assertion(tx, request, reply, 'step-up', request.params.id, session);
      if (!checked.ok) return checked;
      const token = await steppedUp(tx, clock, session.id);
      if (!token) return { ok: false as const, expired: true };
      await audit(tx, clock, { type: 'staff.step-up', accountId: null, requestId: request.id, payload: { staffId: session.staffId, sessionId: session.id } });
      return { ok: true as const, token, ceremony: checked.ceremony };
    });
    if (!done.ok) return refusal(request, reply, done);
    setStaffCookie(reply, done.token);
    const back = done.ceremony.returnTo ?? CONSOLE_PREFIX;
    // passkey.js posts the kept form again with this page's CSRF token: nothing is applied without it.
    if (done.ceremony.keptForm) return reply.send({ form: { action: back, fields: done.ceremony.keptForm } });
    return reply.send({ redirect: back });
  });

  app.post(`${CONSOLE_PREFIX}/logout`, async (request, reply) => {
    const session = await staffSessionOf(request, deps);
    if (session) {
      await system(deps.db, 'console:logout', async (tx) => {
        if (await endStaffSession(tx, clock, session.id, 'logout')) {
          await audit(tx, clock, { type: 'staff.logout', accountId: null, requestId: request.id, payload: { staffId: session.staffId, sessionId: session.id } });
        }
      });
    }
    forgetStaffSession(request);
    clearStaffCookie(reply);
    return reply.redirect(`${LOGIN_PATH}?done=logged-out`, 303);
  });
}
