// The send form: one control of two choices (지금 보내기 / 예약). The time field is shown,
// and posted, only for 예약 — or while it carries the server's refusal, so the message stays
// in view. Without this script the field is always there and the server refuses a time
// given with 지금 보내기. After a send, the new task's alert is scrolled into view and
// focused; after a refusal, the refused field has the focus (autofocus, made sure here).
(function () {
  'use strict';

  const form = document.getElementById('send-form');
  const group = document.getElementById('scheduled-time-group');
  const reserve = document.getElementById('is_scheduled');
  if (!form || !group || !reserve) {
    return;
  }
  const time = group.querySelector('input[name="scheduled_time"]');

  function apply() {
    const refused = time && time.getAttribute('aria-invalid') === 'true';
    const shown = reserve.checked || refused;
    group.hidden = !shown;
    if (time) {
      time.disabled = !shown;  // hidden and not posted: 지금 보내기 means now
    }
  }

  form.querySelectorAll('input[name="is_scheduled"]').forEach(function (radio) {
    radio.addEventListener('change', function () {
      if (time && time.getAttribute('aria-invalid') === 'true') {
        time.removeAttribute('aria-invalid');  // the user answered the refusal
        time.classList.remove('is-invalid');
      }
      apply();
      if (reserve.checked && time) {
        time.focus();
      }
    });
  });
  apply();

  const refused = form.querySelector('[aria-invalid="true"]');
  const fresh = document.querySelector('[data-just-sent]');
  if (refused) {
    refused.focus();
  } else if (fresh) {
    fresh.scrollIntoView({ block: 'center' });
    fresh.focus({ preventScroll: true });
  }
}());
