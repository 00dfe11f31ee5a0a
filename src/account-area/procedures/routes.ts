import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { readAccount } from '../../accounts/accounts.ts';
import { UUID } from '../../db/contexts.ts';
import { lockFile } from '../../file/events.ts';
import { isProcedureKind } from '../../file/procedures/catalogue.ts';
import { localDate } from '../../file/procedures/dates.ts';
import type { FieldErrors, FormValues } from '../../file/procedures/form.ts';
import { certifiedSnapshotOf, paymentCertificateOf } from '../../file/procedures/payment-certificate.ts';
import { submitProcedure } from '../../file/procedures/submit.ts';
import { listPayments } from '../../file/projections/payments.ts';
import { listProcedures, readProcedure } from '../../file/projections/procedures.ts';
import { carries, citizenRequest } from '../../isolation/citizen-request.ts';
import { field } from '../../web/forms.ts';
import { localeOf, t } from '../../web/i18n.ts';
import type { AccountDeps } from '../account-deps.ts';
import { sendAccountPage } from '../account-page.ts';
import { certifiedFromFile, sendCertificate } from './certificate-page.ts';
import type { PreparedForm, ProcedureKindModule } from './kind.ts';
import { KIND_MODULES } from './kinds.ts';
import { detailPage, formPage, listPage, PROCEDURES } from './views.ts';

/**
 * "Mes démarches": the catalogue and the list, a form per kind, the detail of one procedure
 * and the printable certificate. Everything reads and writes through citizenRequest; an id
 * that is not one of this citizen's procedures is the ordinary 404 page.
 */
export async function procedureRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  const fileDeps = { ring: deps.ring, clock: deps.clock };
  const today = (): string => localDate(deps.clock.now(), deps.timeZone);

  app.get(PROCEDURES, async (request, reply) => {
    const procedures = await citizenRequest(deps, request, (tx, session) => listProcedures(tx, deps.ring, session.accountId));
    carries(request, ...procedures.map((p) => p.accountId));
    const locale = localeOf(request);
    return sendAccountPage(reply, { request, title: t(locale, 'procedures.title'), current: 'procedures', main: listPage(locale, procedures, deps.timeZone) });
  });

  function showForm(request: FastifyRequest, reply: FastifyReply, module: ProcedureKindModule, form: PreparedForm, values: FormValues, errors: FieldErrors, status = 200): FastifyReply {
    const locale = localeOf(request);
    const main = formPage({ request, reply, locale, module, form, values, errors });
    return sendAccountPage(reply, { request, title: t(locale, `procedures.start.${module.kind}`), current: 'procedures', main, status });
  }

  app.get<{ Params: { kind: string } }>(`${PROCEDURES}/new/:kind`, async (request, reply) => {
    const { kind } = request.params;
    if (!isProcedureKind(kind)) return reply.callNotFound();
    const module = KIND_MODULES[kind];
    const { form, accountId } = await citizenRequest(deps, request, async (tx, session) => ({ form: await module.prepare(tx, deps.ring, session.accountId, today()), accountId: session.accountId }));
    // The form may show the file's data (the quarters already declared).
    carries(request, accountId);
    return showForm(request, reply, module, form, {}, {});
  });

  app.post<{ Params: { kind: string } }>(`${PROCEDURES}/new/:kind`, async (request, reply) => {
    const { kind } = request.params;
    if (!isProcedureKind(kind)) return reply.callNotFound();
    const module = KIND_MODULES[kind];
    const values: Record<string, string> = {};
    for (const name of module.fields) values[name] = field(request, name, 200);
    const outcome = await citizenRequest(deps, request, async (tx, session) => {
      // Checks and submission under the file's lock: two tabs cannot declare one quarter twice.
      await lockFile(tx, session.accountId);
      const form = await module.prepare(tx, deps.ring, session.accountId, today());
      const parsed = form.available ? form.parse(values) : ({ ok: false, errors: {} } as const);
      if (!parsed.ok) return { ok: false as const, form, errors: parsed.errors, accountId: session.accountId };
      const submitted = await submitProcedure(tx, fileDeps, {
        accountId: session.accountId,
        sessionId: session.id,
        level: session.level,
        kind,
        data: parsed.data,
        status: module.initialStatus,
        newAddress: parsed.newAddress,
      });
      return { ok: true as const, id: submitted.id };
    });
    if (outcome.ok) return reply.redirect(`${PROCEDURES}/${outcome.id}?done=submitted`, 303);
    carries(request, outcome.accountId);
    return showForm(request, reply, module, outcome.form, values, outcome.errors, 400);
  });

  app.get<{ Params: { id: string }; Querystring: { done?: string } }>(`${PROCEDURES}/:id`, async (request, reply) => {
    const { id } = request.params;
    if (!UUID.test(id)) return reply.callNotFound();
    const procedure = await citizenRequest(deps, request, (tx, session) => readProcedure(tx, deps.ring, session.accountId, id));
    if (!procedure) return reply.callNotFound();
    carries(request, procedure.accountId);
    const locale = localeOf(request);
    const main = detailPage({ locale, procedure, module: KIND_MODULES[procedure.kind], timeZone: deps.timeZone, justSubmitted: request.query.done === 'submitted' });
    return sendAccountPage(reply, { request, title: t(locale, 'procedures.detail.title', { reference: procedure.reference }), current: 'procedures', main });
  });

  app.get<{ Params: { id: string } }>(`${PROCEDURES}/:id/certificate`, async (request, reply) => {
    const { id } = request.params;
    if (!UUID.test(id)) return reply.callNotFound();
    const found = await citizenRequest(deps, request, async (tx, session) => {
      const procedure = await readProcedure(tx, deps.ring, session.accountId, id);
      const period = procedure?.kind === 'payment-certificate' && procedure.status === 'accepted' ? paymentCertificateOf(procedure.data) : null;
      if (!procedure || !period) return null;
      const frozen = certifiedSnapshotOf(procedure.data);
      if (frozen) return { procedure, period, certified: frozen, read: [] };
      // Issued before certificates kept what they certified.
      const [account, payments] = await Promise.all([readAccount(tx, deps.ring, session.accountId), listPayments(tx, deps.ring, session.accountId)]);
      if (!account) return null;
      const certified = certifiedFromFile(account, payments, period, localDate(new Date(procedure.submittedAt), deps.timeZone));
      return { procedure, period, certified, read: [account.id, ...payments.map((p) => p.accountId)] };
    });
    // Not a certificate of this citizen's (or not one yet): the same 404 as an unknown page.
    if (!found) return reply.callNotFound();
    carries(request, found.procedure.accountId, ...found.read);
    return sendCertificate(request, reply, { procedure: found.procedure, period: found.period, certified: found.certified, timeZone: deps.timeZone });
  });
}
