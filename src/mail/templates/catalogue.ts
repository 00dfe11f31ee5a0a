import { accountCreated, type AccountCreatedParams } from './account-created.ts';
import type { MailTemplate } from './types.ts';

/** Every mail Sésame sends: template name → its parameters. */
export interface MailTemplates {
  'account-created': AccountCreatedParams;
}

export type MailTemplateName = keyof MailTemplates;

export const templates: { readonly [K in MailTemplateName]: MailTemplate<MailTemplates[K]> } = {
  'account-created': accountCreated,
};

export const templateNames = Object.keys(templates) as MailTemplateName[];

export const isTemplateName = (name: string): name is MailTemplateName => Object.hasOwn(templates, name);
