"""The declared access table (``access_matrix.txt``) and what checks a response against it.

Each row of the table: a method, a rule exactly as in ``app.url_map``, how its parameters are
filled from the world (``tests/trust/world.py``), then the expected status for each role, in
the order of ``world.ROLES``. A rule may have several rows with different fillings (e.g. a
proposal page for a published proposal and for someone else's draft). Rows run in the
table's order, GETs first: the POSTs that change the world (withdrawing, hiding, revoking,
logging out) come last.

Fillings: ``slug=P|V|R|O`` picks a process (see ``world.SLUGS``); ``pid=pub|draft|own``,
``cid=comment``, ``batch_id=batch``, ``project_id=funded`` pick an object;
``name=image|photo|process_image|draft_process_image`` a stored image; ``token=<purpose>`` a
valid signed token; any other ``key=value`` is used as it stands (``kind=csv``,
``action=hide``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.trust.world import ROLES, World

TABLE = Path(__file__).with_name("access_matrix.txt")

# Pages with someone's own data (drafts, moderation queues and reviews, ballots, codes and
# receipts, accounts, admin pages, the results preview, links carrying a signed token): never
# kept by a browser or a proxy, for any role and whatever the answer but a redirect
# (``Cache-Control: no-store``). Decided from the code: ``pb.security.no_store_when_personal``
# (logged-in people; /account, /admin, /moderation, /mail; pages reached by a signed link)
# and the voting blueprint's own ``_not_kept``. Every page a logged-in person gets is
# personal too (it names them).
# Files that are the same for everyone, logged in or not (the municipality's colour and logo
# are settings): a shared cache may keep them.
PUBLIC_FILES = frozenset({"static", "main.brand_css", "main.brand_logo"})

PERSONAL_ENDPOINTS = frozenset({
    "accounts.login", "accounts.register", "accounts.register_sent", "accounts.register_finish",
    "accounts.change_password", "accounts.logout",
    "accounts.forgot_password", "accounts.forgot_sent", "accounts.reset_password",
    "process_admin.index", "process_admin.create", "process_admin.edit", "process_admin.freeze",
    "process_admin.officials", "process_admin.audit",
    "proposals.mine", "proposals.new", "proposals.edit", "proposals.withdraw_confirm",
    "proposals.withdraw",
    "moderation.index", "moderation.queue", "moderation.review", "moderation.bulk",
    "moderation.moderate_proposal", "moderation.moderate_comment",
    "moderation.report_proposal", "moderation.report_comment",
    "voting.start", "voting.enter_code", "voting.ballot", "voting.ballot_again",
    "voting.receipt", "voting.change", "voting.paper", "voting.paper_discard",
    "voting.extend",
    "voting.email.ask", "voting.email.question", "voting.email.check", "voting.email.confirm",
    "voting.email.receipt_mail",
    "voting.issuing.index", "voting.issuing.batch", "voting.issuing.letters",
    "voting.issuing.revoke",
    "results.preview",
    "mail.unsubscribe", "mail.unsubscribe_post",
    "followup.confirm", "followup.stop",
})  # fmt: skip

# The policy of every HTML page (``pb.security.CSP``); views may add sources to a directive
# (the proposal map's tiles) but never 'unsafe-inline' or 'unsafe-eval'. Stored images carry
# the stricter ``default-src 'none'``, still with frame-ancestors 'none'.
REQUIRED_CSP = {
    "default-src": {"'self'"},
    "object-src": {"'none'"},
    "base-uri": {"'self'"},
    "frame-ancestors": {"'none'"},
    "form-action": {"'self'"},
    "script-src": {"'self'"},
}


@dataclass(frozen=True)
class Row:
    method: str
    rule: str
    fill: tuple[tuple[str, str], ...]
    expected: dict[str, int]
    line: int

    @property
    def key(self) -> tuple[str, str]:
        return self.method, self.rule

    def label(self) -> str:
        fill = ",".join(f"{k}={v}" for k, v in self.fill) or "-"
        return f"{self.method} {self.rule} [{fill}]"


def load_table(path: Path = TABLE) -> list[Row]:
    rows = []
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        method, rule, fill, *codes = line.split()
        if len(codes) != len(ROLES):
            raise ValueError(f"{path.name}:{n}: {len(codes)} statuses for {len(ROLES)} roles")
        pairs = (
            ()
            if fill == "-"
            else tuple(
                tuple(p.split("=", 1))
                for p in fill.split(",")  # type: ignore[misc]
            )
        )
        rows.append(Row(method, rule, pairs, dict(zip(ROLES, map(int, codes), strict=True)), n))
    return rows


def url_for_row(row: Row, world: World) -> str:
    values = dict(row.fill)

    def value(m: re.Match[str]) -> str:
        name = m.group(1)
        given = values.get(name)
        if given is None:
            raise KeyError(f"{row.label()}: no value for <{name}>")
        if name == "slug":
            return world.slugs[given]
        if name in ("pid", "cid", "batch_id", "project_id"):
            return str(world.ids[given])
        if name == "name":
            return world.names[given]
        if name == "token":
            return world.tokens[given]
        return given

    return re.sub(r"<(?:[a-z]+:)?([a-z_]+)>", value, row.rule)


def form_for(role: str, client: Any, world: World) -> dict[str, str]:
    """What every POST carries: the session's CSRF token; the voter also sends the code."""
    data = {"csrf_token": client.csrf}
    if role == "voter":
        data["code"] = world.voter_code
    return data


