import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Liste des mots de passe les plus courants (générée par scripts/build-common-passwords.ts) :
 * ceux que l'on essaie en premier quand on devine un mot de passe (NIST SP 800-63B §3.1.1.2).
 * The most common passwords, the ones tried first when guessing (NIST SP 800-63B §3.1.1.2).
 */
const FILE = join(import.meta.dirname, 'common-passwords.txt');

let list: ReadonlySet<string> | null = null;

// Chargée à la première utilisation : ~400 Ko qu'aucune commande sans mot de passe n'a à lire.
// Loaded on first use: ~400 kB that commands without passwords never need.
function blocklist(): ReadonlySet<string> {
  list ??= new Set(readFileSync(FILE, 'utf8').split('\n').filter((line) => line !== ''));
  return list;
}

export const commonPasswordCount = (): number => blocklist().size;

// Ce que l'on ajoute pour « compléter » un mot courant : Password2024!!, 123soleil, !!!!password.
// What people add to "pad" a common word: Password2024!!, 123soleil, !!!!password.
const TRAILING = /[\p{N}\p{P}\p{S}\s]+$/u;
const LEADING = /^[\p{N}\p{P}\p{S}\s]+/u;
const MIN_CORE = 4;

export function isCommonPassword(password: string): boolean {
  const set = blocklist();
  // NFKC: full-width or styled letters (ｐａｓｓｗｏｒｄ) are the word they look like.
  const full = password.normalize('NFKC').toLowerCase();
  if (set.has(full)) return true;
  const trailing = full.replace(TRAILING, '');
  const leading = full.replace(LEADING, '');
  const both = trailing.replace(LEADING, '');
  // Un reste trop court (« abc ») rendrait suspect tout mot de passe qui le prolonge.
  // Too short a remainder ("abc") would flag any password that merely starts with it.
  return [trailing, leading, both].some((core) => [...core].length >= MIN_CORE && set.has(core));
}
