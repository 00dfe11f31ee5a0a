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

  test('the site address is a host to type, never a URL', () => {
    for (const siteAddress of ['https://sesame.example.gouv.fr', 'sesame.example.gouv.fr/login', '//sesame.example.gouv.fr', 'sesame example', '']) {
      assert.throws(() => renderMail('account-created', 'fr', samples['account-created'], { ...site, siteAddress }), MailSiteError, siteAddress);
    }
    assert.throws(() => renderMail('account-created', 'fr', samples['account-created'], { ...site, serviceName: 'Sésame https://evil' }), MailSiteError);
  });
});
