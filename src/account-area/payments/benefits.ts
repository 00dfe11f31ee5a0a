import type { Locale } from '../../web/i18n.ts';

/**
 * The agency's benefit codes (PaymentValue.benefit) as the citizen knows them. A code not
 * listed here is shown as is: the agency may add benefits before this list learns them.
 */
const LABELS: Readonly<Record<string, Record<Locale, string>>> = {
  AAH: { fr: 'Allocation aux adultes handicapés (AAH)', en: 'Disabled adult allowance (AAH)' },
  AF: { fr: 'Allocations familiales', en: 'Family allowance' },
  ALF: { fr: 'Allocation de logement familiale (ALF)', en: 'Family housing allowance (ALF)' },
  ALS: { fr: 'Allocation de logement sociale (ALS)', en: 'Social housing allowance (ALS)' },
  APL: { fr: 'Aide personnalisée au logement (APL)', en: 'Personalised housing aid (APL)' },
  ARS: { fr: 'Allocation de rentrée scolaire', en: 'Back-to-school allowance' },
  ASF: { fr: 'Allocation de soutien familial', en: 'Family support allowance' },
  CF: { fr: 'Complément familial', en: 'Family supplement' },
  PA: { fr: 'Prime d’activité', en: 'Activity bonus (prime d’activité)' },
  PAJE: { fr: 'Prestation d’accueil du jeune enfant (PAJE)', en: 'Early childhood benefit (PAJE)' },
  RSA: { fr: 'Revenu de solidarité active (RSA)', en: 'Active solidarity income (RSA)' },
};

export const benefitLabel = (locale: Locale, code: string): string => (Object.hasOwn(LABELS, code) ? (LABELS[code]?.[locale] ?? code) : code);
