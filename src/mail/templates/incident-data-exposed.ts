import { noticeContent, noticeSchema, type IncidentNoticeParams } from './incident-notice.ts';
import { defineTemplate } from './types.ts';

export type IncidentDataExposedParams = IncidentNoticeParams;

/** `incident notify --template data-exposed`: a person whose data an incident exposed (GDPR Article 34). */
export const incidentDataExposed = defineTemplate<IncidentDataExposedParams>(noticeSchema, {
  fr: (p, site) => noticeContent('data-exposed', 'fr', p, site),
  en: (p, site) => noticeContent('data-exposed', 'en', p, site),
});
