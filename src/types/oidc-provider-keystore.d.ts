// oidc-provider's own key loader (no public API replaces a running provider's keys; see
// src/oidc/key-reload.ts). Deep import, pinned by package-lock; the key-reload test guards it.
declare module 'oidc-provider/lib/helpers/initialize_keystore.js' {
  import type { JWK } from 'oidc-provider';
  export default function initializeKeyStore(this: object, jwks: { keys: JWK[] }): void;
}
