import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { renderMail, renderStored, MailRenderError } from '../../src/mail/render.ts';
import { templateNames, type MailTemplateName, type MailTemplates } from '../../src/mail/templates/catalogue.ts';
import { escapeHtml } from '../../src/mail/templates/layout.ts';
import { formatDateTime, formatTime } from '../../src/time-format.ts';
import { containsLink } from '../../src/mail/no-links.ts';
import { MAIL_LOCALES } from '../../src/mail/templates/types.ts';

const site = { serviceName: 'Sésame', siteAddress: 'sesame.example.gouv.fr', timeZone: 'Europe/Paris' };
const HOSTILE = `<script>alert("x")</script> & 'Zoé'`;

/** Typed by the catalogue: a new template without a sample here fails the typecheck. */
const hostile: { [K in MailTemplateName]: MailTemplates[K] } = {
  'account-created': { givenName: HOSTILE },
  'one-time-code': { purpose: 'login', code: '123456', requestedAt: '2026-11-23T13:00:00Z', expiresAt: '2026-11-23T13:05:00Z', browser: HOSTILE, os: HOSTILE },
  'new-browser-login': { at: '2026-11-23T13:05:00Z', browser: HOSTILE, os: HOSTILE, place: HOSTILE },
  'password-changed': { at: '2026-11-23T13:05:00Z', browser: HOSTILE, os: HOSTILE, via: 'change' },
  'authenticator-changed': { at: '2026-11-23T13:05:00Z', browser: HOSTILE, os: HOSTILE, kind: 'passkey', change: 'added' },
  'approval-denied': { reason: 'mismatch', at: '2026-11-23T13:05:00Z', browser: HOSTILE, os: HOSTILE, place: HOSTILE },
  'contact-email-code': { code: '123456', requestedAt: '2026-11-23T13:00:00Z', expiresAt: '2026-11-23T13:15:00Z', browser: HOSTILE, os: HOSTILE },
  'contact-email-changed': { at: '2026-11-23T13:05:00Z', newAddress: HOSTILE, browser: HOSTILE, os: HOSTILE },
  'bank-details-changed': { at: '2026-11-23T13:05:00Z', maskedIban: HOSTILE, previousMaskedIban: HOSTILE, effectiveAt: '2026-11-26T13:05:00Z', cancelCode: 'ABCDE-FGH23', browser: HOSTILE, os: HOSTILE },
  'bank-details-change-cancelled': { at: '2026-11-24T10:00:00Z', changedAt: '2026-11-23T13:05:00Z', cancelledMaskedIban: HOSTILE, keptMaskedIban: HOSTILE, via: 'code' },
  'incident-data-exposed': { reference: 'INC-2026-001', from: '2026-11-20T08:00:00Z', to: '2026-11-20T19:00:00Z', data: ['identity', 'bank-details'], changesCancelled: 2, credentialsReset: false, authenticatorsRemoved: 1, controller: HOSTILE, dpo: { name: HOSTILE, email: 'dpo@caf.example.fr', postalAddress: HOSTILE, phone: '+33 1 23 45 67 89' } },
  'incident-credentials-reset': { reference: 'INC-2026-001', from: '2026-11-20T08:00:00Z', to: '2026-11-20T19:00:00Z', data: ['identity', 'bank-details'], changesCancelled: 2, credentialsReset: true, authenticatorsRemoved: 1, controller: HOSTILE, dpo: { name: HOSTILE, email: 'dpo@caf.example.fr', postalAddress: HOSTILE, phone: '+33 1 23 45 67 89' } },
};

