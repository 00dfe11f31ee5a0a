import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../web/i18n.ts';
import { describePlace } from '../../web/place.ts';
import { formatDateTime } from '../../time-format.ts';
import { table } from '../../web/table.ts';
import type { LoginEntry, LoginMethod } from './login-history.ts';
import { LEVELS } from './views.ts';

const METHODS: Record<LoginMethod, MessageKey> = {
  passkey: 'security.history.method.passkey',
  'password-totp': 'security.history.method.passwordTotp',
  'password-device': 'security.history.method.passwordDevice',
  'password-email-code': 'security.history.method.passwordEmailCode',
  other: 'security.history.method.other',
};

/** "Historique des connexions": the last logins, so a citizen can spot one that was not theirs. */
export function loginHistorySection(locale: Locale, timeZone: string, entries: readonly LoginEntry[]): SafeHtml {
  const device = (e: LoginEntry): string =>
    e.browser && e.os ? t(locale, 'security.sessions.browserOnOs', { browser: e.browser, os: e.os }) : (e.browser ?? e.os ?? t(locale, 'security.sessions.unknownDevice'));
  const place = (e: LoginEntry): string =>
    describePlace(e.place, locale, { local: t(locale, 'security.history.place.local'), unknown: t(locale, 'security.history.place.unknown') });
  return html`<section class="fr-mb-7w" aria-labelledby="history-title">
  <h2 id="history-title">${t(locale, 'security.history.title')}</h2>
  <p>${t(locale, 'security.history.lead')}</p>
  ${table({
    id: 'login-history',
    caption: t(locale, 'security.history.title'),
    hideCaption: true,
    headers: [
      t(locale, 'security.history.at'),
      t(locale, 'security.history.method'),
      t(locale, 'security.sessions.level'),
      t(locale, 'security.sessions.device'),
      t(locale, 'security.history.place'),
      t(locale, 'security.history.services'),
    ],
    rows: entries.map(
      (e) => html`<tr>
        <td>${formatDateTime(locale, e.at.toISOString(), timeZone)}${e.live ? html` <p class="fr-badge fr-badge--sm fr-badge--success fr-badge--no-icon">${t(locale, 'security.history.live')}</p>` : ''}</td>
        <td>${t(locale, METHODS[e.method])}</td>
        <td>${t(locale, LEVELS[e.level])}</td>
        <td>${device(e)}</td>
        <td>${place(e)}</td>
        <td>${e.services.length > 0 ? e.services.join(', ') : t(locale, 'security.history.noService')}</td>
      </tr>`,
    ),
  })}
  <p class="fr-text--xs">${t(locale, 'security.history.attribution')}</p>
</section>`;
}
