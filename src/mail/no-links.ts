/**
 * No mail from Sésame ever contains a link: people are told to type the site's address
 * themselves, so that a phishing mail with a link stands out. This is what counts as a
 * link here: an anchor, anything with a scheme, a `www.` host, a mailto.
 */
const LINKISH = /<\s*a[\s>/]|\bhref\s*=|\b[a-z][a-z0-9+.-]*:\/\/|\bwww\.|\bmailto:/i;

export const containsLink = (s: string): boolean => LINKISH.test(s);
