"""What a mail template may not contain, checked on the parsed template so a save names
the part and the line."""

from __future__ import annotations

from jinja2 import nodes

from .messages import N_, describe

MAX_LOOP_DEPTH = 2
PARTS = {"subject": N_("제목"), "body_text": N_("텍스트 본문"), "body_html": N_("HTML 본문")}
# Method calls allowed on a value: none of them can grow it much.
_SAFE_METHODS = frozenset(
    "upper lower title capitalize strip lstrip rstrip split startswith endswith isdigit "
    "isalpha isalnum isspace islower isupper items keys values get cycle".split())
_FORBIDDEN_NODES = {
    nodes.Macro: N_("매크로(macro)"), nodes.CallBlock: N_("call 블록"), nodes.Import: "import",
    nodes.FromImport: "import", nodes.Include: "include", nodes.Extends: "extends",
    nodes.Block: "block", nodes.ExprStmt: "do",
}


class TemplateProblem(ValueError):
    """A template that cannot be used, with the part and line at fault. ``message`` is as
    it was made (ours in Korean, or Jinja's; what the render process hands over); the text
    (``str``) names the part and line, in the reader's language (``messages.describe``)."""

    def __init__(self, message: str, part: str | None = None, line: int | None = None):
        super().__init__(message)
        self.message, self.part, self.line = message, part, line

    def __str__(self) -> str:
        return describe(self.message, PARTS.get(self.part or "", ""), self.line)


def check_rules(tree: nodes.Template, part: str) -> None:
    """Refuse what the sandbox would allow but a mail template never needs (at the line)."""
    for node in tree.find_all(nodes.Node):
        message = _refusal(node)
        if message:
            raise TemplateProblem(message, part, node.lineno)


def _refusal(node: nodes.Node) -> str | None:
    """Why ``node`` may not be in a mail template; None when it may."""
    for kind, what in _FORBIDDEN_NODES.items():
        if isinstance(node, kind):
            return N_("메일 템플릿에서는 %(what)s을(를) 쓸 수 없습니다.") % {"what": what}
    # ``x._y``, ``x['_y']``, and any ``'__y'`` handed to a filter (``attr``, ``map``).
    if (isinstance(node, nodes.Getattr) and node.attr.startswith("_")) or (
            isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const)
            and str(node.arg.value).startswith("_")) or (
            isinstance(node, nodes.Const) and str(node.value).startswith("__")):
        return N_("밑줄(_)로 시작하는 속성에는 접근할 수 없습니다.")
    if isinstance(node, nodes.Name) and node.name.startswith("_"):
        return N_("밑줄(_)로 시작하는 이름은 쓸 수 없습니다.")
    if isinstance(node, nodes.Call):
        callee = node.node
        allowed = (isinstance(callee, nodes.Name) and callee.name in ("range", "dict")) or (
            isinstance(callee, nodes.Getattr) and callee.attr in _SAFE_METHODS)
        if not allowed:
            return N_("이 함수나 메서드는 호출할 수 없습니다. 필터(|)를 쓰세요.")
    if isinstance(node, nodes.For):
        if node.recursive:
            return N_("재귀 반복(recursive)은 쓸 수 없습니다.")
        if _loop_depth(node) > MAX_LOOP_DEPTH:
            return N_("반복(for)은 %(depth)s겹까지만 쓸 수 있습니다.") % {"depth": MAX_LOOP_DEPTH}
    return None


def _loop_depth(node: nodes.Node) -> int:
    inner = [_loop_depth(child) for child in node.iter_child_nodes()]
    return (1 if isinstance(node, nodes.For) else 0) + max(inner, default=0)
