// The browser's time zone (Intl) into every hidden input[name=timezone] — the send form and
// each reservation's "change the time" form read the time typed in it — and into
// #timezone-label, which says which zone that is.
(function () {
  'use strict';

  let zone = '';
  try {
    zone = Intl.DateTimeFormat().resolvedOptions().timeZone || '';
  } catch (error) {
    zone = '';
  }
  if (!zone) {
    return;
  }
  document.querySelectorAll('input[name="timezone"]').forEach(function (input) {
    input.value = zone;
  });
  const label = document.getElementById('timezone-label');
  if (label) {
    label.textContent = zone;
  }
}());
