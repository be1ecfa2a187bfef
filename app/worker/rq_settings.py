"""Settings for RQ's own CLI, the same Redis as the app from the same environment:
``rq worker -c app.worker.rq_settings -w app.worker.AppWorker --with-scheduler high default``.
With ``REDIS_SENTINELS`` set it is RQ's ``SENTINEL`` block (RQ asks the sentinels for the
primary), else ``REDIS_URL``; either way the app's policy (app/redis_url.py) applies."""

from __future__ import annotations

import os

from app.config import redis
from app.redis_client import rq_cli_settings

_SETTINGS = rq_cli_settings(redis(os.environ.get))
REDIS_URL = _SETTINGS["REDIS_URL"]
SENTINEL = _SETTINGS["SENTINEL"]
