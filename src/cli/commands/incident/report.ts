import { system } from '../../../db/contexts.ts';
import { gatherReport, reportStepSummary } from '../../../incident/report.ts';
import { article34Text } from '../../../incident/report-article34.ts';
import { reportMarkdown } from '../../../incident/report-markdown.ts';
import { REPORT_LANGS, type ReportLang } from '../../../incident/report-text.ts';
import { recordStep } from '../../../incident/incidents.ts';
import { siteFromConfig } from '../../../mail/site.ts';
import type { Command } from '../../command.ts';
import { EXIT, print, UsageError } from '../../io.ts';
import { withRuntime } from '../../runtime.ts';
import { incidentFlags, inIncident, operatorOf } from './common.ts';

const FORMATS = ['md', 'json'] as const;
type Format = (typeof FORMATS)[number];

/**
 * `sesame incident report`: the Article 33 notification draft (and the Article 34 text) on
 * stdout, from the database only. Reading and recording the 'report' step share one
 * transaction, so the step says exactly what the printed draft counted.
 */
export const incidentReportCommand: Command = {
  name: 'incident report',
  summary: 'draft the GDPR Article 33 notification (and the Article 34 text) from the incident’s data',
  usage: 'sesame incident report [--format md|json] [--lang fr|en] [--incident INC-…]',
  async run(args, io) {
    const f = incidentFlags(args, { format: { type: 'string' }, lang: { type: 'string' } });
    const format = (f.format ?? (f.json ? 'json' : 'md')) as Format;
    if (!FORMATS.includes(format)) throw new UsageError('--format must be md or json');
    if (f.json && format !== 'json') throw new UsageError('--json and --format md do not go together');
    const lang = (f.lang ?? 'fr') as ReportLang;
    if (!REPORT_LANGS.includes(lang)) throw new UsageError('--lang must be fr or en');
    if (f.lang !== undefined && format === 'json') throw new UsageError('--lang applies to --format md only (the JSON holds the Article 34 text in both languages)');
    return withRuntime(io, async (rt) => {
      const dp = rt.config.dataProtection;
      const report = await system(rt.db, 'cli:incident-report', async (tx) => {
        const incident = await inIncident(tx, f.incident);
        const r = await gatherReport(
          tx,
          {
            clock: rt.clock,
            site: siteFromConfig(rt.config),
            controller: dp.controller,
            dpo: { name: dp.dpoName, email: dp.dpoEmail, phone: dp.dpoPhone, postalAddress: dp.dpoPostalAddress },
          },
          incident,
        );
        await recordStep(tx, rt.clock, incident, { kind: 'report', by: operatorOf(rt), applied: true, summary: reportStepSummary(r, { format, lang: format === 'json' ? null : lang }) });
        return r;
      });
      if (format === 'json') print(io.stdout, JSON.stringify({ ...report, article34: { fr: article34Text(report, 'fr'), en: article34Text(report, 'en') } }, null, 2));
      else io.stdout.write(reportMarkdown(report, lang));
      return EXIT.ok;
    });
  },
};
