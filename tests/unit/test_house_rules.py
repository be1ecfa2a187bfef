"""The house rules of ARCHITECTURE.md, read off the code: module and function sizes, and who
may import RQ or the job functions. Each failure names the file and the line."""
from __future__ import annotations

import ast
from pathlib import Path

from tests.support import ROOT

APP = Path(ROOT) / "app"
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40
# Where RQ may be imported: the queue's one door, the worker side and the operator's view.
RQ_ALLOWED = ("app/queue.py", "app/tasks/service.py", "app/worker/", "app/admin/")
# View modules: what a blueprint serves. None of them may import the job functions.
VIEW_PACKAGES = ("app/mail_ui/", "app/tasks_ui/", "app/auth/", "app/admin/",
                 "app/mail_templates/", "app/outbox/", "app/unsubscribe/", "app/suppressions/",
                 "app/notifications/", "app/lists/routes.py", "app/views.py",
                 "app/bounces/routes.py", "app/bounces/webhooks.py")


def _modules():
    for path in sorted(APP.rglob("*.py")):
        yield path.relative_to(Path(ROOT)).as_posix(), path.read_text(encoding="utf-8")


def _imports(tree: ast.AST):
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            yield node.lineno, node.module
            for alias in node.names:
                yield node.lineno, f"{node.module}.{alias.name}"


def test_no_module_over_300_lines():
    long = [f"{name}: {text.count(chr(10))} lines" for name, text in _modules()
            if text.count("\n") > MAX_MODULE_LINES]
    assert not long, "modules over 300 lines:\n" + "\n".join(long)


def test_no_function_over_40_lines():
    long = []
    for name, text in _modules():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                size = node.end_lineno - node.lineno + 1
                if size > MAX_FUNCTION_LINES:
                    long.append(f"{name}:{node.lineno} {node.name}() is {size} lines")
    assert not long, "functions over 40 lines:\n" + "\n".join(long)


def test_rq_is_imported_only_behind_the_queue():
    found = [f"{name}:{line} imports {module}" for name, text in _modules()
             if not name.startswith(RQ_ALLOWED)
             for line, module in _imports(ast.parse(text))
             if module == "rq" or module.startswith("rq.")]
    assert not found, "rq imported outside the queue's rooms:\n" + "\n".join(found)


def test_no_view_imports_the_job_functions():
    found = [f"{name}:{line} imports {module}" for name, text in _modules()
             if name.startswith(VIEW_PACKAGES)
             for line, module in _imports(ast.parse(text))
             if module == "app.mail.jobs" or module.startswith("app.mail.jobs.")]
    assert not found, "views importing job functions:\n" + "\n".join(found)


def test_the_rules_see_the_code():
    """The walk above finds the app: an empty glob would pass every rule."""
    names = [name for name, _ in _modules()]
    assert "app/queue.py" in names and "app/tasks/service.py" in names and len(names) > 40
