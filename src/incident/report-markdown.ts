import type { CohortCategory } from './cohort-store.ts';
import type { Consequence, Count, DataCategory, Measure, Proposed, Report } from './report.ts';
import { article34Text } from './report-article34.ts';
import { about, details, duration, num, stepSentence, when, type ReportLang } from './report-text.ts';

/**
 * The Article 33 notification draft as Markdown, in French (the authority's language) or
 * English, with the Article 34 text in both languages at the end. Counts and codes only.
 */

/** Operator-typed text (the title) must not turn into Markdown structure. */
const escape = (s: string): string => s.replace(/[\\`*_{}[\]<>#|!]/g, (c) => `\\${c}`);

const T = {
  fr: {
    title: (ref: string) => `Projet de notification d’une violation de données personnelles — ${ref}`,
    intro: (r: Report) =>
      `> Brouillon établi le ${when('fr', r.generatedAt, r.site.timeZone)} à partir des données de ${r.site.serviceName}, à relire et compléter avant l’envoi à la CNIL (article 33 du RGPD). ` +
      `Les nombres sont ceux de la base au moment du brouillon. Aucune donnée personnelle d’un usager n’y figure : seulement des nombres.`,
    deadline: 'Délai de notification',
    detected: 'Violation constatée le',
    due: 'Échéance des 72 heures (article 33, paragraphe 1)',
    left: (d: string) => `Temps restant : **${d}**`,
    overdue: (d: string) => `**Échéance dépassée de ${d}.** La notification faite après 72 heures doit être accompagnée des motifs du retard (article 33, paragraphe 1).`,
    delayReasons: 'Motifs du retard : _à compléter_',
    dpoTitle: 'Responsable du traitement et délégué à la protection des données (article 33, paragraphe 3, b)',
    controller: 'Responsable du traitement',
    dpo: 'Délégué à la protection des données',
    email: 'Courriel',
    phone: 'Téléphone',
    post: 'Adresse postale',
    unset: (v: string) => `_non renseigné (${v})_`,
    natureTitle: 'Nature de la violation (article 33, paragraphe 3, a)',
    label: 'Intitulé',
    opened: 'Incident ouvert le',
    closed: 'Incident clos le',
    window: (r: Report, from: string, to: string) =>
      `Période concernée : du ${from} au ${to} (cohorte calculée le ${when('fr', r.cohort?.computedAt ?? r.generatedAt, r.site.timeZone)} par ${r.cohort?.computedBy ?? '?'})`,
    noCohort: 'Aucune cohorte n’a encore été calculée : les personnes et les enregistrements concernés ne sont pas encore comptés (`sesame incident cohort … --apply`).',
    accessKinds: 'Ce qui s’est produit pendant la période, d’après la cohorte :',
    subjectsTitle: 'Personnes concernées : catégories et nombre approximatif',
    subjectsTotal: (c: string, service: string) => `${c} personnes : des usagers de ${service} (allocataires dont le dossier est tenu par l’organisme).`,
    overlap: 'Une personne peut relever de plusieurs catégories : les lignes ne s’additionnent pas.',
    recordsTitle: 'Enregistrements de données personnelles concernés : catégories et nombre approximatif',
    recordsIntro: 'Enregistrements détenus pour les comptes de la cohorte, c’est-à-dire ce qui a pu être exposé (et non la preuve que chacun l’a été) :',
    inWindow: (byOthers: string) => `Modifications des dossiers pendant la période (dont par une autre personne que le titulaire : ${byOthers})`,
    byType: 'Modifications pendant la période, par type :',
    total: 'Total',
    category: 'Catégorie',
    approx: 'Nombre approximatif',
    exact: 'Nombre exact',
    categoriesTitle: 'Catégories de données concernées',
    special:
      'Catégories particulières de données (article 9) : aucune n’est collectée en tant que telle. Les formulaires et les notes des démarches sont en partie du texte libre et peuvent en contenir (par exemple une information de santé) : à vérifier.',
    consequencesTitle: 'Conséquences probables (article 33, paragraphe 3, c)',
    none: 'Aucune.',
    measuresTitle: 'Mesures prises ou proposées (article 33, paragraphe 3, d)',
    taken: 'Mesures prises (chronologie de l’incident)',
    totals: 'Bilan d’après le journal d’audit',
    proposed: 'Mesures proposées',
    noneMissing: 'Aucune mesure manquante relevée.',
    dryRuns: 'Essais à blanc',
    dryRunsNote: 'Listés à part : ils n’ont rien modifié et ne sont pas des mesures.',
    article34: 'Texte pour les personnes concernées (article 34)',
    article34Note: 'À adapter si besoin ; à envoyer sans lien (les messages de ce service n’en contiennent jamais).',
    inFrench: 'En français',
    inEnglish: 'En anglais',
  },
  en: {
    title: (ref: string) => `Draft notification of a personal data breach — ${ref}`,
    intro: (r: Report) =>
      `> Draft prepared on ${when('en', r.generatedAt, r.site.timeZone)} from the data of ${r.site.serviceName}, to be reviewed and completed before it is sent to the CNIL (GDPR Article 33). ` +
      `The figures are those of the database when the draft was made. It holds no personal data of any citizen: only counts.`,
    deadline: 'Notification deadline',
    detected: 'Breach detected on',
    due: '72-hour deadline (Article 33(1))',
    left: (d: string) => `Time left: **${d}**`,
    overdue: (d: string) => `**Deadline passed by ${d}.** A notification made after 72 hours must be accompanied by the reasons for the delay (Article 33(1)).`,
    delayReasons: 'Reasons for the delay: _to be completed_',
    dpoTitle: 'Controller and data protection officer (Article 33(3)(b))',
    controller: 'Controller',
    dpo: 'Data protection officer',
    email: 'Email',
    phone: 'Telephone',
    post: 'Postal address',
    unset: (v: string) => `_not set (${v})_`,
    natureTitle: 'Nature of the breach (Article 33(3)(a))',
    label: 'Title',
    opened: 'Incident opened on',
    closed: 'Incident closed on',
    window: (r: Report, from: string, to: string) =>
      `Period concerned: from ${from} to ${to} (cohort computed on ${when('en', r.cohort?.computedAt ?? r.generatedAt, r.site.timeZone)} by ${r.cohort?.computedBy ?? '?'})`,
    noCohort: 'No cohort has been computed yet: the people and records concerned are not counted yet (`sesame incident cohort … --apply`).',
    accessKinds: 'What happened during the period, according to the cohort:',
    subjectsTitle: 'Data subjects concerned: categories and approximate number',
    subjectsTotal: (c: string, service: string) => `${c} people: users of ${service} (beneficiaries whose file the agency keeps).`,
    overlap: 'One person may fall into several categories: the rows do not add up.',
    recordsTitle: 'Personal data records concerned: categories and approximate number',
    recordsIntro: 'Records held for the cohort’s accounts, that is what may have been exposed (not proof that each one was):',
    inWindow: (byOthers: string) => `Changes to the files during the period (of which by someone other than the holder: ${byOthers})`,
    byType: 'Changes during the period, by type:',
    total: 'Total',
    category: 'Category',
    approx: 'Approximate number',
    exact: 'Exact number',
    categoriesTitle: 'Categories of data concerned',
    special:
      'Special categories of data (Article 9): none is collected as such. Application forms and notes are partly free text and may contain some (health information, for example): to be checked.',
    consequencesTitle: 'Likely consequences (Article 33(3)(c))',
    none: 'None.',
    measuresTitle: 'Measures taken or proposed (Article 33(3)(d))',
    taken: 'Measures taken (the incident’s timeline)',
    totals: 'Totals from the audit log',
    proposed: 'Measures proposed',
    noneMissing: 'No missing measure found.',
    dryRuns: 'Dry runs',
    dryRunsNote: 'Listed apart: they changed nothing and are not measures.',
    article34: 'Text for the people concerned (Article 34)',
    article34Note: 'Adapt as needed; send it without any link (this service’s messages never contain one).',
    inFrench: 'In French',
    inEnglish: 'In English',
  },
} as const;

const ACCESS_KIND: Record<ReportLang, Record<CohortCategory, string>> = {
  fr: {
    'logged-in': 'personnes qui se sont connectées pendant la période',
    'file-read': 'dossiers consultés pendant la période',
    'file-changed': 'dossiers modifiés pendant la période',
    'touched-by-others': 'dossiers consultés ou modifiés par une autre personne que leur titulaire',
  },
  en: {
    'logged-in': 'people who signed in during the period',
    'file-read': 'files read during the period',
    'file-changed': 'files changed during the period',
    'touched-by-others': 'files read or changed by someone other than their holder',
  },
};

const DATA: Record<ReportLang, Record<DataCategory, string>> = {
  fr: {
    identity:
      'Données d’identification fournies par l’organisme : nom, prénoms, date et lieu de naissance, sexe, et le numéro d’inscription au répertoire (NIR, numéro de sécurité sociale).',
    contact: 'Coordonnées : adresse électronique, téléphone, adresse postale.',
    'bank-details': 'Données financières : coordonnées bancaires (IBAN et titulaire du compte).',
    procedures: 'Démarches administratives : formulaires déposés, statut, notes de l’organisme (dont des revenus déclarés).',
    payments: 'Paiements de prestations : nature de la prestation, montant, date, compte crédité.',
  },
  en: {
    identity: 'Identification data provided by the agency: name, first names, date and place of birth, sex, and the NIR (French social security number).',
    contact: 'Contact details: email address, telephone, postal address.',
    'bank-details': 'Financial data: bank details (IBAN and account holder).',
    procedures: 'Administrative applications: forms filed, status, the agency’s notes (including declared income).',
    payments: 'Benefit payments: benefit, amount, date, account credited.',
  },
};

const CONSEQUENCE: Record<ReportLang, Record<Consequence, string>> = {
  fr: {
    'identity-theft': 'Usurpation d’identité : l’identité complète avec le NIR permet de se faire passer pour la personne auprès d’organismes.',
    phishing: 'Hameçonnage ciblé : des messages ou appels frauduleux rendus crédibles par les données connues (identité, coordonnées, situation).',
    'bank-fraud': 'Fraude bancaire : l’IBAN peut servir à des mandats de prélèvement non autorisés.',
    'diverted-payments': 'Détournement de prestations : des coordonnées bancaires modifiables par un tiers permettent de faire verser les prestations sur un autre compte.',
    'wrong-decisions': 'Décisions erronées : des démarches déposées ou modifiées par un tiers peuvent conduire l’organisme à des décisions fausses (droits, montants).',
    'financial-situation-disclosed': 'Atteinte à la vie privée : divulgation de la situation sociale et financière (prestations, revenus) à des tiers.',
    'account-takeover': 'Prise de contrôle de comptes : des sessions ouvertes pendant la période ont pu être utilisées par d’autres personnes.',
  },
  en: {
    'identity-theft': 'Identity theft: the full identity with the NIR makes it possible to pass oneself off as the person with public bodies.',
    phishing: 'Targeted phishing: fraudulent messages or calls made credible by the data known (identity, contact details, situation).',
    'bank-fraud': 'Bank fraud: the IBAN can be used for unauthorised direct debit mandates.',
    'diverted-payments': 'Diverted benefits: bank details that a third party can change allow benefits to be paid into another account.',
    'wrong-decisions': 'Wrong decisions: applications filed or changed by a third party may lead the agency to wrong decisions (entitlements, amounts).',
    'financial-situation-disclosed': 'Invasion of privacy: the social and financial situation (benefits, income) disclosed to third parties.',
    'account-takeover': 'Account takeover: sessions open during the period may have been used by other people.',
  },
};

const PROPOSED: Record<ReportLang, Record<Proposed, (r: Report) => string>> = {
  fr: {
    'compute-cohort': () => 'Calculer la cohorte des personnes concernées (`sesame incident cohort --from … --to … --apply`) : ce brouillon ne compte personne tant qu’elle n’existe pas.',
    'close-access': () => 'Aucune fermeture de l’accès n’est enregistrée pour cet incident : la fermer si la violation peut être encore en cours (`sesame access close`).',
    'cancel-changes': () => 'Des dossiers ont été modifiés pendant la période et aucune modification n’a été annulée : annuler celles faites par d’autres personnes (`sesame incident cancel --cohort`).',
    'review-conflicts': (r) => `Conflits à examiner un par un (modifications laissées en l’état parce que modifiées à nouveau ensuite) : ${num('fr', r.effects.conflicts)}.`,
    'reset-credentials': () => 'Réinitialisation des identifiants des personnes concernées pas encore faite (`sesame incident reset-credentials --cohort`).',
    'notify-people': () => 'Notification des personnes concernées (article 34) pas encore faite (`sesame incident notify --cohort`).',
    'undelivered-notifications': (r) => `Messages de notification non remis : ${num('fr', r.effects.notified.failed)}. Prévenir ces personnes par un autre moyen (courrier).`,
    'reopen-access': () => 'L’accès est fermé au titre de cet incident : le rouvrir une fois la cause corrigée (`sesame access open`).',
  },
  en: {
    'compute-cohort': () => 'Compute the cohort of the people concerned (`sesame incident cohort --from … --to … --apply`): this draft counts no one until it exists.',
    'close-access': () => 'No closing of access is recorded for this incident: close it if the breach may still be going on (`sesame access close`).',
    'cancel-changes': () => 'Files were changed during the period and no change has been cancelled: cancel those made by other people (`sesame incident cancel --cohort`).',
    'review-conflicts': (r) => `Conflicts to review one by one (changes left alone because they were changed again later): ${num('en', r.effects.conflicts)}.`,
    'reset-credentials': () => 'Credentials of the people concerned not reset yet (`sesame incident reset-credentials --cohort`).',
    'notify-people': () => 'Notification of the people concerned (Article 34) not done yet (`sesame incident notify --cohort`).',
    'undelivered-notifications': (r) => `Notification messages not delivered: ${num('en', r.effects.notified.failed)}. Reach these people another way (post).`,
    'reopen-access': () => 'Access is closed for this incident: reopen it once the cause is fixed (`sesame access open`).',
  },
};

const row = (lang: ReportLang, label: string, c: Count): string => `| ${label} | ${num(lang, c.approximately)} | ${num(lang, c.exact)} |`;

function measureLine(lang: ReportLang, r: Report, m: Measure): string {
  const d = details(m.summary);
  return `- ${when(lang, m.at, r.site.timeZone)} — ${stepSentence(lang, m)} (${m.by})${d ? ` — \`${d}\`` : ''}`;
}

function totals(lang: ReportLang, r: Report): string[] {
  const e = r.effects;
  const n = (x: number) => num(lang, x);
  const notified = e.notified;
  const span = notified.firstAt && notified.lastAt ? (lang === 'fr' ? `, du ${when(lang, notified.firstAt, r.site.timeZone)} au ${when(lang, notified.lastAt, r.site.timeZone)}` : `, from ${when(lang, notified.firstAt, r.site.timeZone)} to ${when(lang, notified.lastAt, r.site.timeZone)}`) : '';
  const templates = Object.entries(notified.byTemplate)
    .map(([t, c]) => `${t}: ${n(c)}`)
    .join(', ');
  return lang === 'fr'
    ? [
        `- Modifications annulées : ${n(e.changesCancelled)} ; conflits laissés en l’état : ${n(e.conflicts)}`,
        `- Comptes dont les identifiants ont été réinitialisés : ${n(e.credentialsReset.accounts)} (sessions fermées : ${n(e.credentialsReset.sessionsEnded)}, authentificateurs retirés : ${n(e.credentialsReset.authenticatorsRemoved)})`,
        `- Personnes notifiées : ${n(notified.people)} (messages : ${n(notified.messages)}, remis : ${n(notified.sent)}, non remis : ${n(notified.failed)}${templates ? ` ; modèles : ${templates}` : ''})${span}`,
      ]
    : [
        `- Changes cancelled: ${n(e.changesCancelled)}; conflicts left alone: ${n(e.conflicts)}`,
        `- Accounts whose credentials were reset: ${n(e.credentialsReset.accounts)} (sessions ended: ${n(e.credentialsReset.sessionsEnded)}, authenticators removed: ${n(e.credentialsReset.authenticatorsRemoved)})`,
        `- People notified: ${n(notified.people)} (messages: ${n(notified.messages)}, delivered: ${n(notified.sent)}, not delivered: ${n(notified.failed)}${templates ? `; templates: ${templates}` : ''})${span}`,
      ];
}

const quote = (text: string): string =>
  text
    .split('\n')
    .map((l) => (l === '' ? '>' : `> ${l}`))
    .join('\n');

export function reportMarkdown(r: Report, lang: ReportLang): string {
  const t = T[lang];
  const tz = r.site.timeZone;
  const at = (iso: string) => when(lang, iso, tz);
  const rec = r.records;
  const out: string[] = [`# ${t.title(r.incident.reference)}`, '', t.intro(r), ''];

  const sep = lang === 'fr' ? ' : ' : ': ';
  out.push(`## ${t.deadline}`, '', `- ${t.detected} ${at(r.deadline.detectedAt)}`, `- ${t.due}${sep}${at(r.deadline.dueAt)}`);
  if (r.deadline.overdue) out.push(`- ${t.overdue(duration(lang, r.deadline.minutesLeft))}`, `- ${t.delayReasons}`);
  else out.push(`- ${t.left(duration(lang, r.deadline.minutesLeft))}`);
  out.push('');

  const dpoField = (label: string, v: string | null, env: string) => `- ${label}${sep}${v === null ? t.unset(env) : v.replace(/\s*\n\s*/g, ', ')}`;
  out.push(
    `## ${t.dpoTitle}`,
    '',
    `- ${t.controller}${sep}${r.controller}`,
    `- ${t.dpo}${sep}${r.dpo.name}`,
    dpoField(t.email, r.dpo.email, 'SESAME_DPO_EMAIL'),
    dpoField(t.phone, r.dpo.phone, 'SESAME_DPO_PHONE'),
    dpoField(t.post, r.dpo.postalAddress, 'SESAME_DPO_POSTAL_ADDRESS'),
    '',
  );

  out.push(`## ${t.natureTitle}`, '', `- ${t.label}${sep}${escape(r.incident.title)}`, `- ${t.detected} ${at(r.incident.detectedAt)}`, `- ${t.opened} ${at(r.incident.openedAt)}`);
  if (r.incident.closedAt) out.push(`- ${t.closed} ${at(r.incident.closedAt)}`);
  if (r.cohort) {
    out.push(`- ${t.window(r, at(r.cohort.from), at(r.cohort.to))}`, '', t.accessKinds, '');
    for (const [c, label] of Object.entries(ACCESS_KIND[lang]) as [CohortCategory, string][]) out.push(`- ${label}${sep}${about(lang, r.subjects.byCategory[c])}`);
  } else out.push('', t.noCohort);
  out.push('');

  out.push(`## ${t.subjectsTitle}`, '', t.subjectsTotal(about(lang, r.subjects.total), r.site.serviceName), '', `| ${t.category} | ${t.approx} | ${t.exact} |`, '|---|---:|---:|');
  for (const [c, label] of Object.entries(ACCESS_KIND[lang]) as [CohortCategory, string][]) out.push(row(lang, label, r.subjects.byCategory[c]));
  out.push('', t.overlap, '');

  const L =
    lang === 'fr'
      ? { identity: 'Identité (NIR, nom, prénoms, date de naissance)', email: 'Adresse électronique', phone: 'Téléphone', post: 'Adresse postale', bank: 'Coordonnées bancaires (IBAN)', previous: 'IBAN précédent encore conservé (délai de garde)', procedures: 'Démarches', payments: 'Paiements' }
      : { identity: 'Identity (NIR, name, first names, date of birth)', email: 'Email address', phone: 'Telephone', post: 'Postal address', bank: 'Bank details (IBAN)', previous: 'Previous IBAN still held (hold period)', procedures: 'Applications', payments: 'Payments' };
  out.push(
    `## ${t.recordsTitle}`,
    '',
    t.recordsIntro,
    '',
    `| ${t.category} | ${t.approx} | ${t.exact} |`,
    '|---|---:|---:|',
    row(lang, L.identity, rec.identity),
    row(lang, L.email, rec.contact.email),
    row(lang, L.phone, rec.contact.phone),
    row(lang, L.post, rec.contact.postalAddress),
    row(lang, L.bank, rec.bankDetails),
    `| ${L.previous} | ${num(lang, rec.previousBankDetails)} | ${num(lang, rec.previousBankDetails)} |`,
    row(lang, L.procedures, rec.procedures),
    row(lang, L.payments, rec.payments),
    row(lang, t.inWindow(num(lang, rec.fileEventsInWindow.byOthers)), rec.fileEventsInWindow.total),
    row(lang, `**${t.total}**`, rec.total),
    '',
  );
  const types = Object.entries(rec.fileEventsInWindow.byType).filter(([, n]) => n > 0);
  if (types.length > 0) out.push(t.byType, '', ...types.map(([type, n]) => `- \`${type}\`${sep}${num(lang, n)}`), '');

  out.push(`## ${t.categoriesTitle}`, '', ...r.dataCategories.map((c) => `- ${DATA[lang][c]}`), `- ${t.special}`, '');

  out.push(`## ${t.consequencesTitle}`, '', ...(r.consequences.length > 0 ? r.consequences.map((c) => `- ${CONSEQUENCE[lang][c]}`) : [t.none]), '');

  out.push(`## ${t.measuresTitle}`, '', `### ${t.taken}`, '', ...(r.measures.taken.length > 0 ? r.measures.taken.map((m) => measureLine(lang, r, m)) : [t.none]), '', `${t.totals}${lang === 'fr' ? ' :' : ':'}`, '', ...totals(lang, r), '');
  out.push(`### ${t.proposed}`, '', ...(r.measures.proposed.length > 0 ? r.measures.proposed.map((p) => `- ${PROPOSED[lang][p](r)}`) : [t.noneMissing]), '');
  out.push(`### ${t.dryRuns}`, '', t.dryRunsNote, '', ...(r.measures.dryRuns.length > 0 ? r.measures.dryRuns.map((m) => measureLine(lang, r, m)) : [t.none]), '');

  out.push(`## ${t.article34}`, '', t.article34Note, '', `### ${t.inFrench}`, '', quote(article34Text(r, 'fr')), '', `### ${t.inEnglish}`, '', quote(article34Text(r, 'en')), '');
  return out.join('\n');
}
