"""The worker side: RQ workers and the scheduler as supervised processes (``worker.py``)."""

from app.worker.rqworker import AppWorker

__all__ = ["AppWorker"]
