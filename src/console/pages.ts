import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { audit } from '../audit/log.ts';
import { system, type Tx } from '../db/contexts.ts';
import { AccessMessageError, type AccessMessages } from '../incident/access-message.ts';
import { closeAccess, openAccess, previewAccess, readAccessScopes, type AccessChange, type AlsoInTx } from '../incident/access.ts';
import { CONSOLE_PREFIX, isScopeChoice, type AccessScope } from '../incident/access-scope.ts';
import { latestCohort } from '../incident/cohort-store.ts';
import { findIncident, listIncidents, openIncident, REFERENCE, timelineOf, TITLE_MAX } from '../incident/incidents.ts';
import { instantFromLocal } from '../time-format.ts';
import type { StaffSession } from '../staff/sessions.ts';
import { sendError } from '../web/errors.ts';
import { field } from '../web/forms.ts';
import type { SafeHtml } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { dashboardMain, doneNotice, type AccessFormValues, type IncidentFormValues } from './dashboard-view.ts';
import type { ConsoleDeps } from './deps.ts';
import { incidentMain } from './incident-view.ts';
import { sendConsolePage } from './layout.ts';
import { clearStaffCookie, LOGIN_PATH, staffSessionOf } from './staff-session.ts';
import { stepUpOr } from './step-up-guard.ts';