def visit(client: Any, role: str, world: World, row: Row) -> Any:
    url = url_for_row(row, world)
    if row.method == "GET":
        response = client.get(url)
    else:
        response = client.post(url, data=form_for(role, client, world))
    response.get_data()  # read (a file's answer streams), then let go of the file
    response.close()
    return response


REDIRECTS = (301, 302, 303, 307, 308)


def header_problems(response: Any, endpoint: str, role: str, production: bool) -> list[str]:
    """What is wrong with a response's security headers (empty when all is well)."""
    h = response.headers
    problems = []
    csp = h.get("Content-Security-Policy", "")
    directives: dict[str, set[str]] = {}
    for part in csp.split(";"):
        name, *sources = part.split() or [""]
        directives[name] = set(sources)
    if directives.get("default-src") == {"'none'"} and response.mimetype.startswith("image/"):
        required = {"frame-ancestors": {"'none'"}}  # a stored image: nothing else may load
    else:
        required = REQUIRED_CSP
    for name, allowed in required.items():
        have = directives.get(name)
        if not have or not have <= allowed:
            problems.append(f"CSP {name}: {have}")
    if "unsafe-" in csp:
        problems.append("CSP allows unsafe-*")
    if h.get("X-Content-Type-Options") != "nosniff":
        problems.append("no nosniff")
    if h.get("X-Frame-Options") != "DENY":
        problems.append("no X-Frame-Options DENY")
    if h.get("Referrer-Policy") != "same-origin":
        problems.append(f"Referrer-Policy {h.get('Referrer-Policy')}")
    hsts = re.match(r"max-age=(\d+)", h.get("Strict-Transport-Security", ""))
    if production != bool(hsts) or (hsts and int(hsts.group(1)) < 31_536_000):
        problems.append(f"HSTS {h.get('Strict-Transport-Security')!r} (production: {production})")
    cache = h.get("Cache-Control", "")
    logged_in = role in ("participant", "official", "other", "admin")
    if endpoint in PUBLIC_FILES or response.status_code in REDIRECTS:
        pass  # public files, the same for everyone; a redirect shows nothing
    elif endpoint in ("proposals.image", "processes.image"):  # the browser's own cache only
        if logged_in and "private" not in cache and "no-store" not in cache:
            problems.append(f"Cache-Control {cache!r} on an image for a logged-in person")
    elif (endpoint in PERSONAL_ENDPOINTS or logged_in) and "no-store" not in cache:
        problems.append(f"Cache-Control {cache!r} on a personal page")
    return problems
