import type { FastifyInstance } from 'fastify';
import type { AuthDeps } from '../../auth/auth-deps.ts';
import { sendPhonePage } from '../../auth/flows/device/phone-view.ts';
import { registerDevice } from '../../auth/methods/device-key.ts';
import { ensureEnrolmentAllowed } from '../../auth/sensitive.ts';
import { citizenRequest } from '../../isolation/citizen-request.ts';
import { clientOf } from '../../web/client.ts';
import { field } from '../../web/forms.ts';
import { localeOf, t } from '../../web/i18n.ts';

const NAME_MAX = 60;

/**
 * Registering this phone as an approval device: the form of /device, posted with the public
 * key its script generated (the private key stays in the phone's IndexedDB, non-extractable).
 * Adding an authenticator is a sensitive operation: the enrolment gate sends the citizen
 * through a step-up (or a fresh email code for a first strong method) and posts the form back
 * here afterwards. Behind the area's requireSession.
 */
export async function deviceEnrolmentRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  app.post('/device', async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    if (field(request, 'method') !== 'device-approval') return reply.code(400).send();
    const locale = localeOf(request);
    const name = field(request, 'name', 1000).trim();
    const publicKey = field(request, 'publicKey', 400);
    const refuse = (error: string) => sendPhonePage({ request, reply, locale, loggedIn: true, error, name: name.slice(0, NAME_MAX), status: 400 });
    // Checked before the gate, so that a mistake shows before a step-up, not after.
    if (name === '' || name.length > NAME_MAX) return refuse(t(locale, 'device.register.nameRequired'));
    if (!/^[A-Za-z0-9_-]{80,300}$/.test(publicKey)) return refuse(t(locale, 'device.register.badKey'));

    const gate = await ensureEnrolmentAllowed(deps, request, reply, session, '/device');
    if (!gate.allowed) return reply;
    const client = clientOf(request);
    const added = await citizenRequest(deps, request, (tx) =>
      registerDevice(tx, deps, {
        accountId: session.accountId,
        name,
        publicKey: Buffer.from(publicKey, 'base64url'),
        fromStrongSession: gate.fromStrongSession,
        locale,
        client: { browser: client.browser, os: client.os },
        requestId: request.id,
      }),
    );
    if (!added.ok) return refuse(t(locale, 'device.register.badKey'));
    return reply.redirect('/device?done=registered', 303);
  });
}
