"""Hostile requests to every route, driven by hypothesis, for the suite and the benchmark.

The targets come from the app itself: every rule and method of ``app.url_map`` (log-out
aside: it would end the role), filled as the access table fills them. A POST's field names
come from the WTForms classes its view (or a helper it calls in its own module) uses, with
their sub-forms and lists (``areas-0-budget``), plus the names it reads from
``request.form``/``request.files`` in its source; a GET's query keys are every name pb reads
from ``request.args``. Values mix the world's real ones (codes, receipts, project codes,
slugs, addresses) with long, empty, Unicode and control-character text, huge and negative
numbers, dates out of range, SQL and template injections, lists instead of one value (a
field sent twice) and missing fields. Every POST carries the client's valid CSRF token (one
in 30 a wrong or missing one), so the form's own logic is reached. Each request comes from
its own address, so per-address limits do not hide the logic behind a 429.
"""

from __future__ import annotations

import enum
import inspect
import io
import logging
import re
import sys
import types
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import quote

from hypothesis import HealthCheck, Phase, given, seed, settings
from hypothesis import strategies as st

from tests.trust import matrix
from tests.trust.world import ROLES, World

SKIP_ENDPOINTS = {"accounts.logout", "static"}
WEIGHTS = {
    "GET": 1,
    "POST": 2,
    **{
        ("POST", e): 6
        for e in (
            "voting.ballot",
            "voting.enter_code",
            "voting.paper",
            "voting.paper_discard",
            "voting.change",
        )
    },
}
ROOT = Path(__file__).resolve().parents[2]

HOSTILE = [
    "", " ", "0", "-1", "-0", "1e309", "NaN", "inf", "-inf", "1_000", "+5", "0x10", "١٢٣",
    "99999999999999999999999999999999", "-99999999999999999999999999999999",
    str(2**31), str(2**63), str(-(2**63) - 1), "3.14", "1,5", "1e-400",
    "0001-01-01", "9999-12-31", "2027-02-30", "2027-13-01", "1969-12-31T23:59",
    "2027-06-12T25:61", "10000-01-01T00:00", "yesterday", "2027-06-12T10:00:00+99:00",
    "' OR '1'='1", "'; DROP TABLE users; --", "1; SELECT pg_sleep(0)", "\" OR \"\"=\"",
    "{{7*7}}", "{% for x in range(9) %}x{% endfor %}", "${7*7}", "#{7*7}", "%s%s%n%x",
    "{0.__class__}", "<script>alert(1)</script>", "<img src=x onerror=alert(1)>",
    "javascript:alert(1)", "../../../etc/passwd", "..\\..\\win.ini", "//evil.example/",
    "\x00", "a\x00b", "\r\nSet-Cookie: x=1", "\u202eevil\u202c", "\ufeff", "\u200b",
    "😀" * 50, "å" * 300, "Ω≈ç√∫", "\U0010ffff", "null", "None", "true", "[]", "{}",
    "x" * 5_000, "y" * 70_000, "a@b", "@", "x@example.org", "X@EXAMPLE.ORG ",
    "a" * 64 + "@" + "b" * 250 + ".se", "|", "||", "pts|||", "-1|p1",
]  # fmt: skip


HEADERS = [
    "Accept-Language",
    "User-Agent",
    "Referer",
    "X-Forwarded-For",
    "If-None-Match",
    "If-Modified-Since",
    "Range",
    "Accept",
]


@dataclass(frozen=True)
class Target:
    method: str
    rule: str
    endpoint: str
    fills: tuple[tuple[tuple[str, str], ...], ...]
    fields: tuple[tuple[str, str], ...]  # (name, kind) sent in the body of a POST
    has_page: bool = False  # the same rule answers a GET (the form's own page)


@dataclass
class Outcome:
    """What a run saw: counts by status, and each 500 with what caused it."""

    requests: int = 0
    by_status: Counter[int] = field(default_factory=Counter)
    by_target: Counter[tuple[str, str, int]] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        return {"requests": self.requests, "by_status": dict(sorted(self.by_status.items())),
                "errors_500": sum(n for s, n in self.by_status.items() if s >= 500)}  # fmt: skip


