import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMail, renderStored, MailRenderError } from '../../src/mail/render.ts';
import { templateNames, type MailTemplateName, type MailTemplates } from '../../src/mail/templates/catalogue.ts';
import { escapeHtml } from '../../src/mail/templates/layout.ts';
import { MAIL_LOCALES } from '../../src/mail/templates/types.ts';

const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };
const HOSTILE = `<script>alert("x")</script> & 'Zoé'`;

/** Typed by the catalogue: a new template without a sample here fails the typecheck. */
const hostile: { [K in MailTemplateName]: MailTemplates[K] } = {
  'account-created': { givenName: HOSTILE },
};

const render = (name: MailTemplateName, locale: 'fr' | 'en') => renderStored(name, locale, hostile[name], site);

describe('mail templates', () => {
  for (const name of templateNames) {
    for (const locale of MAIL_LOCALES) {
      test(`${name} (${locale}): subject, text and html, every parameter escaped in html`, () => {
        const mail = render(name, locale);
        assert.ok(mail.subject.trim().length > 0);
        assert.doesNotMatch(mail.subject, /[\r\n]/);
        assert.match(mail.html, new RegExp(`<html lang="${locale}"`));
        for (const value of Object.values(hostile[name])) {
          assert.ok(mail.text.includes(value), 'text carries the parameter as is');
          assert.ok(mail.html.includes(escapeHtml(value)), 'html carries it escaped');
        }
        assert.ok(!mail.html.includes('<script'), 'no markup comes from a parameter');
        assert.ok(mail.text.includes(site.siteAddress) && mail.html.includes(site.siteAddress), 'tells the address to type');
        // Self-contained: nothing fetched from elsewhere when the mail is opened.
        assert.doesNotMatch(mail.html, /<img|<link|<iframe|<object|<form|\bsrc\s*=|url\(/i);
      });
    }
    test(`${name}: French and English differ`, () => {
      assert.notEqual(render(name, 'fr').text, render(name, 'en').text);
    });
  }

  test('account-created says who it is for, where to go and what to do if unexpected', () => {
    const fr = renderMail('account-created', 'fr', { givenName: 'Camille' }, site);
    assert.equal(fr.subject, 'Votre compte Sésame a été créé');
    assert.match(fr.text, /^Bonjour Camille,/);
    assert.match(fr.text, /tapez vous-même l’adresse sesame\.example\.gouv\.fr/);
    assert.match(fr.text, /Si vous n’attendiez pas ce message/);
    const en = renderMail('account-created', 'en', { givenName: 'Camille' }, site);
    assert.equal(en.subject, 'Your Sésame account has been created');
    assert.match(en.text, /If you did not expect this message/);
  });

  test('stored rows are checked at run time: unknown template, locale or params are refused with a reason', () => {
    const reason = (fn: () => unknown): string | undefined => {
      try {
        fn();
      } catch (err) {
        return err instanceof MailRenderError ? err.reason : 'other';
      }
      return undefined;
    };
    assert.equal(reason(() => renderStored('no-such-template', 'fr', {}, site)), 'unknown-template');
    assert.equal(reason(() => renderStored('account-created', 'de', { givenName: 'A' }, site)), 'unknown-locale');
    assert.equal(reason(() => renderStored('account-created', 'fr', { givenName: 42 }, site)), 'invalid-params');
    assert.equal(reason(() => renderStored('account-created', 'fr', { givenName: 'two\nlines' }, site)), 'invalid-params');
    assert.equal(reason(() => renderStored('toString', 'fr', {}, site)), 'unknown-template');
  });

  test('an error never quotes the parameters', () => {
    try {
      renderStored('account-created', 'fr', { givenName: 'Camille\u0000Secret' }, site);
      assert.fail('should refuse');
    } catch (err) {
      assert.ok(err instanceof MailRenderError);
      assert.doesNotMatch(err.message, /Camille|Secret/);
    }
  });
});
