import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Level } from '../../auth/levels.ts';
import { newPasswordForm } from '../../auth/flows/new-password-view.ts';
import { formatDateTime } from '../../time-format.ts';
import { csrfField } from '../../web/csrf.ts';
import { alert, input } from '../../web/forms.ts';
import { html, type SafeHtml } from '../../web/html.ts';
import { t, type Locale, type MessageKey } from '../../web/i18n.ts';
import { table } from '../../web/table.ts';
import type { SessionSummary } from './sessions-list.ts';

export type SecurityNotice = 'password-changed' | 'sessions-ended' | 'session-ended' | 'authenticator-removed' | 'service-revoked';
const NOTICES: Record<SecurityNotice, MessageKey> = {
  'password-changed': 'security.password.changed',
  'sessions-ended': 'security.sessions.ended',
  'session-ended': 'security.sessions.oneEnded',
  'authenticator-removed': 'strong.removed',
  'service-revoked': 'services.revoked',
};
export const isSecurityNotice = (v: unknown): v is SecurityNotice => typeof v === 'string' && Object.hasOwn(NOTICES, v);

/** A session's level in words (the sessions table, the login history). */
export const LEVELS: Record<Level, MessageKey> = { eidas1: 'security.level.eidas1', eidas2: 'security.level.eidas2', eidas3: 'security.level.eidas3' };

export interface PasswordErrors {
  current?: string;
  password?: string;
  confirm?: string;
}

export interface SecurityPage {
  request: FastifyRequest;
  reply: FastifyReply;
  locale: Locale;
  timeZone: string;
  sessions: SessionSummary[];
  notice?: SecurityNotice;
  /** Shown above the password form: why it was refused as a whole (throttled, or see the fields). */
  passwordAlert?: SafeHtml;
  passwordErrors?: PasswordErrors;
  /** The strong methods section (authenticators-view.ts), and why an action on it was refused. */
  strong: SafeHtml;
  strongAlert?: SafeHtml;
  /** How recent the email code that re-authenticates a change of password must be. */
  freshCodeMinutes: number;
  /** The last logins (login-history-view.ts). */
  history: SafeHtml;
  /** The services the citizen consented to (connected-services-view.ts). */
  services: SafeHtml;
}

function device(locale: Locale, s: SessionSummary): string {
  if (s.browser && s.os) return t(locale, 'security.sessions.browserOnOs', { browser: s.browser, os: s.os });
  return s.browser ?? s.os ?? t(locale, 'security.sessions.unknownDevice');
}

function passwordSection(o: SecurityPage): SafeHtml {
  const { locale } = o;
  const errors = o.passwordErrors ?? {};
  const current = input({
    id: 'current',
    label: t(locale, 'security.password.current'),
    type: 'password',
    autocomplete: 'current-password',
    maxlength: 1000,
    error: errors.current,
  });
  return html`<section class="fr-mb-7w" aria-labelledby="password-title">
  <h2 id="password-title">${t(locale, 'security.password.title')}</h2>
  ${o.passwordAlert ?? ''}
  <p>${t(locale, 'security.password.lead')}</p>
  <p class="fr-hint-text">${t(locale, 'security.password.freshCode', { minutes: o.freshCodeMinutes })}</p>
  ${newPasswordForm({ request: o.request, reply: o.reply, locale, action: '/account/security/password', before: current, errors: { password: errors.password, confirm: errors.confirm } })}
</section>`;
}

function sessionsSection(o: SecurityPage): SafeHtml {
  const { locale, timeZone } = o;
  const when = (d: Date): string => formatDateTime(locale, d.toISOString(), timeZone);
  const others = o.sessions.filter((s) => !s.current).length;
  return html`<section class="fr-mb-7w" aria-labelledby="sessions-title">
  <h2 id="sessions-title">${t(locale, 'security.sessions.title')}</h2>
  <p>${t(locale, 'security.sessions.lead')}</p>
  ${table({
    id: 'sessions',
    caption: t(locale, 'security.sessions.title'),
    hideCaption: true,
    headers: [
      t(locale, 'security.sessions.device'),
      t(locale, 'security.sessions.startedAt'),
      t(locale, 'security.sessions.lastSeenAt'),
      t(locale, 'security.sessions.level'),
      t(locale, 'security.sessions.action'),
    ],
    rows: o.sessions.map(
                (s) => html`<tr${s.current ? html` aria-current="true"` : ''}>
                <td>${device(locale, s)}${s.current ? html` <p class="fr-badge fr-badge--sm fr-badge--info fr-badge--no-icon">${t(locale, 'security.sessions.current')}</p>` : ''}</td>
                <td>${when(s.createdAt)}</td>
                <td>${when(s.lastSeenAt)}</td>
                <td>${t(locale, LEVELS[s.level])}</td>
                <td>${
                  s.current
                    ? ''
                    : html`<form method="post" action="/account/security/sessions/${s.id}/end">
                  ${csrfField(o.request, o.reply)}
                  <button class="fr-btn fr-btn--sm fr-btn--tertiary" type="submit" title="${t(locale, 'security.sessions.endOneTitle', { device: device(locale, s) })}">${t(locale, 'security.sessions.endOne')}</button>
                </form>`
                }</td>
              </tr>`,
    ),
  })}
  ${
    others > 0
      ? html`<form method="post" action="/account/security/sessions/end-others">
    ${csrfField(o.request, o.reply)}
    <button class="fr-btn fr-btn--secondary" type="submit">${t(locale, 'security.sessions.endOthers')}</button>
  </form>`
      : html`<p>${t(locale, 'security.sessions.noOthers')}</p>`
  }
</section>`;
}

/** "Sécurité du compte" (inside the area's page, which gives the <h1>): strong methods, password, sessions, login history. */
export function securityPage(o: SecurityPage): SafeHtml {
  const { locale } = o;
  return html`${o.notice ? alert('success', t(locale, NOTICES[o.notice])) : ''}
    <p class="fr-text--lead">${t(locale, 'security.lead')}</p>
    ${o.strongAlert ?? ''}
    ${o.strong}
    ${passwordSection(o)}
    ${sessionsSection(o)}
    ${o.services}
    ${o.history}`;
}
