// The send page's words for a send's own alert and for the confirm step, as app/labels.py
// hands them over in <body data-labels> (keys "send" and "confirm"); labels.js keeps the
// rest and reads them (load it first). format() fills {total}, {delivered} and {log};
// an import's alert (entry.kind 'import') reads the "import" words instead.
(function () {
  'use strict';

  const words = window.MailroomLabels.words;

  function format(key, values, set) {
    const text = (words[set || 'send'] || {})[key] || '';
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : '';
    });
  }

  // What a send came to, or is doing, in words ('' when the state badge says it all).
  function sendText(entry, justSent) {
    const values = { total: entry.total, delivered: entry.delivered, log: entry.log || '' };
    const set = entry.kind === 'import' ? 'import' : 'send';
    if (entry.status === 'canceled') {
      return format('canceled', values, set);
    }
    if (entry.status === 'finished') {
      if (entry.failed) {
        return format('failed', values, set);
      }
      return format(entry.delivered < entry.total ? 'finished_partly' : 'finished', values, set);
    }
    if (entry.status === 'paused') {
      return format('paused', values, set);
    }
    return entry.status === 'queued' && justSent ? format('queued', values, set) : '';
  }

  window.MailroomSendWords = Object.freeze({
    format: format,
    sendText: sendText,
    confirm: Object.freeze(words.confirm || {}),
  });
}());
