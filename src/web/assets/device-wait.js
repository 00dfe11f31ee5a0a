// The computer's waiting page: asks every 2 seconds whether the phone has answered, and once it
// has, presses the page's own button (the same form works without scripts), so the server
// finishes the login or says what happened.
const form = document.querySelector('form[data-approval-status]');
const url = form instanceof HTMLFormElement ? form.dataset.approvalStatus : undefined;

async function tick() {
  if (!(form instanceof HTMLFormElement) || !url) return;
  try {
    const res = await fetch(url, { headers: { accept: 'application/json' }, credentials: 'same-origin', cache: 'no-store' });
    const body = await res.json();
    if (body && body.status !== 'pending') {
      form.requestSubmit();
      return;
    }
  } catch {
    // A network hiccup: the next tick tries again.
  }
  setTimeout(tick, 2000);
}

setTimeout(tick, 2000);
