// A list's page while its import runs: progress.js moves the bar; once the import ends
// the page is drawn again, with the counts, the members and the import's report.
(function () {
  'use strict';

  const holder = document.getElementById('import-progress');
  const taskId = holder && holder.dataset.reloadOnEnd;
  if (!taskId) {
    return;
  }
  const ENDED = new Set(['finished', 'canceled']);
  document.addEventListener('mailroom:task-progress', function (event) {
    const entry = event.detail;
    if (String(entry.task_id) === taskId && ENDED.has(entry.status)) {
      setTimeout(function () { window.location.reload(); }, 800);
    }
  });
}());
