"""Webhooks out: a user's events (a send finished or failed, a recipient bounced or
unsubscribed)
delivered to the URLs they set at /settings/webhooks — a JSON body signed with HMAC-SHA256
(``signing.py``), sent by an RQ job with RQ's retries and back-off (``jobs.py``), only to
public addresses unless ``WEBHOOK_ALLOW_PRIVATE`` (``targets.py``), redirects not
followed; each delivery logged with the last answer heard."""

EVENTS = ("send.finished", "send.failed", "recipient.bounced", "recipient.unsubscribed")
