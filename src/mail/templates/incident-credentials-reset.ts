import { noticeContent, noticeSchema, type IncidentNoticeParams } from './incident-notice.ts';
import { defineTemplate } from './types.ts';

export type IncidentCredentialsResetParams = IncidentNoticeParams;

/** `incident notify --template credentials-reset`: a person whose password `incident reset-credentials` made unusable. */
export const incidentCredentialsReset = defineTemplate<IncidentCredentialsResetParams>(noticeSchema, {
  fr: (p, site) => noticeContent('credentials-reset', 'fr', p, site),
  en: (p, site) => noticeContent('credentials-reset', 'en', p, site),
});