# -- where the field names come from -----------------------------------------------------


def _code_objects(code: types.CodeType) -> list[types.CodeType]:
    out = [code]
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            out.extend(_code_objects(const))
    return out


FORM_NAME_RE = re.compile(r"""(?:form|files)(?:\.get(?:list)?\(|\[)\s*["']([\w|-]+)["']""")
ARG_NAME_RE = re.compile(r"""(?:args\.get(?:list)?\(|num\()\s*["'](\w+)["']""")


def _reach(func: Callable[..., Any]) -> tuple[set[type], set[str]]:
    """The form classes a view uses and the form names it reads, through the functions of
    its own module it calls."""
    import wtforms

    forms: set[type] = set()
    names: set[str] = set()
    seen: set[Any] = set()

    def visit(f: Callable[..., Any]) -> None:
        f = inspect.unwrap(f)
        if f in seen or not hasattr(f, "__code__"):
            return
        seen.add(f)
        names.update(FORM_NAME_RE.findall(inspect.getsource(f)))
        module = sys.modules[f.__module__]
        spaces = [vars(module)]
        for code in _code_objects(f.__code__):
            spaces += [vars(v) for n in code.co_names
                       if isinstance(v := vars(module).get(n), types.ModuleType)]  # fmt: skip
        for code in _code_objects(f.__code__):
            for n in code.co_names:
                for space in spaces:
                    obj = space.get(n)
                    if inspect.isclass(obj) and issubclass(obj, wtforms.Form):
                        forms.add(obj)
                    elif inspect.isfunction(obj) and obj.__module__ == f.__module__:
                        visit(obj)

    visit(func)
    return forms, names


def _kind(field_class: type) -> str:
    import wtforms

    from pb import fields

    if issubclass(field_class, wtforms.FileField):
        return "file"
    if issubclass(field_class, wtforms.BooleanField):
        return "bool"
    if issubclass(field_class, wtforms.SelectFieldBase):
        return "choice"
    if issubclass(field_class, fields._Bounded | wtforms.IntegerField | wtforms.FloatField):
        return "number"
    if issubclass(field_class, wtforms.DateField | wtforms.DateTimeLocalField):
        return "date"
    if issubclass(field_class, wtforms.SubmitField):
        return "submit"
    return "text"


def form_fields(form_class: type, prefix: str = "") -> list[tuple[str, str]]:
    """Every field name a form reads, with sub-forms and the first entries of lists."""
    import wtforms
    from wtforms.fields.core import UnboundField

    out: list[tuple[str, str]] = []
    for attr in dir(form_class):
        unbound = getattr(form_class, attr, None)
        if not isinstance(unbound, UnboundField) or attr == "csrf_token":
            continue
        name = prefix + (unbound.kwargs.get("name") or attr)
        cls = unbound.field_class
        if issubclass(cls, wtforms.FieldList):
            inner = unbound.args[0]
            for i in (0, 1, 2):
                if issubclass(inner.field_class, wtforms.FormField):
                    out += form_fields(inner.args[0], f"{name}-{i}-")
                else:
                    out.append((f"{name}-{i}", _kind(inner.field_class)))
        elif issubclass(cls, wtforms.FormField):
            out += form_fields(unbound.args[0], f"{name}-")
        else:
            out.append((name, _kind(cls)))
    return out


def query_keys() -> tuple[str, ...]:
    keys = {"lang", "next"}
    for path in (ROOT / "pb").rglob("*.py"):
        keys.update(ARG_NAME_RE.findall(path.read_text(encoding="utf-8")))
    return tuple(sorted(keys))


def targets(app: Any) -> list[Target]:
    fills: dict[tuple[str, str], list[tuple[tuple[str, str], ...]]] = {}
    for row in matrix.load_table():
        fills.setdefault(row.key, []).append(row.fill)
    pages = {r.rule for r in app.url_map.iter_rules() if "GET" in (r.methods or ())}
    out = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint in SKIP_ENDPOINTS:
            continue
        forms, names = _reach(app.view_functions[rule.endpoint])
        body = {n: k for f in forms for n, k in form_fields(f)}
        body.update({n: "text" for n in names if n not in body and n != "csrf_token"})
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            out.append(Target(method, rule.rule, rule.endpoint, tuple(fills[(method, rule.rule)]),
                              tuple(sorted(body.items())), rule.rule in pages))  # fmt: skip
    return out


