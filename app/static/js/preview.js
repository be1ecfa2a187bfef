// The send page's preview: posts the form as it stands to /send_mail/preview (which queues
// nothing) and shows the mail one recipient would get; the arrows step through recipients.
// The HTML part is never written into the page (a srcdoc frame would live under the page's
// CSP): the form goes once more, to /send_mail/preview.html, straight into the sandboxed
// frame, and the mail draws under the policy that answer carries.
(function () {
  "use strict";
  const form = document.getElementById("send-form");
  const box = document.getElementById("preview");
  if (!form || !box) return;
  const $ = (id) => document.getElementById(id);
  // Its words, in the reader's language (app/labels.py's SCRIPT_WORDS, through labels.js).
  const said = (window.MailroomLabels && window.MailroomLabels.words.script) || {};
  let index = 0;
  let count = 0;

  function show(data) {
    $("preview-error").hidden = true;
    $("preview-mail").hidden = false;
    index = data.index;
    count = data.count;
    $("preview-recipient").textContent = data.recipient;
    $("preview-subject").textContent = data.subject;
    $("preview-text").textContent = data.text;
    if (data.html) drawHtml(data.index); else freshFrame();
    $("preview-html").hidden = !data.html;
    $("preview-no-html").hidden = Boolean(data.html);
    $("preview-position").textContent = (index + 1) + " / " + count;
    $("preview-prev").disabled = index <= 0;
    $("preview-next").disabled = index >= count - 1;
  }

  // A fresh frame each time: the first page a new frame loads adds no step to the
  // browser's history, so Back still leaves the send page.
  function freshFrame() {
    const old = $("preview-html");
    const frame = old.cloneNode(false);
    old.replaceWith(frame);
    return frame;
  }

  // Post the form as it stands into the frame; the form keeps its own action and target.
  function drawHtml(at) {
    const frame = freshFrame();
    const action = form.getAttribute("action");
    form.setAttribute("action", form.dataset.previewHtmlUrl + "?index=" + encodeURIComponent(at));
    form.setAttribute("target", frame.name);
    try {
      HTMLFormElement.prototype.submit.call(form);  // no submit event: nothing else reacts
    } finally {
      form.setAttribute("action", action);
      form.removeAttribute("target");
    }
  }

  function fail(message) {
    $("preview-error").textContent = message;
    $("preview-error").hidden = false;
    $("preview-mail").hidden = true;
    $("preview-position").textContent = "";
    $("preview-prev").disabled = true;
    $("preview-next").disabled = true;
  }

  async function load(at) {
    const body = new FormData(form);
    body.set("index", String(at));
    box.hidden = false;
    try {
      const response = await fetch(form.dataset.previewUrl, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "Accept": "application/json" },
      });
      const data = await response.json().catch(() => ({
        error: said.preview_failed_status.replace("{status}", response.status) }));
      if (response.ok) show(data); else fail(data.error || said.preview_failed);
    } catch (err) {
      fail(said.unreachable);
    }
  }

  $("preview-button").addEventListener("click", () => load(0));
  $("preview-prev").addEventListener("click", () => load(Math.max(0, index - 1)));
  $("preview-next").addEventListener("click", () => load(Math.min(count - 1, index + 1)));
  $("preview-close").addEventListener("click", () => { box.hidden = true; });
})();
