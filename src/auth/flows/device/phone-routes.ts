import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { system, type Tx } from '../../../db/contexts.ts';
import { formatTime } from '../../../time-format.ts';
import { localeOf } from '../../../web/i18n.ts';
import { siteOf } from '../../../web/layout.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { decideApproval, endSessionsAfterDenial, pendingForDevice } from '../../methods/device-approval.ts';
import { authenticateDevice, issueNonce, type Device, type DeviceAction } from '../../methods/device-key.ts';
import { sendPhonePage } from './phone-view.ts';

/**
 * The phone: its page, and the JSON endpoints its script calls. Those endpoints have no
 * session and no CSRF token (`csrf: false`): each request is signed by the device's key over
 * a nonce we issued and the exact payload, which no other site can produce.
 */
const B64URL = /^[A-Za-z0-9_-]+$/;
const keyId = z.string().length(43).regex(B64URL);
const signedBase = { device: keyId, nonce: z.string().length(43).regex(B64URL), signature: z.string().min(80).max(100).regex(B64URL) };
const schemas = {
  poll: z.object(signedBase),
  decide: z.object({ ...signedBase, approval: z.string().max(36), decision: z.enum(['approve', 'deny']), number: z.string().regex(/^\d{2}$/).or(z.literal('')) }),
  'end-sessions': z.object({ ...signedBase, approval: z.string().max(36) }),
} as const;

type Signed<A extends DeviceAction> = z.infer<(typeof schemas)[A]>;

export async function devicePhoneRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  const { clock, timeZone } = deps;
  const noCsrf = { config: { csrf: false } };

  app.get('/device', async (request, reply) => {
    const done = (request.query as Record<string, unknown>).done;
    return sendPhonePage({ request, reply, locale: localeOf(request), loggedIn: (await request.session()) !== null, registered: done === 'registered' });
  });

  app.post('/device/nonce', noCsrf, async (request, reply) => {
    const parsed = z.object({ device: keyId }).safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'bad-request' });
    const nonce = await system(deps.db, 'device', (tx) => issueNonce(tx, clock, Buffer.from(parsed.data.device, 'base64url')));
    // 404: this browser's key is not (or no longer) a device; its page offers to register.
    return nonce ? reply.send({ nonce }) : reply.code(404).send({ error: 'unknown-device' });
  });

  /**
   * Parses and authenticates a signed request, runs `fn` for the device in the same
   * transaction and hands out the next nonce with its answer.
   */
  async function signed<A extends DeviceAction>(
    request: FastifyRequest,
    reply: FastifyReply,
    action: A,
    fields: (body: Signed<A>) => string[],
    fn: (tx: Tx, device: Device, body: Signed<A>) => Promise<Record<string, unknown>>,
  ): Promise<FastifyReply> {
    const parsed = schemas[action].safeParse(request.body);
    if (!parsed.success) return reply.code(400).send({ error: 'bad-request' });
    const body = parsed.data as Signed<A>;
    const out = await system(deps.db, 'device', async (tx) => {
      const auth = await authenticateDevice(tx, clock, {
        keyId: Buffer.from(body.device, 'base64url'),
        nonce: body.nonce,
        signature: Buffer.from(body.signature, 'base64url'),
        action,
        fields: fields(body),
        requestId: request.id,
      });
      if (!auth.ok) return { status: 401, body: { error: auth.reason } };
      const answer = await fn(tx, auth.device, body);
      const nonce = await issueNonce(tx, clock, Buffer.from(body.device, 'base64url'));
      return { status: 200, body: { ...answer, nonce } };
    });
    return reply.code(out.status).send(out.body);
  }

  app.post('/device/poll', noCsrf, (request, reply) =>
    signed(request, reply, 'poll', () => [], async (tx, device) => {
      const locale = localeOf(request);
      const time = (d: Date): string => formatTime(locale, d.toISOString(), timeZone);
      const pending = await pendingForDevice(tx, clock, device);
      return {
        requests: pending.map((p) => ({
          id: p.id,
          service: siteOf(request).serviceName,
          time: time(p.createdAt),
          expires: time(p.expiresAt),
          browser: [p.browser, p.os].filter((s) => s !== null).join(', '),
          place: null,
          numbers: p.numbers,
        })),
      };
    }),
  );

  app.post('/device/decide', noCsrf, (request, reply) =>
    signed(
      request,
      reply,
      'decide',
      (b) => [b.approval, b.decision, b.number],
      async (tx, device, b) => {
        const decision = b.decision === 'deny' ? ({ decision: 'deny' } as const) : ({ decision: 'approve', number: Number(b.number) } as const);
        return { result: await decideApproval(tx, deps, device, b.approval, decision, { locale: localeOf(request), requestId: request.id }) };
      },
    ),
  );

  app.post('/device/end-sessions', noCsrf, (request, reply) =>
    signed(
      request,
      reply,
      'end-sessions',
      (b) => [b.approval],
      async (tx, device, b) => {
        const ended = await endSessionsAfterDenial(tx, deps, device, b.approval, request.id);
        return ended.ok ? { result: 'ended', count: ended.ended } : { result: 'refused' };
      },
    ),
  );
}
