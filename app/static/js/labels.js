// The words the page scripts show, as the server hands them over: <body data-labels> holds
// app/labels.py's for_js() (statuses, outcomes, a stop under way, the time left). Nothing
// here writes a word of its own; the other scripts read them through window.MailroomLabels.
(function () {
  'use strict';

  let words = {};
  try {
    words = JSON.parse(document.body.dataset.labels || '{}');
  } catch (error) {
    words = {};
  }
  const remain = words.remain || { units: [], suffix: '', due: '' };

  // A task's status in words; a failed finish has words of its own.
  function statusText(status, failed) {
    if (status === 'finished' && failed) {
      return words.failed || status;
    }
    return (words.status || {})[status] || status;
  }

  // One recipient's outcome in words.
  function outcomeText(outcome) {
    return (words.outcome || {})[outcome] || outcome;
  }

  // The words of a stop under way or ended: pausing, canceling, paused, canceled.
  function stopText(state) {
    return (words.stop || {})[state] || '';
  }

  // "3분 20초 남음" for whole seconds (zero units left out); the due words at zero.
  function remainingText(seconds) {
    if (seconds <= 0) {
      return remain.due;
    }
    const parts = [];
    let rest = seconds;
    for (const [name, size] of remain.units) {
      if (rest >= size) {
        parts.push(Math.floor(rest / size) + name);
        rest %= size;
      }
    }
    return parts.join(' ') + ' ' + remain.suffix;
  }

  window.MailroomLabels = Object.freeze({
    words: words,  // everything data-labels held, for a page's own words (send_words.js)
    statusText: statusText,
    outcomeText: outcomeText,
    stopText: stopText,
    remainingText: remainingText,
    pollTrouble: words.poll_trouble || '',
  });
}());
