// Task controls (pause, cancel, send now, …) posted without leaving the page. A pause or
// a cancel the job has not heard yet (202) shows as pending on its alert — "일시 중지 중…",
// "취소 중…", its pause and cancel buttons disabled — until the poller's progress
// (progress.js) says the task is paused, canceled or ended.
(function () {
  'use strict';

  // The words of a stop (pausing, canceling, paused, canceled) come from labels.js.
  const stopText = window.MailroomLabels.stopText;
  const PENDING = new Set(['pausing', 'canceling']);
  const DONE_OF = { pausing: 'paused', canceling: 'canceled' };
  const SETTLED = new Set(['paused', 'canceled', 'finished']);
  const STOPPABLE = new Set(['queued', 'running']);
  // Which pending state each control's form (by the end of its id) asks for.
  const KINDS = [['-progress-pause', 'pausing'], ['-progress-cancel', 'canceling'],
                 ['-reserve-cancel', 'canceling']];
  // task id -> { state: 'pausing' | 'canceling', confirmed: whether the poller said so too }
  const pending = new Map();

  function byId(id) {
    return document.getElementById(id);
  }

  function showMessage(category, message) {
    const main = document.querySelector('main');
    const alert = document.createElement('div');
    alert.className = 'alert alert-' + category + ' alert-dismissible fade show flash';
    alert.setAttribute('role', 'alert');
    alert.textContent = message;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-close';
    close.setAttribute('data-bs-dismiss', 'alert');
    close.setAttribute('aria-label', '닫기');
    alert.appendChild(close);
    main.insertBefore(alert, main.firstChild);
  }

  // The alert's state line and its stop buttons: busy while a stop is under way.
  function showState(taskId, text, busy) {
    const line = byId(taskId + '-progress-state');
    if (line) {
      line.textContent = text;
      line.dataset.pendingState = busy ? (pending.get(taskId) || {}).state || '' : '';
    }
    const alert = byId(taskId + '-alert');
    if (alert) {
      alert.classList.toggle('task-pending', busy);
    }
    ['-progress-pause', '-progress-cancel'].forEach(function (suffix) {
      const form = byId(taskId + suffix);
      if (form) {
        form.querySelectorAll('button').forEach(function (b) { b.disabled = busy; });
      }
    });
  }

  function setPending(taskId, state, confirmed) {
    pending.set(taskId, { state: state, confirmed: confirmed });
    showState(taskId, stopText(state), true);
  }

  function clearPending(taskId, text) {
    pending.delete(taskId);
    showState(taskId, text, false);
  }

  // What the server says is under way for a task still waiting or running, if anything.
  function serverPending(entry) {
    if (!STOPPABLE.has(entry.status)) {
      return null;
    }
    if (entry.cancel_requested) {
      return 'canceling';
    }
    return entry.pause_requested ? 'pausing' : null;
  }

  function onProgress(event) {
    const entry = event.detail;
    const taskId = String(entry.task_id);
    const mine = pending.get(taskId);
    if (SETTLED.has(entry.status)) {
      if (mine) {  // the stop this page waited for has landed (or the send ended first)
        clearPending(taskId, stopText(entry.status));
      }
      return;
    }
    const server = serverPending(entry);
    if (server) {
      setPending(taskId, server, true);
    } else if (mine && !mine.confirmed) {
      showState(taskId, stopText(mine.state), true);  // the poller has not heard yet
    } else {
      clearPending(taskId, '');  // resumed, or nothing was ever under way
    }
  }

  function kindOf(form) {
    const found = KINDS.find(function (pair) { return form.id.endsWith(pair[0]); });
    return found ? found[1] : null;
  }

  function taskOf(form) {
    const alert = form.closest('[data-task-id]');
    return alert ? alert.dataset.taskId : null;
  }

  // A 202 leaves the stop pending; a 200 says it is done; anything else undoes the wait.
  function settle(taskId, kind, status, answer) {
    if (!taskId || !kind) {
      return;
    }
    if (status === 202 && answer.ok) {
      setPending(taskId, PENDING.has(answer.state) ? answer.state : kind, false);
    } else if (status === 200 && answer.ok) {
      clearPending(taskId, stopText(answer.state || DONE_OF[kind]));
    } else {
      clearPending(taskId, '');
    }
  }

  async function post(form) {
    const response = await fetch(form.action, {
      method: 'POST',
      body: new FormData(form),
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    return { status: response.status, answer: await response.json() };
  }

  async function submitControl(event) {
    const form = event.target;
    if (!form.matches || !form.matches('form.link-form[data-live]')) {
      return;
    }
    event.preventDefault();
    const taskId = taskOf(form);
    const kind = kindOf(form);
    form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    if (taskId && kind) {
      setPending(taskId, kind, false);  // while the request is on its way
    }
    let result;
    try {
      result = await post(form);
    } catch (error) {
      form.submit();  // not our JSON: the plain form still works
      return;
    } finally {
      form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
    }
    const answer = result.answer;
    showMessage(answer.category || (answer.ok ? 'success' : 'danger'),
                answer.message || answer.error || '');
    settle(taskId, kind, result.status, answer);
    document.dispatchEvent(new Event('mailroom:poll'));
  }

  function adoptRenderedPending() {
    document.querySelectorAll('[data-pending-state]').forEach(function (line) {
      const alert = line.closest('[data-task-id]');
      if (alert && PENDING.has(line.dataset.pendingState)) {
        setPending(alert.dataset.taskId, line.dataset.pendingState, false);
      }
    });
  }

  document.addEventListener('submit', submitControl);
  document.addEventListener('mailroom:task-progress', onProgress);
  adoptRenderedPending();
}());
