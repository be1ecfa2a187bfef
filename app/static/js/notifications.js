// Live task alerts: polls /notifications?since=… and moves progress bars; ticks the
// reservation countdowns every second from remaining_seconds (never from string compares).
// When the server cannot answer (503, offline) it waits Retry-After, or backs off, and says
// so in #poll-status. The controls on the alerts live in controls.js.
(function () {
  'use strict';

  const body = document.body;
  const url = body.dataset.notificationsUrl;
  if (!url) {
    return;
  }
  const pollMs = Math.max(0.5, parseFloat(body.dataset.pollSeconds) || 2) * 1000;
  const ENDED = new Set(['finished', 'canceled']);
  const STATE_LABELS = {
    reserved: '예약됨', queued: '대기 중', running: '전송 중', paused: '일시 중지',
    canceled: '취소됨', finished: '완료',
  };
  let since = 0;
  let pollTimer = null;
  // task id -> the moment (performance.now() ms) the reservation is due. Relative to the
  // browser's own monotonic clock, so a browser whose wall clock is off still counts right.
  const deadlines = new Map();
  // Reservations this page has shown: when one runs, its progress alert appears here.
  const wasReserved = new Set();

  function byId(id) {
    return document.getElementById(id);
  }

  function setVisible(el, visible) {
    if (el) {
      el.style.visibility = visible ? 'visible' : 'hidden';
    }
  }

  function toggleEmpty(sectionId, emptyId) {
    const section = byId(sectionId);
    const empty = byId(emptyId);
    if (section && empty) {
      empty.hidden = section.children.length > 0;
    }
  }

  // --- progress --------------------------------------------------------------------

  function createProgressAlert(taskId) {
    const template = byId('progress-alert-template');
    const section = byId('in-progress');
    if (!template || !section) {
      return null;
    }
    const placeholder = template.dataset.placeholder;
    const html = template.innerHTML.split(placeholder).join(String(Number(taskId)));
    const holder = document.createElement('div');
    holder.innerHTML = html.trim();
    const alert = holder.firstElementChild;
    section.appendChild(alert);
    toggleEmpty('in-progress', 'in-progress-empty');
    return alert;
  }

  function stateLabel(entry) {
    if (entry.status === 'finished' && entry.failed) {
      return '실패';
    }
    return STATE_LABELS[entry.status] || entry.status;
  }

  function setTaskProgress(entry) {
    const id = entry.task_id;
    let alert = byId(id + '-alert');
    if (!alert) {
      // An ended task gets an alert only if this page showed it as a reservation.
      if (ENDED.has(entry.status) && !wasReserved.has(String(id))) {
        return;
      }
      alert = createProgressAlert(id);
      if (!alert) {
        return;
      }
    }
    const progress = Number(entry.progress) || 0;
    const ended = ENDED.has(entry.status);
    const description = alert.querySelector('.task-description');
    if (description && entry.description) {
      description.textContent = entry.description;
    }
    byId(id + '-progress').textContent = progress;
    const bar = byId(id + '-bar');
    bar.setAttribute('aria-valuenow', progress);
    bar.firstElementChild.style.width = progress + '%';
    setVisible(byId(id + '-progress-close'), progress === 100 || ended);
    setVisible(byId(id + '-progress-cancel'), progress !== 100 && !ended);
    setVisible(byId(id + '-progress-pause'), entry.status === 'queued' || entry.status === 'running');
    setVisible(byId(id + '-progress-resume'), entry.status === 'paused');
    const state = byId(id + '-state');
    state.textContent = stateLabel(entry);
    state.className = 'badge ms-1 ' + (entry.failed ? 'text-bg-danger'
      : entry.status === 'finished' ? 'text-bg-success' : 'text-bg-secondary');
    const detail = byId(id + '-detail');
    let text = entry.delivered + '/' + entry.total + '명';
    if (entry.log && (entry.failed || entry.status === 'queued' || entry.status === 'paused')) {
      text += ' · ' + entry.log;
    }
    detail.textContent = text;
    alert.classList.toggle('alert-info', !ended);
    alert.classList.toggle('alert-success', ended && !entry.failed);
    alert.classList.toggle('alert-danger', ended && entry.failed && entry.status === 'finished');
    alert.classList.toggle('alert-secondary', entry.status === 'canceled');
  }

  // --- reservations ----------------------------------------------------------------

  function remainText(seconds) {
    if (seconds <= 0) {
      return '곧 전송을 시작합니다';
    }
    const units = [['일', 86400], ['시간', 3600], ['분', 60], ['초', 1]];
    const parts = [];
    let rest = seconds;
    for (const [name, size] of units) {
      if (rest >= size) {
        parts.push(Math.floor(rest / size) + name);
        rest %= size;
      }
    }
    return parts.join(' ') + ' 남음';
  }

  function tick() {
    const now = performance.now();
    for (const [id, due] of deadlines) {
      const el = byId(id + '-remain');
      if (!el) {
        deadlines.delete(id);
        continue;
      }
      const seconds = Math.max(0, Math.ceil((due - now) / 1000));
      el.textContent = remainText(seconds);
      el.dataset.remainingSeconds = seconds;
    }
  }

  function setTaskReserve(entries, receivedAt) {
    const listed = new Set();
    for (const entry of entries) {
      listed.add(String(entry.task_id));
      if (byId(entry.task_id + '-reserve-alert')) {
        deadlines.set(String(entry.task_id), receivedAt + Number(entry.remaining_seconds) * 1000);
      }
    }
    // A reservation that left the list started, was canceled or moved: drop its alert.
    document.querySelectorAll('#reserved [data-task-id]').forEach(function (alert) {
      wasReserved.add(alert.dataset.taskId);
      if (!listed.has(alert.dataset.taskId)) {
        deadlines.delete(alert.dataset.taskId);
        alert.remove();
      }
    });
    toggleEmpty('reserved', 'reserved-empty');
    tick();
  }

  function startCountdowns() {
    const now = performance.now();
    document.querySelectorAll('#reserved [data-remaining-seconds]').forEach(function (alert) {
      wasReserved.add(alert.dataset.taskId);
      deadlines.set(alert.dataset.taskId, now + Number(alert.dataset.remainingSeconds) * 1000);
    });
    tick();
    setInterval(tick, 1000);
  }

  // --- polling ---------------------------------------------------------------------

  const MAX_BACKOFF_MS = 30000;
  const MAX_RETRY_AFTER_MS = 300000;
  let failures = 0;

  function handle(notification, receivedAt) {
    switch (notification.name) {
      case 'task_progress':
        notification.data.forEach(function (entry) {
          setTaskProgress(entry);
          // controls.js keeps a pause or cancel that is under way in step with the task.
          document.dispatchEvent(new CustomEvent('mailroom:task-progress', { detail: entry }));
        });
        break;
      case 'task_reserve':
        setTaskReserve(notification.data, receivedAt);
        break;
      default:
        break;
    }
  }

  function showPollTrouble(trouble) {
    const status = byId('poll-status');
    if (status) {
      status.textContent = trouble ? '잠시 연결할 수 없습니다. 다시 시도합니다…' : '';
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
          handle(notification, receivedAt);
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

  function fillTimezone() {
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
    const label = byId('timezone-label');
    if (label) {
      label.textContent = zone;
    }
  }

  fillTimezone();
  document.addEventListener('mailroom:poll', pollNow);  // a control changed a task
  startCountdowns();
  poll();
}());