# -- values ------------------------------------------------------------------------------


def _enum_values() -> list[str]:
    values: set[str] = set()
    for name, module in list(sys.modules.items()):
        if name.startswith("pb."):
            for obj in vars(module).values():
                if (inspect.isclass(obj) and issubclass(obj, enum.Enum)
                        and obj.__module__.startswith("pb.")):  # fmt: skip
                    values.update(str(m.value) for m in obj)
    return sorted(values)


def world_values(world: World) -> list[str]:
    return [*world.codes, world.voter_code, world.used_code, world.receipt, *world.slugs.values(),
            *(str(i) for i in world.ids.values()), "p1", "p2", "p3", "|p1", "|p2", "cast",
            "check", "edit", "review", "publish", "draft", "yes", "y", "hide", "restore",
            "participant@example.org", "new@example.org", "Norra Fäladen", "2027-06-12",
            "2027-06-12T10:00", "45 000 kr", "40", *_enum_values()]  # fmt: skip


def good_values(world: World) -> dict[str, list[str]]:
    """Values that get a field past its first check, so the fuzzer reaches the logic after."""
    mail = ["participant@example.org", "ny@example.org", "kim@example.org"]
    return {
        "code": [*world.codes[:6], world.voter_code, world.used_code],
        "receipt": ["", world.receipt],
        "district": [""],
        "pick": ["|p1", "|p2", "|p3", "|p4", "|p5"],
        "action": ["cast", "cast", "check", "edit", "review", "publish", "draft"],
        "email": mail,
        "title": ["Fler bänkar"],
        "description": ["Sittplatser längs ån."],
        "consent": ["y"],
        "cost_estimate": ["45 000"],
        "body": ["Bra idé!"],
        "reason": ["spam", "Olämpligt."],
        "note": ["Se detta."],
        "count": ["3", "1"],
        "channel": ["school", "library", "letter"],
        "purpose": ["Klass 7B"],
        "status": ["in_progress", "done", "cancelled"],
        "progress": ["40"],
        "decision": ["accept", "reject", "keep"],
        "confirm": ["yes"],
        "ends": ["2099-01-01T10:00"],
        "lang": ["en", "sv"],
        "next": ["/", "/p/forslag"],
        "password": ["password-participant", "a-long-new-password"],
        "age_band": ["26-39"],
        "connection": ["lives"],
        "entry": ["0123456789abcdef"],
        "merge_into": [str(i) for i in world.ids.values()],
        "parent_id": [str(world.ids["comment"])],
    }


def values(world: World) -> st.SearchStrategy[str]:
    text = st.text(st.characters(codec="utf-8"), max_size=300)
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.sampled_from(world_values(world)),
        text,
        st.integers(min_value=-(2**80), max_value=2**80).map(str),
        st.dates().map(lambda d: d.isoformat()),
        st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
        st.floats(allow_nan=True, allow_infinity=True).map(repr),
    )


def _file() -> st.SearchStrategy[Any]:
    from tests.trust.world import png

    contents = st.one_of(st.binary(max_size=2_000), st.just(png()),
                         st.just(b"name;email\nKim;kim@example.org\n"),
                         st.just(b"\x89PNG\r\n\x1a\n" + b"\x00" * 100))  # fmt: skip
    names = st.sampled_from(["a.png", "b.jpg", "c.csv", "../../x.png", "", "x" * 300 + ".webp"])
    return st.tuples(contents, names).map(lambda t: (io.BytesIO(t[0]), t[1]))


