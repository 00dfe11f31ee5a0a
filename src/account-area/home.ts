import type { FastifyInstance } from 'fastify';
import { readAccount } from '../accounts/accounts.ts';
import { authenticatorKinds } from '../auth/authenticators.ts';
import { citizen } from '../db/contexts.ts';
import { alert } from '../web/forms.ts';
import { csrfField } from '../web/csrf.ts';
import { html } from '../web/html.ts';
import { localeOf, t } from '../web/i18n.ts';
import { sendPage } from '../web/layout.ts';
import type { AccountDeps } from './account-deps.ts';

/** GET /account: who is logged in, and the way to the other pages of the area. */
export async function homeRoutes(app: FastifyInstance, deps: AccountDeps): Promise<void> {
  app.get('/account', async (request, reply) => {
    const session = await request.session();
    if (!session) return reply.redirect('/login', 303);
    const [account, kinds] = await citizen(deps.db, session.accountId, (tx) =>
      Promise.all([readAccount(tx, deps.ring, session.accountId), authenticatorKinds(tx, session.accountId)]),
    );
    if (!account) return reply.redirect('/login', 303);
    const locale = localeOf(request);
    const main = html`<div class="fr-my-7w">
  <h1>${t(locale, 'account.title')}</h1>
  <p class="fr-text--lead" id="account-name">${account.identity.givenNames} ${account.identity.familyName}</p>
  ${
    kinds.size === 0
      ? html`<div class="fr-mb-4w">${alert('info', t(locale, 'strong.none.title'), t(locale, 'strong.none.body'))}
    <p><a class="fr-link" href="/account/security#strong-title">${t(locale, 'strong.enrol')}</a></p></div>`
      : ''
  }
  <ul class="fr-btns-group fr-btns-group--inline-md">
    <li><a class="fr-btn fr-btn--secondary" href="/account/security">${t(locale, 'account.security')}</a></li>
    <li>
      <form method="post" action="/logout">
        ${csrfField(request, reply)}
        <button class="fr-btn fr-btn--tertiary" type="submit">${t(locale, 'logout.submit')}</button>
      </form>
    </li>
  </ul>
</div>`;
    return sendPage(reply, { request, locale, title: t(locale, 'account.title'), main });
  });
}
