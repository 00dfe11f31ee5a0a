import type { FastifyInstance, FastifyRequest } from 'fastify';
import { parseNir } from '../../../accounts/nir.ts';
import { field } from '../../../web/forms.ts';
import { t, type Locale, type MessageKey } from '../../../web/i18n.ts';
import type { AuthDeps } from '../../auth-deps.ts';
import { codeFlowRoutes } from '../code-flow/routes.ts';
import type { FirstForm } from '../code-flow/spec.ts';
import { parseBirthDate, type BirthDateProblem } from './birth-date.ts';
import { finishActivation } from './finish.ts';
import { requestActivation } from './request-step.ts';
import { activationForm, type ActivationFormOptions } from './views.ts';

type Typed = Pick<ActivationFormOptions, 'nir' | 'birthDate' | 'errors'>;

const DATE_ERRORS: Record<BirthDateProblem, MessageKey> = {
  required: 'activation.birthDate.required',
  format: 'activation.birthDate.format',
  nonexistent: 'activation.birthDate.nonexistent',
  future: 'activation.birthDate.future',
};

/** NIR and birth date, both given back as typed (the date as understood, once it is). */
function readForm(deps: AuthDeps, request: FastifyRequest, locale: Locale): ReturnType<FirstForm<Typed>['read']> {
  const nirTyped = field(request, 'nir', 40);
  const dateTyped = field(request, 'birthDate', 40);
  const nir = parseNir(nirTyped);
  const date = parseBirthDate(dateTyped, deps.clock.now());
  const birthDate = date.ok ? date.date : dateTyped;
  if (!nir.ok || !date.ok) {
    const errors = { nir: nir.ok ? undefined : nir.error.message[locale], birthDate: date.ok ? undefined : t(locale, DATE_ERRORS[date.problem]) };
    return { ok: false, typed: { nir: nirTyped, birthDate, errors } };
  }
  return { ok: true, typed: { nir: nirTyped, birthDate }, start: (context) => requestActivation(deps, { ...context, nir: nir.nir.value, birthDate: date.date }) };
}

/**
 * Activation of an account created without a password: NIR + birth date, then the code sent
 * to the address on file, then the first password.
 */
export async function activationRoutes(app: FastifyInstance, deps: AuthDeps): Promise<void> {
  codeFlowRoutes(app, deps, {
    kind: 'activation',
    base: '/activate',
    firstForm: { title: 'activation.title', throttled: 'activation.throttled', render: activationForm, read: (request, locale) => readForm(deps, request, locale) },
    choosePassword: { title: 'activation.choosePassword.title', lead: 'activation.choosePassword.lead' },
    finish: finishActivation,
    doneUrl: '/login?done=activated',
  });
}