@st.composite
def requests(
    draw: st.DrawFn,
    target: Target,
    world: World,
    keys: tuple[str, ...],
    value: st.SearchStrategy[str],
    good: dict[str, list[str]],
) -> dict[str, Any]:
    """One request to the target: path, query string and (for a POST) a body. ``value`` and
    ``good`` are made once a run (``values``, ``good_values``): hypothesis needs the same
    strategies for every example."""
    fill = dict(draw(st.sampled_from(target.fills)))

    def part(m: re.Match[str]) -> str:
        converter, name = m.group(1), m.group(2)
        if draw(st.integers(0, 9)) == 0:  # a hostile path value now and then
            if converter == "int":
                return str(draw(st.integers(min_value=0, max_value=2**70)))
            return quote(draw(value), safe="") or "x"
        real = matrix.url_for_row(matrix.Row("GET", f"<{name}>", tuple(fill.items()), {}, 0),
                                  world)  # fmt: skip
        return real

    path = re.sub(r"<(?:([a-z]+):)?([a-z_]+)>", part, target.rule)
    query = {k: draw(value) for k in draw(st.lists(st.sampled_from(keys), max_size=4))}
    data: dict[str, Any] = {}
    if target.method == "POST":
        # A third of the forms start valid where a good value is known, and then only a
        # field or two is hostile: the logic behind the first checks is reached too.
        nearly_valid = draw(st.integers(0, 2)) == 0
        for name, kind in target.fields:
            how = draw(st.integers(0, 9))
            if nearly_valid and name in good and how > 0:
                data[name] = draw(st.sampled_from(good[name]))
                if name == "pick":
                    data[name] = ["|p1", "|p2"] if how > 4 else [data[name]]
                continue
            if how < 2:
                continue  # missing
            if kind == "file":
                data[name] = draw(_file())
            elif how == 9:
                data[name] = draw(st.lists(value, min_size=2, max_size=3))  # sent twice or more
            elif name in good and how > 5:
                data[name] = draw(st.sampled_from(good[name]))
            elif kind == "bool":
                data[name] = draw(st.one_of(st.sampled_from(["y", "on", "1", "false"]), value))
            else:
                data[name] = draw(value)
        for _ in range(draw(st.integers(0, 2))):  # a field the form does not know
            data[draw(st.sampled_from(["pick", "district", "age_band", "connection", "action",
                                       "code", "receipt", "entry", "project", "x" * 100]))] = (
                draw(value))  # fmt: skip
    raw = draw(st.binary(max_size=500)) if draw(st.integers(0, 29)) == 0 else None
    headers = {
        h: re.sub(r"[\r\n]", "", draw(value).encode().decode("latin-1"))[:2000]
        for h in draw(st.lists(st.sampled_from(HEADERS), max_size=2, unique=True))
    }
    return {"method": target.method, "path": path, "query": query, "data": data,
            "csrf": draw(st.integers(0, 29)), "raw": raw, "headers": headers}  # fmt: skip


# -- a form as its page fills it ----------------------------------------------------------


class _Forms(HTMLParser):
    """The POST forms of a page: each one's action and the values it would send as shown
    (hidden fields, text, checked boxes, chosen options, text areas)."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[tuple[str, list[tuple[str, str]]]] = []
        self._select: str | None = None
        self._options: list[tuple[str, bool]] = []
        self._textarea: str | None = None
        self._text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            if a.get("method", "get").lower() == "post":
                self.forms.append((a.get("action", ""), []))
            return
        if not self.forms:
            return
        fields = self.forms[-1][1]
        name = a.get("name")
        if tag == "input" and name:
            kind = a.get("type", "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            if kind in ("submit", "image"):
                self._press(name, a.get("value", ""))
            elif kind not in ("button", "file", "reset"):
                fields.append((name, a.get("value", "on" if kind == "checkbox" else "")))
        elif tag == "button" and name and a.get("type", "submit") == "submit":
            self._press(name, a.get("value", ""))
        elif tag == "select" and name:
            self._select, self._options = name, []
        elif tag == "option" and self._select is not None:
            self._options.append((a.get("value", ""), "selected" in a))
        elif tag == "textarea" and name:
            self._textarea, self._text = name, ""

    def _press(self, name: str, value: str) -> None:
        """The form's first button of a name is the one pressed."""
        if all(n != name for n, _ in self.forms[-1][1]):
            self.forms[-1][1].append((name, value))

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._text += data

    def handle_endtag(self, tag: str) -> None:
        if not self.forms:
            return
        if tag == "select" and self._select is not None:
            chosen = [v for v, sel in self._options if sel] or [v for v, _ in self._options[:1]]
            self.forms[-1][1].extend((self._select, v) for v in chosen)
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            self.forms[-1][1].append((self._textarea, self._text.lstrip("\n")))
            self._textarea = None


