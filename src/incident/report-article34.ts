import { accessDirection, type Consequence, type DataCategory, type Report } from './report.ts';
import { when, type ReportLang } from './report-text.ts';

/**
 * The communication to the people concerned (GDPR Article 34), in plain language: what
 * happened, which data, what it may lead to, what was done, what to do, whom to ask. Built
 * from the report's data, paragraphs of plain text. No link, ever (src/mail/no-links.ts):
 * people are told to type the site's address themselves, so that a phishing copy stands out.
 */

const DATA: Record<ReportLang, Record<DataCategory, string>> = {
  fr: {
    identity: 'votre identité (nom, prénoms, date de naissance, numéro de sécurité sociale)',
    contact: 'vos coordonnées (adresse électronique, téléphone, adresse postale)',
    'bank-details': 'vos coordonnées bancaires (IBAN)',
    procedures: 'vos démarches en cours ou passées',
    payments: 'vos paiements (prestations, montants, dates)',
  },
  en: {
    identity: 'your identity (name, first names, date of birth, social security number)',
    contact: 'your contact details (email address, telephone, postal address)',
    'bank-details': 'your bank details (IBAN)',
    procedures: 'your past or current applications',
    payments: 'your payments (benefits, amounts, dates)',
  },
};

const RISK: Record<ReportLang, Record<Consequence, string>> = {
  fr: {
    'identity-theft': 'quelqu’un pourrait se servir de votre identité et de votre numéro de sécurité sociale pour se faire passer pour vous',
    phishing: 'vous pourriez recevoir des messages ou des appels frauduleux qui se servent de ces informations pour paraître crédibles',
    'bank-fraud': 'votre IBAN pourrait servir à mettre en place des prélèvements que vous n’avez pas autorisés',
    'diverted-payments': 'vos coordonnées bancaires ont pu être changées pour détourner vos paiements',
    'wrong-decisions': 'une démarche a pu être déposée ou modifiée à votre place',
    'financial-situation-disclosed': 'votre situation (prestations, revenus déclarés) a pu être vue par d’autres personnes',
    'account-takeover': 'quelqu’un a pu se connecter à votre compte',
  },
  en: {
    'identity-theft': 'someone could use your identity and social security number to pass themselves off as you',
    phishing: 'you may receive fraudulent messages or calls that use this information to seem genuine',
    'bank-fraud': 'your IBAN could be used to set up direct debits you did not authorise',
    'diverted-payments': 'your bank details may have been changed to divert your payments',
    'wrong-decisions': 'an application may have been filed or changed in your name',
    'financial-situation-disclosed': 'your situation (benefits, declared income) may have been seen by other people',
    'account-takeover': 'someone may have signed in to your account',
  },
};

const list = (lang: ReportLang, items: readonly string[], or = false): string => {
  if (items.length <= 1) return items.join('');
  const last = or ? (lang === 'fr' ? 'ou' : 'or') : lang === 'fr' ? 'et' : 'and';
  return `${items.slice(0, -1).join(', ')} ${last} ${items[items.length - 1]}`;
};

const closedAccess = (r: Report): boolean => r.measures.taken.some((m) => m.step === 'access' && accessDirection(m.summary) === 'close');

function measuresTaken(lang: ReportLang, r: Report): string[] {
  const fr = lang === 'fr';
  const out: string[] = [];
  if (closedAccess(r)) out.push(fr ? 'nous avons fermé l’accès au service le temps de corriger l’erreur' : 'we closed access to the service while the error was fixed');
  if (r.effects.changesCancelled > 0)
    out.push(fr ? 'nous avons annulé les modifications faites par d’autres personnes pendant cette période' : 'we cancelled the changes made by other people during that period');
  if (r.effects.credentialsReset.accounts > 0)
    out.push(fr ? 'nous avons fermé les sessions ouvertes et vous demanderons un nouveau mot de passe à votre prochaine connexion' : 'we ended open sessions and will ask you for a new password the next time you sign in');
  out.push(fr ? 'nous en informons la CNIL' : 'we are informing the CNIL (the French data protection authority)');
  return out;
}

