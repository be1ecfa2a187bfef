// The reservation countdowns of the send page (#reserved): each {id}-remain ticks every
// second from the seconds left (data-remaining-seconds, then each 'task_reserve'
// notification's remaining_seconds — never from string compares), in the words of
// labels.js. A reservation that leaves the list (it started, was canceled or moved) loses
// its alert.
(function () {
  'use strict';

  const labels = window.MailroomLabels;
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
        deadlines.delete(alert.dataset.taskId);
        alert.remove();
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
