/**
 * Construit src/accounts/common-passwords.txt, la liste des mots de passe courants refusés.
 * Builds src/accounts/common-passwords.txt, the blocklist of common passwords.
 *
 * Source : `dictionary['passwords-common']` du paquet npm @zxcvbn-ts/language-common
 * (https://github.com/zxcvbn-ts/zxcvbn), licence MIT, © 2012-2016 Dan Wheeler and Dropbox, Inc.,
 * © 2021 @zxcvbn-ts. Environ 49 000 mots de passe, du plus fréquent au moins fréquent.
 * Source: the same list, MIT licence; about 49k passwords, most frequent first.
 *
 * On y ajoute à la main des mots de passe français courants que la liste (surtout anglophone) n'a pas.
 * A few common French passwords the (mostly English) list lacks are added by hand.
 *
 * Usage : node scripts/build-common-passwords.ts
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dictionary } from '@zxcvbn-ts/language-common';

// Clavier AZERTY, prénoms, villes, mots doux ; plus des variantes longues qui passent la longueur minimale.
// AZERTY keyboard runs, first names, cities, pet names; plus long variants that pass the minimum length.
const FRENCH = [
  'azerty', 'azertyuiop', 'azerty123', 'azerty1234', 'azertyuiop123', 'azertyazerty', 'azertyqwerty',
  'azertyuiopqsdfghjklm', 'azertyuiopqsdfghjklmwxcvbn', 'qsdfghjklm', 'wxcvbn',
  'motdepasse', 'motdepasse1', 'motdepasse123', 'motdepasse1234', 'motdepasse12345', 'monmotdepasse',
  'nouveaumotdepasse', 'motdepasseoublie', 'changemoi', 'changezmoi', 'mdp123', 'mdp12345',
  'soleil', 'soleil123', '123soleil', 'soleilsoleil', 'bonjour', 'bonjour123', 'bonjourbonjour', 'bienvenue', 'bienvenue123',
  'doudou', 'doudou123', 'chouchou', 'loulou', 'coucou', 'coucou123', 'jetaime', 'jetaime123', 'jetaimejetaime',
  'chocolat', 'princesse', 'bisounours', 'nicolas', 'marseille', 'marseille13', 'allezlom', 'olympiquedemarseille',
  'vivelafrance', 'paris75', 'toulouse31', 'lyon69', 'bordeaux33',
];

const normalise = (s: string): string => s.normalize('NFC').toLowerCase();

const seen = new Set<string>();
for (const word of [...dictionary['passwords-common'], ...FRENCH]) {
  const w = normalise(word.trim());
  // Une ligne par mot : un mot vide ou sur plusieurs lignes casserait le fichier. / One line per word.
  if (w !== '' && !/[\r\n]/.test(w)) seen.add(w);
}

const out = join(import.meta.dirname, '..', 'src', 'accounts', 'common-passwords.txt');
writeFileSync(out, `${[...seen].join('\n')}\n`);
process.stdout.write(`${seen.size} mots de passe / passwords → ${out}\n`);
