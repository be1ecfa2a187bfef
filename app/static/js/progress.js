// The progress alerts of the send page (#in-progress): each 'task_progress' notification
// (from poll.js) moves its task's bar, number, state badge and controls, and makes an alert
// for a task that started while the page was open. After each entry it says
// 'mailroom:task-progress' (detail: the entry), which controls.js follows. A bar's width is
// set here (style.width; the CSP allows no style attribute): first from data-progress.
// The alert says what the send is doing or came to ({id}-message, when its state changes);
// a send that ends leaves 진행 중 for 최근 (#recent) a moment later, keeping the focus.
(function () {
  'use strict';

  const labels = window.MailroomLabels;
  const words = window.MailroomSendWords;
  const ENDED = new Set(['finished', 'canceled']);
  const MOVE_AFTER_MS = 3000;  // the end is seen in place first
  const moving = new Set();
  // Reservations this page was rendered with: when one runs, its progress alert appears
  // here even if it has ended by the time the poller hears of it.
  const wasReserved = new Set();
  document.querySelectorAll('#reserved [data-task-id]').forEach(function (alert) {
    wasReserved.add(alert.dataset.taskId);
  });

  function byId(id) {
    return document.getElementById(id);
  }

  function setVisible(el, visible) {
    if (el) {
      el.classList.toggle('invisible', !visible);
    }
  }

  function setBar(bar, progress) {
    bar.setAttribute('aria-valuenow', progress);
    bar.firstElementChild.style.width = progress + '%';
  }

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
    showEmpties();
    return alert;
  }

  function showEmpties() {
    ['in-progress', 'recent'].forEach(function (name) {
      const section = byId(name);
      const empty = byId(name + '-empty');
      if (section && empty) {
        empty.hidden = section.children.length > 0;
      }
    });
  }

  // An ended send goes to the top of 최근; whatever had the focus in it keeps it.
  function moveToRecent(alert) {
    const recent = byId('recent');
    if (!recent || !alert.isConnected || alert.parentElement === recent) {
      return;
    }
    const focused = alert.contains(document.activeElement) ? document.activeElement : null;
    recent.insertBefore(alert, recent.firstChild);
    showEmpties();
    if (focused) {
      const visible = focused.offsetParent !== null && !focused.closest('.invisible');
      (visible ? focused : alert).focus({ preventScroll: true });
      alert.scrollIntoView({ block: 'nearest' });
    }
  }

  // A control that has the focus and is now hidden hands it to the alert's first shown
  // control (pause -> resume), else to the alert itself: the focus stays on the task.
  function keepFocusIn(alert) {
    const active = document.activeElement;
    if (!active || !alert.contains(active) || !active.closest('.invisible')) {
      return;
    }
    const next = Array.from(alert.querySelectorAll('.task-controls button')).find(function (b) {
      return !b.closest('.invisible') && !b.disabled;
    });
    (next || alert).focus({ preventScroll: true });
  }

  function scheduleMove(alert) {
    const id = alert.dataset.taskId;
    if (moving.has(id) || !alert.closest('#in-progress')) {
      return;
    }
    moving.add(id);
    setTimeout(function () {
      moving.delete(id);
      moveToRecent(alert);
    }, MOVE_AFTER_MS);
  }

  // The alert's words change with its state; a control's answer stays until then.
  function showWords(alert, entry) {
    const message = byId(entry.task_id + '-message');
    if (!message || !words || alert.dataset.status === entry.status) {
      return;
    }
    alert.dataset.status = entry.status;
    if (message.dataset.answer && (entry.status === 'queued' || entry.status === 'running')) {
      return;  // a control's answer ("다시 시작합니다") stays until the send stops or ends
    }
    message.textContent = words.sendText(entry, alert.hasAttribute('data-just-sent'));
    message.dataset.tone = '';
    delete message.dataset.answer;
  }

  function showState(id, entry) {
    const state = byId(id + '-state');
    state.textContent = labels.statusText(entry.status, entry.failed);
    state.className = 'badge ms-1 ' + (entry.failed ? 'text-bg-danger'
      : entry.status === 'finished' ? 'text-bg-success' : 'text-bg-secondary');
    // An import says its lines and counts (its log) instead of recipients.
    let text = entry.detail !== undefined ? entry.detail
      : (labels.words.script || {}).count.replace('{delivered}', entry.delivered)
        .replace('{total}', entry.total);
    if (entry.detail === undefined && entry.log
        && (entry.failed || entry.status === 'queued' || entry.status === 'paused')) {
      text += ' · ' + entry.log;
    }
    byId(id + '-detail').textContent = text;
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
    setBar(byId(id + '-bar'), progress);
    setVisible(byId(id + '-progress-close'), progress === 100 || ended);
    setVisible(byId(id + '-progress-cancel'), progress !== 100 && !ended);
    setVisible(byId(id + '-progress-pause'), entry.status === 'queued' || entry.status === 'running');
    setVisible(byId(id + '-progress-resume'), entry.status === 'paused');
    showState(id, entry);
    showWords(alert, entry);
    keepFocusIn(alert);
    if (ended) {
      scheduleMove(alert);
    }
    alert.classList.toggle('alert-info', !ended);
    alert.classList.toggle('alert-success', ended && !entry.failed);
    alert.classList.toggle('alert-danger', ended && entry.failed && entry.status === 'finished');
    alert.classList.toggle('alert-secondary', entry.status === 'canceled');
  }

  function onNotification(event) {
    if (event.detail.name !== 'task_progress') {
      return;
    }
    event.detail.data.forEach(function (entry) {
      setTaskProgress(entry);
      // controls.js keeps a pause or cancel that is under way in step with the task.
      document.dispatchEvent(new CustomEvent('mailroom:task-progress', { detail: entry }));
    });
  }

  document.querySelectorAll('.progress-bar[data-progress]').forEach(function (bar) {
    bar.style.width = (Number(bar.dataset.progress) || 0) + '%';
  });
  document.querySelectorAll('#in-progress [data-task-id]').forEach(function (alert) {
    if (ENDED.has(alert.dataset.status)) {
      scheduleMove(alert);  // the send just made, already over when the page was drawn
    }
  });
  document.addEventListener('mailroom:notification', onNotification);
}());
