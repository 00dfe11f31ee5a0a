import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseNir } from '../../../accounts/nir.ts';
import { field } from '../../../web/forms.ts';
import type { Locale } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { codeFlowRoutes } from '../code-flow/routes.ts';
import type { FirstForm } from '../code-flow/spec.ts';
import { finishRecovery } from './finish.ts';
import { requestRecovery } from './request-step.ts';
import { recoveryForm, type RecoveryFormOptions } from './views.ts';

type Typed = Pick<RecoveryFormOptions, 'nir' | 'error'>;

/** The NIR, given back as typed. */
function readForm(deps: AuthDeps, request: FastifyRequest, locale: Locale): ReturnType<FirstForm<Typed>['read']> {
  const nirTyped = field(request, 'nir', 40);
  const nir = parseNir(nirTyped);
  if (!nir.ok) return { ok: false, typed: { nir: nirTyped, error: nir.error.message[locale] } };
  return { ok: true, typed: { nir: nirTyped }, start: (context) => requestRecovery(deps, { ...context, nir: nir.nir.value }) };
}

/**
 * "Forgotten password": the NIR, then the code sent to the address on file, then a new
 * password that ends every session.
 */
export async function recoveryRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  codeFlowRoutes(app, deps, {
    kind: 'recovery',
    base: '/recover',
    firstForm: { title: 'recovery.title', throttled: 'recovery.throttled', render: recoveryForm, read: (request, locale) => readForm(deps, request, locale) },
    choosePassword: { title: 'recovery.choosePassword.title', lead: 'recovery.choosePassword.lead' },
    finish: finishRecovery,
    doneUrl: '/login?done=password-reset',
  });
}