function advice(lang: ReportLang, r: Report): string[] {
  const fr = lang === 'fr';
  const site = r.site.siteAddress;
  const has = (c: DataCategory) => r.dataCategories.includes(c);
  const out = [
    fr
      ? `Connectez-vous en tapant vous-même l’adresse ${site} dans votre navigateur, et vérifiez vos coordonnées${has('bank-details') ? ', vos coordonnées bancaires' : ''}${has('procedures') ? ' et vos démarches' : ''}.`
      : `Sign in by typing the address ${site} into your browser yourself, and check your contact details${has('bank-details') ? ', your bank details' : ''}${has('procedures') ? ' and your applications' : ''}.`,
  ];
  if (r.effects.credentialsReset.accounts > 0 || r.subjects.byCategory['logged-in'].exact > 0)
    out.push(fr ? 'Si vous utilisez ailleurs le même mot de passe, changez-le aussi.' : 'If you use the same password elsewhere, change it there too.');
  if (has('bank-details')) out.push(fr ? 'Surveillez vos relevés bancaires et signalez à votre banque tout prélèvement que vous ne reconnaissez pas.' : 'Watch your bank statements and report any direct debit you do not recognise to your bank.');
  out.push(
    fr
      ? `Méfiez-vous des messages et des appels qui se présentent comme venant de ${r.site.serviceName} ou de votre banque. ${r.site.serviceName} ne met jamais de lien dans ses messages et ne vous demande jamais votre mot de passe.`
      : `Be wary of messages and calls claiming to come from ${r.site.serviceName} or your bank. ${r.site.serviceName} never puts links in its messages and never asks for your password.`,
  );
  return out;
}

function contact(lang: ReportLang, r: Report): string {
  const fr = lang === 'fr';
  const ways = [
    r.dpo.email ? (fr ? `par courriel à ${r.dpo.email}` : `by email at ${r.dpo.email}`) : null,
    r.dpo.phone ? (fr ? `par téléphone au ${r.dpo.phone}` : `by telephone on ${r.dpo.phone}`) : null,
    r.dpo.postalAddress ? (fr ? `par courrier à l’adresse ${r.dpo.postalAddress.replace(/\s*\n\s*/g, ', ')}` : `by post at ${r.dpo.postalAddress.replace(/\s*\n\s*/g, ', ')}`) : null,
  ].filter((w): w is string => w !== null);
  const how = ways.length > 0 ? ` ${list(lang, ways, true)}` : '';
  return fr
    ? `Pour toute question, vous pouvez contacter notre délégué à la protection des données (${r.dpo.name})${how}. Vous pouvez aussi adresser une réclamation à la CNIL.`
    : `For any question, you can contact our data protection officer (${r.dpo.name})${how}. You may also lodge a complaint with the CNIL.`;
}

/** The Article 34 text, paragraphs separated by blank lines. */
export function article34Text(r: Report, lang: ReportLang): string {
  const fr = lang === 'fr';
  const tz = r.site.timeZone;
  const service = r.site.serviceName;
  const changed = r.subjects.byCategory['file-changed'].exact > 0 || r.records.fileEventsInWindow.byOthers > 0;
  const period = r.cohort
    ? fr
      ? `entre le ${when(lang, r.cohort.from, tz)} et le ${when(lang, r.cohort.to, tz)}`
      : `between ${when(lang, r.cohort.from, tz)} and ${when(lang, r.cohort.to, tz)}`
    : fr
      ? `avant le ${when(lang, r.incident.detectedAt, tz)}`
      : `before ${when(lang, r.incident.detectedAt, tz)}`;
  const what = fr
    ? `${period}, à la suite d’une erreur de ${service}, des informations de votre dossier ont pu être vues${changed ? ' et modifiées' : ''} par d’autres personnes connectées au service.`
    : `${period}, because of an error at ${service}, information in your file may have been seen${changed ? ' and changed' : ''} by other people signed in to the service.`;
  const data = r.dataCategories.map((c) => DATA[lang][c]);
  const risks = r.consequences.map((c) => RISK[lang][c]);
  const paragraphs = [
    fr ? 'Madame, Monsieur,' : 'Dear Sir or Madam,',
    fr ? `Nous vous informons d’un incident qui concerne vos données personnelles. ${capitalise(what)}` : `We are writing to tell you about an incident involving your personal data. ${capitalise(what)}`,
    data.length > 0 ? (fr ? `Les informations concernées sont ${list(lang, data)}.` : `The information concerned is ${list(lang, data)}.`) : null,
    risks.length > 0 ? (fr ? `Ce qui peut en résulter pour vous : ${list(lang, risks)}.` : `What this may mean for you: ${list(lang, risks)}.`) : null,
    fr ? `Ce que nous avons fait : ${list(lang, measuresTaken(lang, r))}.` : `What we have done: ${list(lang, measuresTaken(lang, r))}.`,
    `${fr ? 'Ce que nous vous conseillons de faire :' : 'What we advise you to do:'}\n${advice(lang, r)
      .map((a) => `- ${a}`)
      .join('\n')}`,
    contact(lang, r),
    fr ? `Nous vous prions de nous excuser pour cet incident.\n${r.controller}` : `We apologise for this incident.\n${r.controller}`,
  ];
  return paragraphs.filter((p): p is string => p !== null).join('\n\n');
}

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
