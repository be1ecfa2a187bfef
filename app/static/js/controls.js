// Task controls (pause, cancel, send now, …) posted without leaving the page. A pause or
// a cancel the job has not heard yet (202) shows as pending on its alert — "일시 중지 중…",
// "취소 중…", its pause and cancel buttons disabled — until the poller's progress
// (progress.js) says the task is paused, canceled or ended. Each answer is said in the
// task's own alert ({id}-message, inside its polite status region) — an ended send's
// refusal as information, not an error — and the focus stays on the control (or its
// alert). A cancel of a send under way asks first, in the alert (확인 / 돌아가기); the
// server asks the same without this script (confirm=1 goes with the answer).
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

  // The answer in the task's alert; at the top of the page too (one at a time), heard there
  // only when the task has no alert to say it in, or one about to leave (a reservation
  // canceled or sent now leaves the list).
  // An answer that comes after the poll has said the task ended (a busy server answers a
  // cancel late) leaves the alert's words of that end in place: the top says it.
  function showMessage(category, message, taskId) {
    const line = taskId ? byId(taskId + '-message') : null;
    const lasting = line && !line.closest('#reserved');
    const shown = taskId ? byId(taskId + '-alert') : null;
    const ended = shown && ['canceled', 'finished'].includes(shown.dataset.status);
    if (line && !ended) {
      line.textContent = message;
      line.dataset.tone = category;
      line.dataset.answer = '1';
    }
    const main = document.querySelector('main');
    main.querySelectorAll('.flash[data-control-answer]').forEach(function (old) { old.remove(); });
    const alert = document.createElement('div');
    alert.className = 'alert alert-' + category + ' alert-dismissible fade show flash';
    alert.dataset.controlAnswer = '';
    alert.setAttribute('role', lasting ? 'none' : 'status');
    alert.textContent = message;
    const close = document.createElement('button');
    close.type = 'button';
    close.className = 'btn-close';
    close.setAttribute('data-bs-dismiss', 'alert');
    close.setAttribute('aria-label', (window.MailroomLabels.words.script || {}).close || '');
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
    if (entry.status !== 'running') {
      closeConfirm(taskId);  // nothing under way to ask about any more
    }
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

  async function post(form, confirmed) {
    const body = new FormData(form);
    if (confirmed) {
      body.set('confirm', '1');
    }
    const response = await fetch(form.action, {
      method: 'POST',
      body: body,
      headers: { Accept: 'application/json' },
      credentials: 'same-origin',
    });
    return { status: response.status, answer: await response.json() };
  }

  function confirmWords() {
    return (window.MailroomSendWords || {}).confirm || {};
  }

  function closeConfirm(taskId) {
    const box = byId(taskId + '-confirm');
    if (box) {
      box.remove();
    }
  }

  // The step before canceling a send under way: a question and two buttons in its alert.
  function askFirst(form, taskId) {
    closeConfirm(taskId);
    const words = confirmWords();
    const box = document.createElement('div');
    box.id = taskId + '-confirm';
    box.className = 'task-confirm mt-2';
    box.setAttribute('role', 'group');
    box.setAttribute('aria-labelledby', taskId + '-confirm-question');
    const question = document.createElement('p');
    question.id = taskId + '-confirm-question';
    question.className = 'mb-2';
    question.textContent = words.question || '';
    const yes = document.createElement('button');
    yes.type = 'button';
    yes.id = taskId + '-confirm-yes';
    yes.className = 'btn btn-sm btn-danger task-control me-2';
    yes.textContent = words.yes || 'OK';
    const no = document.createElement('button');
    no.type = 'button';
    no.id = taskId + '-confirm-no';
    no.className = 'btn btn-sm btn-outline-secondary task-control';
    no.textContent = words.no || 'Back';
    yes.addEventListener('click', function () {
      closeConfirm(taskId);
      send(form, true);
    });
    no.addEventListener('click', function () {
      closeConfirm(taskId);
      const button = form.querySelector('button');
      if (button) {
        button.focus();
      }
    });
    box.append(question, yes, no);
    byId(taskId + '-alert').appendChild(box);
    no.focus();
  }

  // The focus stays where the user acted: the control if it is still there, else its alert.
  function keepFocus(form, taskId) {
    const button = form.querySelector('button');
    const alert = taskId ? (byId(taskId + '-alert') || byId(taskId + '-reserve-alert')) : null;
    if (button && button.isConnected && !button.disabled && !form.classList.contains('invisible')) {
      button.focus({ preventScroll: true });
    } else if (alert && alert.isConnected) {
      alert.focus({ preventScroll: true });
    }
  }

  async function send(form, confirmed) {
    const taskId = taskOf(form);
    const kind = kindOf(form);
    form.querySelectorAll('button').forEach(function (b) { b.disabled = true; });
    if (taskId && kind) {
      setPending(taskId, kind, false);  // while the request is on its way
    }
    let result;
    try {
      result = await post(form, confirmed);
    } catch (error) {
      if (confirmed) {
        form.appendChild(Object.assign(document.createElement('input'),
                                       { type: 'hidden', name: 'confirm', value: '1' }));
      }
      form.submit();  // not our JSON: the plain form still works
      return;
    } finally {
      form.querySelectorAll('button').forEach(function (b) { b.disabled = false; });
    }
    const answer = result.answer;
    const category = answer.category || (answer.ok ? 'success' : 'danger');
    showMessage(category, answer.message || answer.error || '', taskId);
    settle(taskId, kind, result.status, answer);
    keepFocus(form, taskId);
    document.dispatchEvent(new Event('mailroom:poll'));
  }

  function submitControl(event) {
    const form = event.target;
    if (!form.matches || !form.matches('form.link-form[data-live]')) {
      return;
    }
    event.preventDefault();
    const taskId = taskOf(form);
    const alert = taskId ? byId(taskId + '-alert') : null;
    if (form.id.endsWith('-progress-cancel') && alert && alert.dataset.status === 'running') {
      askFirst(form, taskId);
      return;
    }
    send(form, false);
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