def page_form(client: Any, path: str, address: str) -> dict[str, Any] | None:
    """The values of the page's form that posts to ``path`` (None without one)."""
    response = client.get(path, environ_overrides={"REMOTE_ADDR": address})
    if response.status_code != 200 or response.mimetype != "text/html":
        return None
    parser = _Forms()
    parser.feed(response.get_data(as_text=True))
    for action, fields in parser.forms:
        if action.split("?")[0] in ("", path):
            out: dict[str, Any] = {}
            for name, value in fields:
                if name in out:
                    out[name] = [*out[name], value] if isinstance(out[name], list) else [
                        out[name], value]  # fmt: skip
                else:
                    out[name] = value
            return out
    return None


# -- sending -------------------------------------------------------------------------------


class _Errors(logging.Handler):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(logging.ERROR)
        self.outcome = outcome

    def emit(self, record: logging.LogRecord) -> None:
        self.outcome.tracebacks.append(self.format(record)[-3000:])


def send(client: Any, request: dict[str, Any], address: str) -> Any:
    data = dict(request["data"])
    if request["method"] == "POST":
        if request["csrf"] == 0:
            data["csrf_token"] = "garbage"
        elif request["csrf"] != 1:
            data["csrf_token"] = client.csrf
    body: Any = data
    kind = None
    if request["raw"] is not None and request["method"] == "POST":  # not form encoding at all
        body, kind = request["raw"], "application/x-www-form-urlencoded"
    response = client.open(request["path"], method=request["method"], data=body,
                           content_type=kind, query_string=request["query"],
                           headers=request["headers"],
                           environ_overrides={"REMOTE_ADDR": address})  # fmt: skip
    response.get_data()
    response.close()
    return response


def run(app: Any, world: World, clients: dict[str, Any], n: int, seed_value: int,
        outcome: Outcome | None = None, derandomize: bool = False) -> Outcome:  # fmt: skip
    """Send ``n`` generated requests, round the roles and targets as hypothesis draws them;
    returns what was seen (a 500 is recorded with its request, never raised)."""
    outcome = outcome or Outcome()
    handler = _Errors(outcome)
    app.logger.addHandler(handler)
    keys = query_keys()
    value, good = values(world), good_values(world)
    # Forms are drawn twice as often as pages, and the ballot's own steps (where a code is
    # spent) three times more.
    all_targets = [
        t
        for t in targets(app)
        for _ in range(WEIGHTS.get((t.method, t.endpoint), WEIGHTS[t.method]))
    ]

    @settings(max_examples=n, database=None, deadline=None, derandomize=derandomize,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(st.data())
    def one(data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(ROLES), label="role")
        target = data.draw(st.sampled_from(all_targets), label="target")
        request = data.draw(requests(target, world, keys, value, good), label="request")
        address = f"10.{outcome.requests // 65536 % 256}.{outcome.requests // 256 % 256}." \
                  f"{outcome.requests % 256}"  # fmt: skip
        if target.method == "POST" and target.has_page and data.draw(st.integers(0, 3)) == 0:
            # The form as its own page fills it, with one or two fields changed to hostile ones.
            base = page_form(clients[role], request["path"], address)
            if base is not None:
                changed = dict(list(request["data"].items())[: data.draw(st.integers(1, 2))])
                request = {**request, "data": {**base, **changed}}
        response = send(clients[role], request, address)
        outcome.requests += 1
        outcome.by_status[response.status_code] += 1
        outcome.by_target[(request["method"], target.endpoint, response.status_code)] += 1
        if response.status_code >= 500:
            shown = {k: (v if len(repr(v)) < 200 else repr(v)[:200] + "…")
                     for k, v in request["data"].items()}  # fmt: skip
            outcome.errors.append(f"{role} {request['method']} {request['path']} "
                                  f"query={request['query']!r} data={shown!r} "
                                  f"-> {response.status_code}")  # fmt: skip

    try:
        (one if derandomize else seed(seed_value)(one))()
    finally:
        app.logger.removeHandler(handler)
    return outcome