/** The console's pages behind login: open incidents and the access switch, one incident, the switch's actions. */
export async function consolePages(app: FastifyInstance, deps: ConsoleDeps): Promise<void> {
  const { clock } = deps;
  const sessions = new WeakMap<FastifyRequest, StaffSession>();
  const sessionOf = (request: FastifyRequest): StaffSession => {
    const s = sessions.get(request);
    if (!s) throw new Error('console page without a staff session');
    return s;
  };

  // Nothing here without a live staff session: a form posted after it ended does not half-apply.
  app.addHook('preHandler', async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await staffSessionOf(request, deps);
    if (session) {
      sessions.set(request, session);
      return;
    }
    clearStaffCookie(reply);
    return reply.redirect(LOGIN_PATH, 303);
  });

  const by = (session: StaffSession) => ({ kind: 'staff' as const, name: session.login });

  async function dashboard(
    request: FastifyRequest,
    reply: FastifyReply,
    o: { status?: number; notice?: SafeHtml | null; form?: AccessFormValues | null; incidentForm?: IncidentFormValues | null } = {},
  ): Promise<FastifyReply> {
    const locale = localeOf(request);
    const session = sessionOf(request);
    const [incidents, access, preview] = await Promise.all([
      system(deps.db, 'console:view', (tx) => listIncidents(tx, { openOnly: true })),
      readAccessScopes(deps.db),
      // How many sessions a close would end, not recorded: looking is not a step.
      previewAccess(deps.db, clock, { action: 'close', scope: 'all', by: by(session), record: false }),
    ]);
    const query = request.query as Record<string, unknown> | undefined;
    const main = dashboardMain({ request, reply, locale, incidents, access, sessionsToEnd: { citizens: preview.sessionsToEnd, staff: preview.staffSessionsToEnd }, now: clock.now(), timeZone: deps.timeZone, notice: o.notice ?? doneNotice(locale, query?.done), form: o.form ?? null, incidentForm: o.incidentForm ?? null });
    return sendConsolePage(request, reply, { title: t(locale, 'console.title'), main, session, status: o.status });
  }

  app.get(CONSOLE_PREFIX, async (request, reply) => dashboard(request, reply));

  app.get<{ Params: { reference: string } }>(`${CONSOLE_PREFIX}/incidents/:reference`, async (request, reply) => {
    const reference = request.params.reference.toUpperCase();
    if (!REFERENCE.test(reference)) return sendError(request, reply, 404, 'notFound');
    const found = await system(deps.db, 'console:view', async (tx) => {
      const incident = await findIncident(tx, reference);
      if (!incident) return null;
      const [steps, cohort] = await Promise.all([timelineOf(tx, incident), latestCohort(tx, incident)]);
      return { incident, steps, cohort };
    });
    if (!found) return sendError(request, reply, 404, 'notFound');
    const locale = localeOf(request);
    const main = incidentMain({ locale, ...found, now: clock.now(), timeZone: deps.timeZone });
    return sendConsolePage(request, reply, { title: found.incident.reference, main, session: sessionOf(request) });
  });

  /** The staff action's own audit event, linking it to this session: written in the switch's transaction, so neither commits without the other. */
  const recorded =
    (request: FastifyRequest, session: StaffSession, action: 'access-close' | 'access-open', scope: string): AlsoInTx =>
    async (tx: Tx, change: AccessChange) => {
      await audit(tx, clock, { type: 'staff.action', accountId: null, requestId: request.id, payload: { staffId: session.staffId, sessionId: session.id, action, scope, changed: change.changed, incident: change.incident } });
    };

  app.post(`${CONSOLE_PREFIX}/access/close`, async (request, reply) => {
    const session = sessionOf(request);
    const locale = localeOf(request);
    // Per-scope field names: both scopes' forms are on one page, and ids are unique.
    const scope = field(request, 'scope', 20);
    if (!isScopeChoice(scope) || scope === 'all') return sendError(request, reply, 400, 'badRequest');
    const values: AccessFormValues = { scope: scope satisfies AccessScope, reason: field(request, `reason-${scope}`, 600).trim(), messageFr: field(request, `message_fr-${scope}`, 600).trim(), messageEn: field(request, `message_en-${scope}`, 600).trim(), error: null };
    // Checked before the step-up: nobody is asked for a passkey to be told the form is wrong.
    const error = formError(values);
    if (error) return dashboard(request, reply, { status: 400, form: { ...values, error: { field: error, text: t(locale, `console.access.error.${error}`) } } });
    return stepUpOr(deps, request, reply, session, async () => {
      const messages: AccessMessages | null = values.messageFr ? { fr: values.messageFr, en: values.messageEn } : null;
      let change: AccessChange;
      try {
        change = await closeAccess(deps.db, clock, { scope, by: by(session), reason: values.reason, messages, also: recorded(request, session, 'access-close', scope) });
      } catch (err) {
        if (!(err instanceof AccessMessageError) && !(err instanceof RangeError)) throw err;
        const f = err instanceof AccessMessageError ? (`message_${err.language}` as const) : ('reason' as const);
        return dashboard(request, reply, { status: 400, form: { ...values, error: { field: f, text: t(locale, `console.access.error.${f}`) } } });
      }
      return reply.redirect(`${CONSOLE_PREFIX}?done=${change.changed ? 'closed' : 'unchanged'}`, 303);
    });
  });

  app.post(`${CONSOLE_PREFIX}/incidents`, async (request, reply) => {
    const session = sessionOf(request);
    const locale = localeOf(request);
    const values: IncidentFormValues = { title: field(request, 'title', TITLE_MAX + 100).trim(), detectedAt: field(request, 'detected_at', 40).trim(), error: null };
    const detectedAt = instantFromLocal(values.detectedAt, deps.timeZone);
    // Checked before the step-up, as openIncident would: nobody is asked for a passkey to be told the form is wrong.
    const wrong = !ONE_LINE(values.title, TITLE_MAX) ? 'title' : !detectedAt || detectedAt.getTime() > clock.now().getTime() ? 'detected_at' : null;
    if (wrong || !detectedAt) {
      const f = wrong ?? 'detected_at';
      return dashboard(request, reply, { status: 400, incidentForm: { ...values, error: { field: f, text: t(locale, `console.incidentOpen.error.${f}`) } } });
    }
    return stepUpOr(deps, request, reply, session, async () => {
      const incident = await openIncident(deps.db, clock, {
        title: values.title,
        detectedAt,
        by: by(session),
        also: async (tx, opened) => {
          await audit(tx, clock, { type: 'staff.action', accountId: null, requestId: request.id, payload: { staffId: session.staffId, sessionId: session.id, action: 'incident-open', scope: null, changed: true, incident: opened.reference } });
        },
      });
      return reply.redirect(`${CONSOLE_PREFIX}/incidents/${incident.reference}`, 303);
    });
  });

  app.post(`${CONSOLE_PREFIX}/access/open`, async (request, reply) => {
    const session = sessionOf(request);
    const scope = field(request, 'scope', 20);
    if (!isScopeChoice(scope) || scope === 'all') return sendError(request, reply, 400, 'badRequest');
    return stepUpOr(deps, request, reply, session, async () => {
      const change = await openAccess(deps.db, clock, { scope, by: by(session), also: recorded(request, session, 'access-open', scope) });
      return reply.redirect(`${CONSOLE_PREFIX}?done=${change.changed ? 'opened' : 'unchanged'}`, 303);
    });
  });
}

const ONE_LINE = (s: string, max: number): boolean => s !== '' && s.length <= max && !/\p{Cc}/u.test(s);

/** The first wrong field of a close: a reason is required; the messages go in pairs (the page shows both languages). */
function formError(v: AccessFormValues): 'reason' | 'message_fr' | 'message_en' | null {
  if (!ONE_LINE(v.reason, 500)) return 'reason';
  if (v.messageFr === '' && v.messageEn === '') return null;
  if (!ONE_LINE(v.messageFr, 500)) return 'message_fr';
  if (!ONE_LINE(v.messageEn, 500)) return 'message_en';
  return null;
}
