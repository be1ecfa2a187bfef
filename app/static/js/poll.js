// Polls /notifications?since=… (<body data-notifications-url>, every data-poll-seconds) and
// hands each notification to the page as a 'mailroom:notification' event, detail
// { name, data, receivedAt } (receivedAt: performance.now() when the answer came);
// progress.js and countdown.js act on them. When the server cannot answer (503, offline) it
// waits Retry-After, or backs off, and says so in #poll-status. A 'mailroom:poll' event (a
// control changed a task) polls at once. Load it after the scripts that listen.
(function () {
  'use strict';

  const body = document.body;
  const url = body.dataset.notificationsUrl;
  if (!url) {
    return;
  }
  const pollMs = Math.max(0.5, parseFloat(body.dataset.pollSeconds) || 2) * 1000;
  const MAX_BACKOFF_MS = 30000;
  const MAX_RETRY_AFTER_MS = 300000;
  let since = 0;
  let pollTimer = null;
  let failures = 0;

  function showPollTrouble(trouble) {
    const status = document.getElementById('poll-status');
    if (status) {
      status.textContent = trouble ? window.MailroomLabels.pollTrouble : '';
    }
  }

  // The wait before the next poll: the interval while answers come; after a failure the
  // server's Retry-After, else the interval doubled per failure up to 30 s.
  function nextDelay(response) {
    if (response && response.ok) {
      failures = 0;
      return pollMs;
    }
    failures += 1;
    const retryAfter = response ? parseFloat(response.headers.get('Retry-After')) : NaN;
    if (retryAfter > 0) {
      return Math.min(retryAfter * 1000, MAX_RETRY_AFTER_MS);
    }
    return Math.min(pollMs * Math.pow(2, failures - 1), MAX_BACKOFF_MS);
  }

  function announce(notification, receivedAt) {
    document.dispatchEvent(new CustomEvent('mailroom:notification', {
      detail: { name: notification.name, data: notification.data, receivedAt: receivedAt },
    }));
  }

  async function poll() {
    let response = null;
    try {
      response = await fetch(url + '?since=' + encodeURIComponent(since), {
        headers: { Accept: 'application/json' },
        credentials: 'same-origin',
      });
      const receivedAt = performance.now();
      if (response.ok) {
        const notifications = await response.json();
        for (const notification of notifications) {
          announce(notification, receivedAt);
          since = Math.max(since, notification.timestamp);
        }
      }
    } catch (error) {
      response = null;  // offline, or not our JSON (a sign-in page): try again later
    } finally {
      showPollTrouble(!(response && response.ok));
      clearTimeout(pollTimer);
      pollTimer = setTimeout(poll, nextDelay(response));
    }
  }

  function pollNow() {
    clearTimeout(pollTimer);
    poll();
  }

  document.addEventListener('mailroom:poll', pollNow);
  poll();
}());
