// Sends the service its answer (response_mode=form_post) as soon as the page is shown; the
// page has the button for browsers without scripts. Not again when the page comes back from
// the history (the answer is single-use).
const form = document.querySelector('form[data-oidc-form-post]');
const navigation = performance.getEntriesByType('navigation')[0];
if (form instanceof HTMLFormElement && !(navigation instanceof PerformanceNavigationTiming && navigation.type === 'back_forward')) form.requestSubmit();