/** The parameters a mail shows as they are (the others are dates and choices, shown reworded). */
const shownAsIs: { [K in MailTemplateName]: readonly (keyof MailTemplates[K])[] } = {
  'account-created': ['givenName'],
  'one-time-code': ['code', 'browser', 'os'],
  'new-browser-login': ['browser', 'os', 'place'],
  'password-changed': ['browser', 'os'],
  'authenticator-changed': ['browser', 'os'],
  'approval-denied': ['browser', 'os', 'place'],
  'contact-email-code': ['code', 'browser', 'os'],
  'contact-email-changed': ['newAddress', 'browser', 'os'],
  'bank-details-changed': ['maskedIban', 'previousMaskedIban', 'cancelCode', 'browser', 'os'],
  'bank-details-change-cancelled': ['cancelledMaskedIban', 'keptMaskedIban'],
  'incident-data-exposed': ['controller'],
  'incident-credentials-reset': ['controller'],
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
        const params: [string, unknown][] = Object.entries(hostile[name]);
        const shown: readonly PropertyKey[] = shownAsIs[name];
        for (const [key, value] of params) {
          if (!shown.includes(key)) continue;
          assert.ok(typeof value === 'string');
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

  test('times are given in the site zone, in words', () => {
    assert.equal(formatTime('fr', '2026-11-23T13:05:00Z', 'Europe/Paris'), '14:05');
    assert.equal(formatTime('en', '2026-07-01T13:05:00Z', 'Europe/Paris'), '15:05', 'summer time');
    assert.equal(formatTime('fr', '2026-11-23T13:05:00Z', 'America/Cayenne'), '10:05');
    assert.equal(formatDateTime('fr', '2026-11-23T13:05:00Z', 'Europe/Paris'), 'lundi 23 novembre 2026 à 14:05');
    assert.equal(formatDateTime('en', '2026-11-23T13:05:00Z', 'Europe/Paris'), 'Monday 23 November 2026 at 14:05');
    assert.equal(formatDateTime('fr', '2026-11-30T23:30:00Z', 'Europe/Paris'), 'mardi 1er décembre 2026 à 00:30', 'the day changes with the zone');
  });

  /** Text of a mail with the site's own address taken out: what is left must hold no link. */
  const noLink = (mail: { text: string; html: string }) => {
    for (const part of [mail.text, mail.html]) assert.ok(!containsLink(part.split(site.siteAddress).join(' ')));
    assert.doesNotMatch(mail.html, /<a[\s>]|href\s*=/i);
  };

  const code = {
    purpose: 'login',
    code: '042917',
    requestedAt: '2026-11-23T13:00:00Z',
    expiresAt: '2026-11-23T13:05:00Z',
    browser: 'Firefox 128',
    os: 'Windows 10',
  } as const;

  test('one-time-code (fr): what for, when, from where, the code, its expiry and the rules', () => {
    const fr = renderMail('one-time-code', 'fr', code, site);
    assert.equal(fr.subject, 'Votre code de connexion Sésame');
    assert.match(fr.text, /Un code pour vous connecter à votre compte sur Sésame a été demandé le lundi 23 novembre 2026 à 14:00, depuis\u00a0: Firefox 128 sous Windows 10\./);
    assert.match(fr.text, /Votre code\u00a0: 042917/);
    assert.ok(fr.html.includes('<strong>042917</strong>'), 'the code stands out');
    assert.match(fr.text, /Il expire à 14:05 et ne peut servir qu’une seule fois\./);
    assert.match(fr.text, /Les agents de Sésame ne vous demanderont jamais ce code, ni par téléphone, ni par message\./);
    assert.match(fr.text, /Si vous n’avez pas essayé de vous connecter, ignorez ce message\u00a0: personne ne peut se connecter sans ce code\./);
    assert.match(fr.text, /changez-le dès que possible en tapant vous-même l’adresse sesame\.example\.gouv\.fr/);
    noLink(fr);
  });

  test('one-time-code (en): same, in English', () => {
    const en = renderMail('one-time-code', 'en', code, site);
    assert.equal(en.subject, 'Your Sésame sign-in code');
    assert.match(en.text, /requested on Monday 23 November 2026 at 14:00, from: Firefox 128 on Windows 10\./);
    assert.match(en.text, /Your code: 042917/);
    assert.match(en.text, /It expires at 14:05 and can be used only once\./);
    assert.match(en.text, /Sésame staff will never ask you for this code, not on the telephone, not by message\./);
    assert.match(en.text, /If you did not try to sign in, ignore this message/);
    noLink(en);
  });

  test('one-time-code: every purpose has its subject and its advice; unknown browser; the zone is the site’s', () => {
    const subjects = {
      login: ['Votre code de connexion Sésame', 'Your Sésame sign-in code'],
      activation: ['Votre code d’activation Sésame', 'Your Sésame activation code'],
      recovery: ['Votre code de réinitialisation du mot de passe Sésame', 'Your Sésame password reset code'],
      confirm: ['Votre code de confirmation Sésame', 'Your Sésame confirmation code'],
    } as const;
    for (const [purpose, [frSubject, enSubject]] of Object.entries(subjects)) {
      const params = { ...code, purpose: purpose as keyof typeof subjects };
      const fr = renderMail('one-time-code', 'fr', params, site);
      const en = renderMail('one-time-code', 'en', params, site);
      assert.equal(fr.subject, frSubject);
      assert.equal(en.subject, enSubject);
      assert.match(fr.text, /ne vous demanderont jamais ce code/);
      assert.match(fr.text, /Si vous n’avez (rien demandé|pas essayé)/);
      assert.match(fr.text, /tapez vous-même l’adresse sesame\.example\.gouv\.fr|tapant (vous-même )?l’adresse sesame\.example\.gouv\.fr/);
      assert.match(en.text, /If you did not/);
    }
    const unknown = renderMail('one-time-code', 'fr', { ...code, browser: null, os: null }, site);
    assert.match(unknown.text, /depuis\u00a0: navigateur inconnu\./);
    assert.match(renderMail('one-time-code', 'en', { ...code, browser: null, os: 'Android 14' }, site).text, /from: unknown browser on Android 14\./);
    const cayenne = renderMail('one-time-code', 'fr', code, { ...site, timeZone: 'America/Cayenne' });
    assert.match(cayenne.text, /le lundi 23 novembre 2026 à 10:00,/);
    assert.match(cayenne.text, /Il expire à 10:05/);
  });

  test('one-time-code: a code is 6 digits, times are ISO, nothing else', () => {
    const reason = (params: unknown) => {
      try {
        renderStored('one-time-code', 'fr', params, site);
        return 'rendered';
      } catch (err) {
        return err instanceof MailRenderError ? err.reason : 'other';
      }
    };
    assert.equal(reason(code), 'rendered');
    for (const bad of ['12345', '1234567', 'abcdef', ' 12345', '１２３４５６'])
      assert.equal(reason({ ...code, code: bad }), 'invalid-params', bad);
    assert.equal(reason({ ...code, expiresAt: 'in 5 minutes' }), 'invalid-params');
    assert.equal(reason({ ...code, purpose: 'other' }), 'invalid-params');
    assert.equal(reason({ ...code, browser: 'x'.repeat(61) }), 'invalid-params');
    assert.equal(reason({ ...code, browser: 'see https://evil.example' }), 'contains-link');
  });

  const login = { at: '2026-11-23T13:05:00Z', browser: 'Safari 17', os: 'iOS 17', place: 'Lyon, France' };

  test('new-browser-login: when, from where, and what to do if it was not you', () => {
    const fr = renderMail('new-browser-login', 'fr', login, site);
    assert.equal(fr.subject, 'Nouvelle connexion à votre compte Sésame');
    assert.match(fr.text, /jamais été utilisé pour ce compte/);
    assert.match(fr.text, /Le lundi 23 novembre 2026 à 14:05, depuis\u00a0: Safari 17 sous iOS 17\. Lieu approximatif\u00a0: Lyon, France\./);
    assert.match(fr.text, /Si c’était vous, vous n’avez rien à faire\./);
    assert.match(fr.text, /Si ce n’était pas vous\u00a0: tapez vous-même l’adresse sesame\.example\.gouv\.fr dans votre navigateur, changez votre mot de passe, puis mettez fin aux autres sessions depuis la page «\u00a0Sécurité du compte\u00a0»\. Prévenez aussi Sésame/);
    noLink(fr);
    const en = renderMail('new-browser-login', 'en', login, site);
    assert.equal(en.subject, 'New sign-in to your Sésame account');
    assert.match(en.text, /On Monday 23 November 2026 at 14:05, from: Safari 17 on iOS 17\. Approximate location: Lyon, France\./);
    assert.match(en.text, /If it was not you: type the address sesame\.example\.gouv\.fr into your browser yourself, change your password, then end the other sessions/);
    noLink(en);
    const nowhere = renderMail('new-browser-login', 'fr', { ...login, place: null }, site);
    assert.doesNotMatch(nowhere.text, /Lieu/);
    assert.doesNotMatch(renderMail('new-browser-login', 'en', { ...login, place: null }, site).text, /location/);
  });

  test('password-changed: how, when, from where; other sessions ended after a reset or a change', () => {
    const at = { at: '2026-11-23T13:05:00Z', browser: 'Chrome 131', os: 'Android 14' };
    const subjects = { activation: ['choisi', 'set'], recovery: ['réinitialisé', 'reset'], change: ['changé', 'changed'] } as const;
    for (const [via, [frDone, enDone]] of Object.entries(subjects)) {
      const params = { ...at, via: via as keyof typeof subjects };
      const fr = renderMail('password-changed', 'fr', params, site);
      const en = renderMail('password-changed', 'en', params, site);
      assert.equal(fr.subject, `Votre mot de passe Sésame a été ${frDone}`);
      assert.equal(en.subject, `Your Sésame password has been ${enDone}`);
      assert.match(fr.text, new RegExp(`a été ${frDone} le lundi 23 novembre 2026 à 14:05, depuis\u00a0: Chrome 131 sous Android 14\\.`));
      assert.match(en.text, new RegExp(`was ${enDone} on Monday 23 November 2026 at 14:05, from: Chrome 131 on Android 14\\.`));
      const ended = via !== 'activation';
      assert.equal(/autres sessions ouvertes sur votre compte ont été fermées/.test(fr.text), ended, via);
      assert.equal(/all other sessions on your account have been ended/.test(en.text), ended, via);
      assert.match(fr.text, /Si ce n’était pas vous\u00a0: tapez vous-même l’adresse sesame\.example\.gouv\.fr dans votre navigateur et choisissez un nouveau mot de passe avec «\u00a0Mot de passe oublié\u00a0»\. Prévenez aussi Sésame/);
      assert.match(en.text, /If it was not you: type the address sesame\.example\.gouv\.fr into your browser yourself and choose a new password with “Forgotten password”/);
      noLink(fr);
      noLink(en);
    }
  });
});
