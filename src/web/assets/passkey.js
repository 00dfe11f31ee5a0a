// Passkey ceremonies (WebAuthn) for the blocks marked data-passkey: "authenticate" (login,
// step-up) and "register" (enrolment form). Blocks are hidden in the HTML and shown here only
// once the browser is known to support WebAuthn: without JavaScript the page is unchanged.
// Endpoints, CSRF token, library URL and texts come from data- attributes (CSP: no inline script).

const blocks = [...document.querySelectorAll('[data-passkey]')];

/** Shows a message in the block's live region (announced by screen readers). */
function say(block, text, isError) {
  const status = block.querySelector('[data-passkey-status]');
  if (!status) return;
  status.textContent = text;
  status.classList.toggle('fr-message--error', Boolean(isError));
  status.classList.toggle('fr-message--info', !isError && text !== '');
}

async function postJson(block, url, body) {
  const response = await fetch(url, {
    method: 'POST',
    credentials: 'same-origin',
    headers: { 'content-type': 'application/json', accept: 'application/json', 'x-csrf-token': block.dataset.csrf },
    body: JSON.stringify(body),
  });
  let data = {};
  try {
    data = await response.json();
  } catch {
    data = {};
  }
  return { ok: response.ok, data };
}

/** After a step-up that kept a form: post it again, with this page's CSRF token. */
function submitKeptForm(block, form) {
  const element = document.createElement('form');
  element.method = 'post';
  element.action = form.action;
  element.hidden = true;
  const fields = { ...form.fields, _csrf: block.dataset.csrf };
  for (const [name, value] of Object.entries(fields)) {
    const field = document.createElement('input');
    field.type = 'hidden';
    field.name = name;
    field.value = String(value);
    element.append(field);
  }
  document.body.append(element);
  element.submit();
}

function follow(block, data) {
  if (data.form && typeof data.form.action === 'string' && data.form.action.startsWith('/')) return submitKeptForm(block, data.form);
  if (typeof data.redirect === 'string' && data.redirect.startsWith('/') && !data.redirect.startsWith('//')) return location.assign(data.redirect);
  return undefined;
}

/** The browser's own refusals (cancelled, timed out, no passkey) are not errors of ours. */
function browserRefusal(block, error) {
  const name = error && (error.name || (error.cause && error.cause.name));
  if (name === 'NotAllowedError' || name === 'AbortError' || name === 'InvalidStateError') return block.dataset.msgCancelled;
  return block.dataset.msgNetwork;
}

/** Name errors go next to the field, as DSFR shows them. */
function nameError(block, message) {
  const group = block.querySelector('.fr-input-group');
  const inputField = block.querySelector('input[name="name"]');
  const messages = block.querySelector('#name-messages');
  if (!group || !inputField || !messages) return;
  group.classList.toggle('fr-input-group--error', Boolean(message));
  inputField.classList.toggle('fr-input--error', Boolean(message));
  if (message) inputField.setAttribute('aria-invalid', 'true');
  else inputField.removeAttribute('aria-invalid');
  messages.replaceChildren();
  if (message) {
    const p = document.createElement('p');
    p.className = 'fr-message fr-message--error';
    p.textContent = message;
    messages.append(p);
    inputField.focus();
  }
}

async function authenticate(block, lib, button) {
  say(block, block.dataset.msgWorking, false);
  let started;
  try {
    started = await postJson(block, block.dataset.options, { method: 'passkey' });
  } catch {
    return say(block, block.dataset.msgNetwork, true);
  }
  if (!started.ok) return say(block, started.data.message || block.dataset.msgNetwork, true);
  if (started.data.redirect) return follow(block, started.data);
  let credential;
  try {
    credential = await lib.startAuthentication({ optionsJSON: started.data.options });
  } catch (error) {
    return say(block, browserRefusal(block, error), true);
  }
  const url = block.dataset.verify.replace('{flow}', encodeURIComponent(started.data.flow || ''));
  let verified;
  try {
    verified = await postJson(block, url, { method: 'passkey', credential });
  } catch {
    return say(block, block.dataset.msgNetwork, true);
  }
  if (!verified.ok) return say(block, verified.data.message || block.dataset.msgNetwork, true);
  button.disabled = true;
  return follow(block, verified.data);
}

async function register(block, lib) {
  nameError(block, '');
  const name = block.querySelector('input[name="name"]')?.value ?? '';
  say(block, block.dataset.msgWorking, false);
  let started;
  try {
    started = await postJson(block, block.dataset.options, { method: 'passkey', name });
  } catch {
    return say(block, block.dataset.msgNetwork, true);
  }
  if (!started.ok) {
    if (started.data.error === 'name') {
      say(block, '', false);
      return nameError(block, started.data.message);
    }
    return say(block, started.data.message || block.dataset.msgNetwork, true);
  }
  let credential;
  try {
    credential = await lib.startRegistration({ optionsJSON: started.data.options });
  } catch (error) {
    return say(block, browserRefusal(block, error), true);
  }
  let verified;
  try {
    verified = await postJson(block, block.dataset.verify, { method: 'passkey', flow: started.data.flow, name, credential });
  } catch {
    return say(block, block.dataset.msgNetwork, true);
  }
  if (!verified.ok) {
    if (verified.data.error === 'name') return nameError(block, verified.data.message);
    return say(block, verified.data.message || block.dataset.msgNetwork, true);
  }
  return follow(block, verified.data);
}

async function setUp() {
  if (blocks.length === 0) return;
  for (const notice of document.querySelectorAll('[data-passkey-nojs]')) notice.hidden = true;
  const supported = typeof window.PublicKeyCredential === 'function';
  if (!supported) {
    for (const notice of document.querySelectorAll('[data-passkey-unsupported]')) notice.hidden = false;
    return;
  }
  // The library (versioned, from our origin) is fetched at the first click only: a page that is
  // left at once (the password path) never starts, and so never aborts, a dozen module loads.
  let loaded;
  const library = () => (loaded ??= import(blocks[0].dataset.vendor));
  for (const block of blocks) {
    const button = block.querySelector('[data-passkey-start]');
    if (!button) continue;
    let busy = false;
    const run = async (event) => {
      event.preventDefault();
      if (busy) return;
      busy = true;
      button.setAttribute('aria-disabled', 'true');
      try {
        const lib = await library();
        await (block.dataset.passkey === 'register' ? register(block, lib) : authenticate(block, lib, button));
      } catch {
        say(block, block.dataset.msgNetwork, true);
      } finally {
        busy = false;
        button.removeAttribute('aria-disabled');
      }
    };
    if (block instanceof HTMLFormElement) block.addEventListener('submit', run);
    else button.addEventListener('click', run);
    block.hidden = false;
  }
}

setUp();
