"""The operator view: admins only (404 for everyone else); live workers, the scheduler's
holder, and the jobs that need a decision — a worker killed with SIGKILL leaves the view
and its job shows as abandoned; a scheduler that cannot hold its lock is called out."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from rq import SimpleWorker

from app.models.types import utcnow
from app.queue import SERIALIZER, queues
from app.tasks.service import TaskService
from tests import jobs
from tests.jobs_cancel import stubborn
from tests.support import wait_until
from tests.support.flows import PASSWORD, AuthActions, csrf_token, task, wait_for_task
from tests.support.procs import descendants, kill_family


@pytest.fixture
def admin(app: Flask, client: FlaskClient, auth: AuthActions, runner: Any) -> FlaskClient:
    result = runner.invoke(args=["users", "create", "root", "--password", PASSWORD, "--admin"])
    assert result.exit_code == 0, result.output
    auth.login("root")
    return client


def test_everyone_but_admins_gets_404(app: Flask, client: FlaskClient,
                                      auth: AuthActions) -> None:
    assert client.get("/admin/").status_code == 404
    auth.create()
    auth.login()
    assert client.get("/admin/").status_code == 404
    token = csrf_token(client, "/send_mail")
    for action in ("requeue", "delete"):
        assert client.post(f"/admin/jobs/1/{action}", data={"csrf_token": token}
                           ).status_code == 404
    assert "운영" not in client.get("/send_mail").get_data(as_text=True)


def test_a_killed_worker_leaves_and_its_job_is_abandoned(app: Flask, admin: FlaskClient,
                                                         start_worker: Any,
                                                         redis_conn: Redis) -> None:
    process = start_worker()
    with app.app_context():
        task_id = TaskService("root").enqueue_task(stubborn, 60, description="long").id
    wait_for_task(app, task_id, lambda t: t.status == "running", what="the job to run")
    family = descendants(process.pid) | {process.pid}
    # The scheduler is a process of its own: it may take the lock after the job started.
    page = wait_until(lambda: (lambda p: p if "잠금을 가진 스케줄러:" in p else None)(
        admin.get("/admin/").get_data(as_text=True)), 20, "the scheduler to hold its lock")
    assert any(f'data-pid="{pid}"' in page for pid in family)

    kill_family(process.pid)
    page = admin.get("/admin/").get_data(as_text=True)
    assert not any(f'data-pid="{pid}"' in page for pid in family)
    assert f'data-job="{task_id}" data-kind="abandoned"' in page

    token = csrf_token(admin, "/admin/")
    # The delete asks first (issue 24): only the confirmed POST acts.
    asked = admin.post(f"/admin/jobs/{task_id}/delete", data={"csrf_token": token})
    assert asked.status_code == 200 and 'name="confirm" value="1"' in asked.get_data(True)
    assert f'data-job="{task_id}" data-kind="abandoned"' in admin_page(admin)
    assert admin.post(f"/admin/jobs/{task_id}/delete",
                      data={"csrf_token": token, "confirm": "1"}).status_code == 302
    ended = task(app, task_id)
    assert (ended.status, ended.failed) == ("finished", True)


def test_a_failed_job_can_be_requeued(app: Flask, admin: FlaskClient, redis_conn: Redis) -> None:
    with app.app_context():
        task_id = TaskService("root").enqueue_task(jobs.fails, "boom", description="x").id
        queue_set = queues()
        SimpleWorker(queue_set.ordered(), connection=queue_set.connection,
                     serializer=SERIALIZER).work(burst=True)
    assert task(app, task_id).failed
    page = admin.get("/admin/").get_data(as_text=True)
    assert f'data-job="{task_id}" data-kind="failed"' in page and "boom" in page
    token = csrf_token(admin, "/admin/")
    admin.post(f"/admin/jobs/{task_id}/requeue", data={"csrf_token": token})
    assert (task(app, task_id).status, task(app, task_id).failed) == ("queued", False)
    with app.app_context():
        assert str(task_id) in queues()["default"].job_ids


KOREAN_TIME = r"\d{4}년\d{2}월\d{2}일 \d{2}시 \d{2}분 \d{2}초"
STUCK = "스케줄러가 잠금을 잡지 못하고 있습니다: 예약이 제때 나가지 않을 수 있습니다."


def admin_page(admin: FlaskClient) -> str:
    return admin.get("/admin/").get_data(as_text=True)


def test_a_scheduler_that_cannot_hold_its_lock_is_called_out(
        app: Flask, admin: FlaskClient, start_worker: Any, redis_conn: Redis) -> None:
    """Redis refusing writes (full, noeviction): the running scheduler's lock lapses and the
    view says so; once memory frees it holds the lock again and the warning goes."""
    start_worker({"SCHEDULER_LOCK_SECONDS": "3"})
    page = wait_until(lambda: (lambda p: p if "잠금을 가진 스케줄러:" in p else None)(
        admin_page(admin)), 20, "the scheduler to hold its lock")
    assert STUCK not in page
    assert re.search(r"마지막 신호 " + KOREAN_TIME + r"\)", page), "heartbeat in Korean"
    assert 'data-queue="high" data-holder=""' not in page
    policy = redis_conn.config_get("maxmemory-policy")["maxmemory-policy"]
    redis_conn.config_set("maxmemory-policy", "noeviction")
    redis_conn.config_set("maxmemory", "1")  # every write refused from now on
    try:
        page = wait_until(lambda: (lambda p: p if STUCK in p else None)(admin_page(admin)),
                          30, "the view to say the lock lapsed")
        assert 'data-queue="high" data-holder=""' in page
        assert "잠금을 가진 스케줄러가 없습니다." in page
        assert re.search(r'data-scheduler="[0-9a-f]+"', page), "the scheduler still registered"
    finally:
        redis_conn.config_set("maxmemory", "0")
        redis_conn.config_set("maxmemory-policy", policy)
    page = wait_until(lambda: (lambda p: p if STUCK not in p and "잠금을 가진 스케줄러:" in p
                                else None)(admin_page(admin)), 30, "the lock taken again")
    assert 'data-queue="high" data-holder=""' not in page


def test_reservations_waiting_with_no_scheduler_are_called_out(
        app: Flask, admin: FlaskClient, redis_conn: Redis) -> None:
    assert STUCK not in admin_page(admin)  # nothing waits and no scheduler runs: no alarm
    when = utcnow() + timedelta(hours=1)
    with app.app_context():
        TaskService("root").reserve_task(when, jobs.fails, "later", description="later")
    page = admin_page(admin)
    assert STUCK in page and "기다리는 예약 1건" in page
    assert "등록된 스케줄러가 없습니다." in page
