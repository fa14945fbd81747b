"""The clean floor under the routes (issue #8, items 8 and 9): one domain error base whose
kind, not the service, decides the HTTP status; one commit-or-roll-back helper that every
route which commits uses; one way to find the process a request names."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import login

PB = Path(__file__).resolve().parent.parent / "pb"
ROUTE_MODULES = sorted(
    p for p in PB.rglob("*.py") if p.name in ("routes.py", "api.py") or p.name == "main.py"
)


def _calls(tree: ast.AST, attr: str) -> list[int]:
    return [
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == attr
    ]


@pytest.mark.parametrize("path", ROUTE_MODULES, ids=lambda p: str(p.relative_to(PB)))
def test_routes_commit_only_through_the_helper(path: Path) -> None:
    """No route commits or rolls back by itself (``pb.web.attempt`` does), and none finds a
    process by its slug (``load_process`` does). A route may still catch the refusal of a
    read-only check (e.g. a mistyped voting code) to show it."""
    tree = ast.parse(path.read_text())
    assert not _calls(tree, "commit"), f"{path}: commit through pb.web.attempt"
    assert not _calls(tree, "rollback"), f"{path}: roll back through pb.web.attempt"
    assert not _calls(tree, "get_by_slug"), f"{path}: find the process with load_process"
    writes = [n for n in ast.walk(tree) if isinstance(n, ast.Try)
              and (_calls(n, "commit") or _calls(n, "flush"))]  # fmt: skip
    assert not writes, f"{path}: a try around a write; use pb.web.attempt"


def test_there_is_one_load_process() -> None:
    found = []
    for path in PB.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if (
                isinstance(node, ast.FunctionDef)
                and "process" in node.name
                and (node.name.startswith("load") or node.name == "_process")
            ):
                found.append(f"{path.relative_to(PB)}:{node.name}")
    assert found == ["processes/services.py:load_process"]


def _domain_errors() -> list[type]:
    import pb.accounts.services
    import pb.moderation.services
    import pb.processes.services
    import pb.proposals.services
    from pb.errors import DomainError

    out = []
    for module in (pb.accounts.services, pb.moderation.services, pb.processes.services,
                   pb.proposals.services):  # fmt: skip
        for _name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, Exception) and obj.__module__ == module.__name__:
                out.append(obj)
    assert out and all(issubclass(cls, DomainError) for cls in out), out
    return out


def test_services_raise_domain_errors_that_know_no_http() -> None:
    from pb.errors import Conflict, Invalid, NotAllowed

    for cls in _domain_errors():
        assert not hasattr(cls, "status"), f"{cls.__name__} carries an HTTP status"
        assert issubclass(cls, Invalid | NotAllowed | Conflict), cls


def test_the_route_picks_the_status() -> None:
    from pb.errors import Conflict, DomainError, Invalid, NotAllowed
    from pb.web import status_for

    class Special(Invalid):
        pass

    assert status_for(Invalid()) == 400
    assert status_for(NotAllowed()) == 403
    assert status_for(Conflict()) == 409
    assert status_for(DomainError()) == 409
    assert status_for(Special(), {Special: 422}) == 422
    assert status_for(Special(), {Conflict: 418}) == 400


def test_attempt_commits_or_rolls_back(app: Any, db: Any, users: dict[str, Any]) -> None:
    import sqlalchemy as sa
    from sqlalchemy.exc import IntegrityError

    from pb.accounts.models import User
    from pb.db import get_session
    from pb.errors import Conflict, NotAllowed
    from pb.web import attempt

    def names() -> set[str]:
        db.expire_all()
        return set(db.scalars(sa.select(User.display_name)))

    cleaned = []
    with app.test_request_context():
        session = get_session()
        with attempt() as done:
            session.get(User, users["participant"].id).display_name = "Renamed"
        assert done.ok and done.status == 200 and done.message == ""
        assert "Renamed" in names()

        with attempt() as done:
            session.get(User, users["participant"].id).display_name = "Lost"
            done.on_failure(lambda: cleaned.append(True))
            session.flush()
            raise NotAllowed("no")
        assert not done.ok and done.status == 403 and done.message == "no"
        assert cleaned == [True]
        assert "Lost" not in names() and "Renamed" in names()

        # A unique-key race shows up at commit; ``also`` turns it into a refusal.
        with attempt(also=(IntegrityError,), as_error=lambda _e: Conflict("twice")) as done:
            session.get(User, users["participant2"].id).email = users["admin"].email
        assert done.message == "twice" and done.status == 409

        # Anything else is a bug: it is not swallowed.
        with pytest.raises(KeyError), attempt():
            raise KeyError("bug")


def test_api_shows_an_unpublished_process_to_its_officials_like_the_pages(
    client: Any, make_process: Any
) -> None:
    """The API's own copy of the loader hid unpublished processes from their officials."""
    make_process(published=False)
    assert client.get("/api/v1/processes/parker-2027").status_code == 404
    assert client.get("/p/parker-2027").status_code == 404
    login(client, "official")
    assert client.get("/p/parker-2027").status_code == 200
    assert client.get("/api/v1/processes/parker-2027").status_code == 200
    client.post("/account/logout")
    login(client, "other_official")
    assert client.get("/api/v1/processes/parker-2027").status_code == 404


def test_assigning_an_unknown_official_says_so(client: Any, make_process: Any) -> None:
    make_process()
    login(client, "admin")
    r = client.post(
        "/admin/processes/parker-2027/officials?lang=en", data={"email": "nobody@example.org"}
    )
    assert r.status_code == 400  # the page again, with the address typed (probe3 F3)
    page = r.get_data(as_text=True)
    assert "No account has that e-mail address." in page and 'value="nobody@example.org"' in page
