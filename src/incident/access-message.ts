/**
 * The operators' message on a scope's maintenance page: plain text, one paragraph, both
 * languages or neither (the page always shows both). Checked here and by the database.
 */
export interface AccessMessages {
  fr: string;
  en: string;
}

export const MESSAGE_MAX = 500;

export class AccessMessageError extends RangeError {
  override name = 'AccessMessageError';
  /** Which one is wrong, for the CLI to name its flag. */
  readonly language: 'fr' | 'en';
  constructor(language: 'fr' | 'en', message: string) {
    super(message);
    this.language = language;
  }
}

/** The message, trimmed; a RangeError naming the language if it is empty, too long or not one paragraph of text. */
export function checkMessage(language: 'fr' | 'en', text: string): string {
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.length > MESSAGE_MAX || /\p{Cc}/u.test(trimmed)) {
    throw new AccessMessageError(language, `the ${language === 'fr' ? 'French' : 'English'} message must be 1 to ${MESSAGE_MAX} characters of text in one paragraph (no line breaks or control characters)`);
  }
  return trimmed;
}

export function checkMessages(m: AccessMessages | null | undefined): AccessMessages | null {
  return m ? { fr: checkMessage('fr', m.fr), en: checkMessage('en', m.en) } : null;
}
