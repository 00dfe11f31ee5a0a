// The approval device (/device). Its key is an ECDSA P-256 key made by WebCrypto with
// `extractable: false` and kept in IndexedDB: the browser stores the CryptoKey object itself,
// so the private key can sign here but never be read out, by us or by a script. Every request
// to the server is signed over a nonce the server issued and the exact payload; the server
// hands out the next nonce with each answer. Requests go one at a time (one live nonce).
const DB = 'sesame-device';
const STORE = 'keys';
const RECORD = 'device';
const POLL_MS = 2500;

const $ = (id) => document.getElementById(id);
const messages = $('device-messages')?.dataset ?? {};

function b64url(bytes) {
  let s = '';
  for (const b of new Uint8Array(bytes)) s += String.fromCharCode(b);
  return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

function openDb() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function idb(mode, fn) {
  const db = await openDb();
  try {
    return await new Promise((resolve, reject) => {
      const tx = db.transaction(STORE, mode);
      const req = fn(tx.objectStore(STORE));
      tx.oncomplete = () => resolve(req.result);
      tx.onerror = () => reject(tx.error);
    });
  } finally {
    db.close();
  }
}

const loadKey = () => idb('readonly', (s) => s.get(RECORD));
const saveKey = (record) => idb('readwrite', (s) => s.put(record, RECORD));

async function postJson(url, body) {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', accept: 'application/json' }, body: JSON.stringify(body), credentials: 'same-origin', cache: 'no-store' });
  let json = {};
  try {
    json = await res.json();
  } catch {
    json = {};
  }
  return { status: res.status, json };
}

// --- Registration: make the key, keep it, send its public half with the form. ---
function setUpRegistration() {
  const form = $('device-register');
  if (!(form instanceof HTMLFormElement)) return;
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const button = form.querySelector('button[type="submit"]');
    if (button) button.disabled = true;
    try {
      const pair = await crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign', 'verify']);
      const spki = await crypto.subtle.exportKey('spki', pair.publicKey);
      const keyId = b64url(await crypto.subtle.digest('SHA-256', spki));
      await saveKey({ privateKey: pair.privateKey, keyId });
      form.elements.namedItem('publicKey').value = b64url(spki);
      form.submit();
    } catch {
      $('device-unsupported')?.removeAttribute('hidden');
      if (button) button.disabled = false;
    }
  });
}

// --- Signed requests, one at a time. ---
let device = null;
let nonce = null;
let queue = Promise.resolve();

function serial(task) {
  const run = queue.then(task, task);
  queue = run.catch(() => undefined);
  return run;
}

async function freshNonce() {
  const { status, json } = await postJson('/device/nonce', { device: device.keyId });
  if (status === 404) return null;
  if (status !== 200) throw new Error('nonce');
  return json.nonce;
}

/** Signs ['sesame-device/1', action, nonce, ...fields] (the server rebuilds the same array). */
function signed(action, url, fields, extra) {
  return serial(async () => {
    for (let attempt = 0; attempt < 2; attempt++) {
      if (!nonce) nonce = await freshNonce();
      if (!nonce) return { status: 404, json: {} };
      const data = new TextEncoder().encode(JSON.stringify(['sesame-device/1', action, nonce, ...fields]));
      const signature = b64url(await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.privateKey, data));
      const used = nonce;
      nonce = null;
      const res = await postJson(url, { device: device.keyId, nonce: used, signature, ...extra });
      nonce = res.json.nonce ?? null;
      // A nonce that went stale (page asleep): once more with a new one.
      if (res.status === 401 && res.json.error === 'stale-nonce') continue;
      return res;
    }
    return { status: 401, json: {} };
  });
}

// --- The registered phone: pending requests and the answers. ---
const shown = new Map();

function say(text) {
  const status = $('device-status');
  if (!status) return;
  status.replaceChildren();
  if (!text) return;
  const p = document.createElement('p');
  p.className = 'fr-alert fr-alert--info fr-alert--sm fr-mb-2w';
  p.textContent = text;
  status.append(p);
}

function renderRequests(requests) {
  const list = $('device-requests');
  const template = $('device-request-template');
  if (!list || !(template instanceof HTMLTemplateElement)) return;
  const live = new Set(requests.map((r) => r.id));
  for (const [id, node] of shown) {
    if (!live.has(id)) {
      node.remove();
      shown.delete(id);
    }
  }
  for (const r of requests) {
    if (shown.has(r.id)) continue;
    const node = template.content.firstElementChild.cloneNode(true);
    for (const [field, value] of Object.entries({ service: r.service, time: r.time, browser: r.browser, expires: r.expires })) {
      const dd = node.querySelector(`[data-field="${field}"]`);
      if (dd) dd.textContent = value || '—';
    }
    if (r.place) node.querySelector('[data-field="place"]').textContent = r.place;
    node.querySelectorAll('[data-number]').forEach((button, i) => {
      button.textContent = String(r.numbers[i]);
      button.addEventListener('click', () => decide(r.id, node, 'approve', String(r.numbers[i])));
    });
    node.querySelector('[data-deny]').addEventListener('click', () => decide(r.id, node, 'deny', ''));
    shown.set(r.id, node);
    list.append(node);
  }
  list.querySelector('[data-none]')?.toggleAttribute('hidden', requests.length > 0);
}

async function decide(id, node, decision, number) {
  node.querySelectorAll('button').forEach((b) => (b.disabled = true));
  const { status, json } = await signed('decide', '/device/decide', [id, decision, number], { approval: id, decision, number });
  node.remove();
  shown.delete(id);
  if (status !== 200) return say(messages.error);
  if (json.result === 'denied' || json.result === 'mismatch') return showRefused(id, json.result);
  say(messages[json.result] ?? messages.gone);
}

// A denial or a wrong number ended the login: say so, and offer to end every session.
function showRefused(id, result) {
  const template = $(`device-${result}-template`);
  const status = $('device-status');
  if (!(template instanceof HTMLTemplateElement) || !status) return;
  const node = template.content.firstElementChild.cloneNode(true);
  const button = node.querySelector('[data-end-sessions]');
  button.addEventListener('click', async () => {
    button.disabled = true;
    const { status: code, json } = await signed('end-sessions', '/device/end-sessions', [id], { approval: id });
    const p = document.createElement('p');
    p.className = 'fr-mt-2w';
    p.textContent = code === 200 && json.result === 'ended' ? messages.ended : messages.error;
    button.replaceWith(p);
  });
  status.replaceChildren(node);
}

async function poll() {
  try {
    const { status, json } = await signed('poll', '/device/poll', [], {});
    if (status === 404) return showUnregistered();
    if (status === 200) renderRequests(json.requests ?? []);
  } catch {
    say(messages.error);
  }
  setTimeout(poll, POLL_MS);
}

function showUnregistered() {
  $('device-checking')?.setAttribute('hidden', '');
  $('device-registered')?.setAttribute('hidden', '');
  $('device-unregistered')?.removeAttribute('hidden');
}

async function start() {
  setUpRegistration();
  let record = null;
  try {
    record = await loadKey();
  } catch {
    record = null;
  }
  if (!record || !record.privateKey || !window.crypto?.subtle) return showUnregistered();
  device = record;
  try {
    nonce = await freshNonce();
  } catch {
    nonce = null;
  }
  if (!nonce) return showUnregistered();
  $('device-checking')?.setAttribute('hidden', '');
  $('device-registered')?.removeAttribute('hidden');
  poll();
}

start();
