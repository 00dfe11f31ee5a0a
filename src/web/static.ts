import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance } from 'fastify';
import { markStaticAsset } from './security-headers.ts';

const require = createRequire(import.meta.url);
const dsfrPackage = require.resolve('@gouvfr/dsfr/package.json');
const DSFR_VERSION = (JSON.parse(readFileSync(dsfrPackage, 'utf8')) as { version: string }).version;
const DSFR_ROOT = path.join(path.dirname(dsfrPackage), 'dist');
const ASSETS_ROOT = fileURLToPath(new URL('./assets/', import.meta.url));

/** The version is in the path, so an upgrade changes every URL and assets can be immutable. */
export const DSFR_PREFIX = `/dsfr/${DSFR_VERSION}/`;

/** Only what pages use: the rest of the package (sources, examples, 15 MB of utilities) stays private. */
const DSFR_ALLOWED = [
  /^\/dsfr\.min\.css$/,
  /^\/dsfr\.module\.min\.js$/,
  /^\/utility\/icons\/icons\.min\.css$/,
  /^\/icons\/[a-z]+\/[a-z0-9-]+\.svg$/,
  /^\/fonts\/[A-Za-z_-]+\.woff2?$/,
  /^\/favicon\/[a-z0-9.-]+\.(ico|svg|png|webmanifest)$/,
];

export const dsfrUrl = (file: string): string => DSFR_PREFIX + file;

// @simplewebauthn/browser (passkeys), its ES module build served from our origin (CSP
// script-src 'self'), under a versioned path like the DSFR so that it can be immutable.
const WEBAUTHN_ROOT = path.dirname(fileURLToPath(import.meta.resolve('@simplewebauthn/browser')));
const WEBAUTHN_VERSION = (JSON.parse(readFileSync(path.join(WEBAUTHN_ROOT, '..', 'package.json'), 'utf8')) as { version: string }).version;
const WEBAUTHN_PREFIX = `/assets/vendor/simplewebauthn-browser/${WEBAUTHN_VERSION}/`;
/** The module passkey.js imports (its URL is given to it in a data- attribute). */
export const WEBAUTHN_BROWSER_URL = `${WEBAUTHN_PREFIX}index.js`;

const assetVersions = new Map<string, string>();

/** `/assets/<file>?v=<content hash>`: the hash changes with the file, so it can be cached for good. */
export function assetUrl(file: string): string {
  let version = assetVersions.get(file);
  if (!version) {
    version = createHash('sha256').update(readFileSync(path.join(ASSETS_ROOT, file))).digest('hex').slice(0, 12);
    assetVersions.set(file, version);
  }
  return `/assets/${file}?v=${version}`;
}

/** Encapsulated: the DSFR files and our own assets, from our origin (no CDN). */
export async function staticFiles(app: FastifyInstance): Promise<void> {
  const common = {
    decorateReply: false,
    index: false,
    list: false,
    dotfiles: 'deny',
    cacheControl: false,
    setHeaders: markStaticAsset,
  } as const;
  await app.register(fastifyStatic, {
    ...common,
    root: DSFR_ROOT,
    prefix: DSFR_PREFIX,
    allowedPath: (pathName) => DSFR_ALLOWED.some((re) => re.test(pathName)),
  });
  await app.register(fastifyStatic, { ...common, root: ASSETS_ROOT, prefix: '/assets/' });
  await app.register(fastifyStatic, { ...common, root: WEBAUTHN_ROOT, prefix: WEBAUTHN_PREFIX, allowedPath: (pathName) => /^\/((helpers|methods|types)\/)?[A-Za-z0-9]+\.js$/.test(pathName) });
}
