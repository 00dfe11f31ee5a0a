import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { MailRenderError, renderMail, renderStored } from '../../src/mail/render.ts';
import { MailSiteError } from '../../src/mail/site.ts';
import { templateNames, type MailTemplateName, type MailTemplates } from '../../src/mail/templates/catalogue.ts';
import { MAIL_LOCALES } from '../../src/mail/templates/types.ts';

/**
 * Sésame never sends a link: mails tell people to type the site's address themselves, so
 * that a phishing mail with a link stands out. Every template, every locale.
 */
const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };

const samples: { [K in MailTemplateName]: MailTemplates[K] } = {
  'account-created': { givenName: 'Camille' },
  'one-time-code': { purpose: 'recovery', code: '042917', requestedAt: '2026-11-23T13:00:00Z', expiresAt: '2026-11-23T13:05:00Z', browser: 'Firefox 128', os: 'Linux' },
  'new-browser-login': { at: '2026-11-23T13:05:00Z', browser: null, os: 'Android 14', place: 'Lyon, France' },
  'password-changed': { at: '2026-11-23T13:05:00Z', browser: 'Safari 17', os: null, via: 'recovery' },
  'authenticator-changed': { at: '2026-11-23T13:05:00Z', browser: 'Chrome 131', os: 'Android 14', kind: 'device', change: 'removed' },
  'approval-denied': { reason: 'denied', at: '2026-11-23T13:05:00Z', browser: 'Firefox 128', os: 'Windows 11', place: null },
  'contact-email-code': { code: '042917', requestedAt: '2026-11-23T13:00:00Z', expiresAt: '2026-11-23T13:15:00Z', browser: 'Firefox 128', os: 'Linux' },
  'contact-email-changed': { at: '2026-11-23T13:05:00Z', newAddress: 'c***@e***.fr', browser: 'Firefox 128', os: 'Linux' },
  'bank-details-changed': { at: '2026-11-23T13:05:00Z', maskedIban: 'FR76 **** **** **** **** ***0 189', previousMaskedIban: 'FR14 **** **** **** **** ***2 606', effectiveAt: '2026-11-26T13:05:00Z', cancelCode: 'ABCDE-FGH23', browser: null, os: null },
  'bank-details-change-cancelled': { at: '2026-11-24T10:00:00Z', changedAt: '2026-11-23T13:05:00Z', cancelledMaskedIban: 'FR76 **** **** **** **** ***0 189', keptMaskedIban: null, via: 'account' },
  // The DPO's email address is written out as text: not a link (no mailto:, no scheme).
  'incident-data-exposed': { reference: 'INC-2026-001', from: '2026-11-20T08:00:00Z', to: '2026-11-20T19:00:00Z', data: ['identity', 'bank-details'], changesCancelled: 2, credentialsReset: false, authenticatorsRemoved: 1, controller: 'Caisse d’allocations familiales', dpo: { name: 'Délégué à la protection des données', email: 'dpo@caf.example.fr', postalAddress: '18 rue de la Paix, 75002 Paris', phone: '+33 1 23 45 67 89' } },
  'incident-credentials-reset': { reference: 'INC-2026-001', from: '2026-11-20T08:00:00Z', to: '2026-11-20T19:00:00Z', data: ['identity', 'bank-details'], changesCancelled: 2, credentialsReset: true, authenticatorsRemoved: 1, controller: 'Caisse d’allocations familiales', dpo: { name: 'Délégué à la protection des données', email: 'dpo@caf.example.fr', postalAddress: null, phone: '+33 1 23 45 67 89' } },
};

const LINKS: [string, RegExp][] = [
  ['an <a> tag', /<a[\s>]/i],
  ['an href', /href\s*=/i],
  ['http://', /http:\/\//i],
  ['https://', /https:\/\//i],
  ['www.', /www\./i],
  ['mailto:', /mailto:/i],
];

describe('no link in any mail', () => {
  for (const name of templateNames) {
    for (const locale of MAIL_LOCALES) {
      test(`${name} (${locale})`, () => {
        const mail = renderStored(name, locale, samples[name], site);
        for (const [part, value] of Object.entries(mail)) {
          for (const [what, re] of LINKS) assert.doesNotMatch(value, re, `${part} contains ${what}`);
        }
      });
    }
  }

  test('a parameter that would become a link is refused, not sent', () => {
    for (const givenName of ['https://evil.example/login', 'see www.evil.example', '<a href=x>Camille</a>', 'mailto:x@evil.example', 'HTTP://EVIL']) {
      assert.throws(
        () => renderMail('account-created', 'fr', { givenName }, site),
        (err: unknown) => err instanceof MailRenderError && err.reason === 'contains-link',
        givenName,
      );
    }
  });

  test('browser, system and place of a request are refused when they would become a link', () => {
    const at = '2026-11-23T13:05:00Z';
    for (const value of ['https://evil.example', 'www.evil.example', '<a href=x>Firefox</a>', 'mailto:x@evil.example']) {
      for (const render of [
        () => renderMail('one-time-code', 'fr', { ...samples['one-time-code'], browser: value }, site),
        () => renderMail('new-browser-login', 'en', { at, browser: 'Firefox 128', os: value, place: null }, site),
        () => renderMail('new-browser-login', 'fr', { at, browser: 'Firefox 128', os: null, place: value }, site),
        () => renderMail('password-changed', 'fr', { at, browser: value, os: null, via: 'change' }, site),
      ])
        assert.throws(render, (err: unknown) => err instanceof MailRenderError && err.reason === 'contains-link', value);
    }
  });

  test('the site address is a host to type, never a URL', () => {
    for (const siteAddress of ['https://sesame.example.gouv.fr', 'sesame.example.gouv.fr/login', '//sesame.example.gouv.fr', 'sesame example', '']) {
      assert.throws(() => renderMail('account-created', 'fr', samples['account-created'], { ...site, siteAddress }), MailSiteError, siteAddress);
    }
    assert.throws(() => renderMail('account-created', 'fr', samples['account-created'], { ...site, serviceName: 'Sésame https://evil' }), MailSiteError);
  });
});
