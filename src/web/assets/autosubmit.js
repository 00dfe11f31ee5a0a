// Sends a form marked data-autosubmit once, as soon as the page is shown: the page it is on
// already says what will be sent and has the button for browsers without scripts.
const form = document.querySelector('form[data-autosubmit]');
if (form instanceof HTMLFormElement && !sessionStorage.getItem(`sent:${location.pathname}:${form.action}`)) {
  sessionStorage.setItem(`sent:${location.pathname}:${form.action}`, '1');
  form.requestSubmit();
}
