// The task detail page: while the task is unfinished, poll its recipients and update each
// row's outcome in place (no reload); stop once it has ended. A failed poll (503, offline)
// waits Retry-After, else twice as long as the last, up to 30 s. The outcome's words come
// from labels.js. The live URL carries the page's search (q, outcome), so the rows polled are
// the rows shown; a row the answer no longer lists (it left an outcome filter) keeps its last
// words until the reload at the end.
(function () {
  'use strict';

  const table = document.getElementById('recipients');
  const url = table && table.dataset.liveUrl;
  if (!url) {
    return;
  }
  const pollMs = Math.max(0.5, parseFloat(document.body.dataset.pollSeconds) || 2) * 1000;
  let delayMs = pollMs;

  function backOff(response) {
    const retryAfter = response ? parseFloat(response.headers.get('Retry-After')) : NaN;
    delayMs = retryAfter > 0 ? Math.min(retryAfter * 1000, 300000) : Math.min(delayMs * 2, 30000);
  }

  function update(answer) {
    const rows = new Map();
    table.querySelectorAll('tbody tr').forEach(function (row) {
      rows.set(row.dataset.recipient, row);
    });
    answer.recipients.forEach(function (entry) {
      const row = rows.get(entry.recipient);
      if (!row) {
        return;
      }
      row.dataset.outcome = entry.outcome;
      row.querySelector('.outcome').textContent = window.MailroomLabels.outcomeText(entry.outcome);
      row.querySelector('.at').textContent = entry.at;
      row.querySelector('.message-id').textContent = entry.message_id;
      row.querySelector('.reply').textContent = entry.reply;
    });
    const counts = document.getElementById('task-counts');
    if (counts) {
      counts.dataset.delivered = answer.delivered;
    }
  }

  async function poll() {
    let unfinished = true;
    try {
      const response = await fetch(url, { credentials: 'same-origin',
                                          headers: { Accept: 'application/json' } });
      if (response.ok) {
        const answer = await response.json();
        update(answer);
        unfinished = answer.unfinished;
        delayMs = pollMs;
      } else {
        backOff(response);
      }
    } catch (error) {
      backOff(null);  // offline for a moment: a later poll catches up
    }
    if (unfinished) {
      setTimeout(poll, delayMs);
    } else {
      window.location.reload();  // the final counts and the resend buttons
    }
  }

  setTimeout(poll, pollMs);
}());
