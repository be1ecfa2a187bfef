// The send page's words for a send's own alert and for the confirm step, as app/labels.py
// hands them over in <body data-labels> (keys "send" and "confirm"); labels.js keeps the
// rest and reads them (load it first). format() fills {total}, {delivered} and {log}.
(function () {
  'use strict';

  const words = window.MailroomLabels.words;

  function format(key, values) {
    const text = (words.send || {})[key] || '';
    return text.replace(/\{(\w+)\}/g, function (whole, name) {
      return values && values[name] !== undefined ? String(values[name]) : '';
    });
  }

  // What a send came to, or is doing, in words ('' when the state badge says it all).
  function sendText(entry, justSent) {
    const values = { total: entry.total, delivered: entry.delivered, log: entry.log || '' };
    if (entry.status === 'canceled') {
      return format('canceled', values);
    }
    if (entry.status === 'finished') {
      if (entry.failed) {
        return format('failed', values);
      }
      return format(entry.delivered < entry.total ? 'finished_partly' : 'finished', values);
    }
    if (entry.status === 'paused') {
      return format('paused', values);
    }
    return entry.status === 'queued' && justSent ? format('queued', values) : '';
  }

  window.MailroomSendWords = Object.freeze({
    format: format,
    sendText: sendText,
    confirm: Object.freeze(words.confirm || {}),
  });
}());
