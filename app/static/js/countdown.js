// The reservation countdowns of the send page (#reserved): each {id}-remain ticks every
// second from the seconds left (data-remaining-seconds, then each 'task_reserve'
// notification's remaining_seconds — never from string compares), in the words of
// labels.js. A reservation that leaves the list (it started, was canceled or moved) loses
// its alert. The ticking text is aria-hidden; {id}-remain-said, in the alert's polite
// status region, is said at most once a minute, in whole minutes.
(function () {
  'use strict';

  const labels = window.MailroomLabels;
  const SAY_EVERY_MS = 60000;
  const said = new Map();  // task id -> performance.now() of the last words said
  // task id -> the moment (performance.now() ms) the reservation is due. Relative to the
  // browser's own monotonic clock, so a browser whose wall clock is off still counts right.
  const deadlines = new Map();

  function tick() {
    const now = performance.now();
    for (const [id, due] of deadlines) {
      const el = document.getElementById(id + '-remain');
      if (!el) {
        deadlines.delete(id);
        continue;
      }
      const seconds = Math.max(0, Math.ceil((due - now) / 1000));
      el.textContent = labels.remainingText(seconds);
      el.dataset.remainingSeconds = seconds;
      say(id, seconds, now);
    }
  }

  function say(id, seconds, now) {
    const el = document.getElementById(id + '-remain-said');
    const last = said.get(id);
    if (!el || (last !== undefined && now - last < SAY_EVERY_MS)) {
      return;
    }
    const text = labels.remainingText(Math.ceil(seconds / 60) * 60);
    if (el.textContent !== text) {
      el.textContent = text;
      said.set(id, now);
    } else if (last === undefined) {
      said.set(id, now);  // drawn with these words: the first minute is already said
    }
  }

  // A reservation that left the list takes the focus with it only to where it went: its
  // progress alert if it started, else the list.
  function removeAlert(alert) {
    const id = alert.dataset.taskId;
    const focused = alert.contains(document.activeElement);
    deadlines.delete(id);
    said.delete(id);
    alert.remove();
    if (focused) {
      const next = document.getElementById(id + '-alert') || document.getElementById('reserved-heading');
      if (next) {
        next.focus({ preventScroll: true });
      }
    }
  }

  function showEmpty() {
    const section = document.getElementById('reserved');
    const empty = document.getElementById('reserved-empty');
    if (section && empty) {
      empty.hidden = section.children.length > 0;
    }
  }

  function setTaskReserve(entries, receivedAt) {
    const listed = new Set();
    for (const entry of entries) {
      listed.add(String(entry.task_id));
      if (document.getElementById(entry.task_id + '-reserve-alert')) {
        deadlines.set(String(entry.task_id), receivedAt + Number(entry.remaining_seconds) * 1000);
      }
    }
    document.querySelectorAll('#reserved [data-task-id]').forEach(function (alert) {
      if (!listed.has(alert.dataset.taskId)) {
        removeAlert(alert);
      }
    });
    showEmpty();
    tick();
  }

  function onNotification(event) {
    if (event.detail.name === 'task_reserve') {
      setTaskReserve(event.detail.data, event.detail.receivedAt);
    }
  }

  const now = performance.now();
  document.querySelectorAll('#reserved [data-remaining-seconds]').forEach(function (alert) {
    deadlines.set(alert.dataset.taskId, now + Number(alert.dataset.remainingSeconds) * 1000);
  });
  document.addEventListener('mailroom:notification', onNotification);
  tick();
  setInterval(tick, 1000);
}());
