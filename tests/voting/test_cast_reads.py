"""What a cast reads and writes, and the shortcuts that make it cheap: the process's
collections in one statement (``pb.processes.preload``), the limits, code and mixing state in
one statement (``services.read_entry``), marking the code and holding the ballot in one
statement on PostgreSQL, and the templates' translations kept per locale. Each shortcut
must answer exactly what the long way answers."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
import sqlalchemy as sa

from tests.voting.conftest import Vote, ballot, issue, make_vote, now


@contextmanager
def statements(engine: sa.Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    sa.event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        sa.event.remove(engine, "before_cursor_execute", record)


def _districts(app: Any, make_process: Any) -> Vote:
    from pb.processes.services import AreaChange

    return make_vote(app, make_process, slug="omr", budget=5_000_000, min_projects=None,
                     areas=[AreaChange("Hela Lund", 900_000, whole_municipality=True),
                            AreaChange("Norra Fäladen", 200_000),
                            AreaChange("Klostergården", 300_000)],
                     categories=[("Parker", "Parks"), ("Gator", "Streets"), ("Ljus", "")],
                     projects=[("n1", "Lekplats", 150_000, "Norra Fäladen")])  # fmt: skip


def _shape(process: Any) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "areas": [(a.id, a.slug, a.name, a.budget, a.position, a.whole_municipality)
                  for a in process.areas],
        "phases": [(p.id, p.kind, p.starts_at, p.ends_at) for p in process.phases],
        "categories": [(c.id, c.key, c.name_sv, c.name_en, c.position)
                       for c in process.categories],
    }  # fmt: skip


def test_preload_gives_what_lazy_loading_gives_in_one_statement(
    app: Any, make_process: Any
) -> None:
    from sqlalchemy.orm import Session

    from pb.db import get_engine
    from pb.processes.contract import Contract
    from pb.processes.models import Process
    from pb.processes.preload import preload

    vote = _districts(app, make_process)
    engine = get_engine(app)
    with Session(engine) as lazy:
        expected = _shape(lazy.get(Process, vote.process_id))
        assert len(expected["areas"]) == 3 and len(expected["categories"]) == 3
    with Session(engine) as session:
        process = session.get(Process, vote.process_id)
        with statements(engine) as seen:
            preload(session, process)
            shape = _shape(process)
            contract = Contract.of(process)
        assert len(seen) == 1, seen
        assert shape == expected
        assert [a.slug for a in contract.areas] == [a[1] for a in expected["areas"]]
        # Loaded as the ORM loads: persistent, clean, in the identity map.
        assert not session.dirty and not session.new
        assert all(sa.inspect(a).persistent for a in process.areas)
        assert process.areas[0].process is process
        with statements(engine) as again:
            preload(session, process)  # already loaded: nothing read
        assert again == []


def test_a_preloaded_object_changed_is_saved(app: Any, make_process: Any) -> None:
    import datetime as dt

    from sqlalchemy.orm import Session

    from pb.db import get_engine
    from pb.processes.models import PhaseKind, Process
    from pb.processes.preload import preload

    vote = _districts(app, make_process)
    engine = get_engine(app)
    with Session(engine) as session:
        process = session.get(Process, vote.process_id)
        preload(session, process)
        voting = process.phase(PhaseKind.VOTING)
        assert voting is not None
        later = voting.ends_at + dt.timedelta(days=3)
        voting.ends_at = later
        process.areas[0].budget = 123_456
        session.commit()
    with Session(engine) as session:
        process = session.get(Process, vote.process_id)
        assert process.phase(PhaseKind.VOTING).ends_at == later
        assert process.areas[0].budget == 123_456


def test_preload_uses_objects_the_session_already_holds(app: Any, make_process: Any) -> None:
    from sqlalchemy.orm import Session

    from pb.db import get_engine
    from pb.processes.models import Area, Process
    from pb.processes.preload import preload

    vote = _districts(app, make_process)
    with Session(get_engine(app)) as session:
        held = session.scalars(sa.select(Area).where(Area.process_id == vote.process_id)).all()
        process = session.get(Process, vote.process_id)
        preload(session, process)
        assert {id(a) for a in process.areas} == {id(a) for a in held}


def test_the_entry_read_answers_as_the_separate_reads(app: Any, make_process: Any) -> None:
    """Every kind of code, read with the limits in one statement, gives what
    ``look_up_code`` gives (the same refusal, or the same code and district), and the same
    hits and mixing state as the statements it replaces."""
    from pb.db import get_session
    from pb.security import hit_counts, limiter
    from pb.voting import codes, services

    vote = _districts(app, make_process)
    other = make_vote(app, make_process, slug="annan")
    bound, used, revoked = issue(app, vote, 3, area="Norra Fäladen")
    [free] = issue(app, vote)
    [elsewhere] = issue(app, other)
    typo = bound[:-1] + ("0" if bound[-1] != "0" else "1")
    texts = [bound, free, used, revoked, elsewhere, typo, "hello", codes.generate(), ""]
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        services.cast(session, process, used, ballot("n1", area="norra-faladen"), now())
        services.revoke_code(session, process, revoked, None)
        session.commit()
        limits = [(limiter("code.ip"), "10.0.0.1"), (limiter("code.all"), "all")]
        limiter("code.ip").hit("10.0.0.1")
        limiter("code.all").hit("all")
        for text in texts:
            entry = services.read_entry(session, process, text, limits, due=True)
            try:
                expected: Any = services.look_up_code(session, process, text)
            except Exception as exc:  # the refusal is what is compared
                expected = type(exc)
            try:
                got: Any = entry.code(process)
            except Exception as exc:  # the refusal is what is compared
                got = type(exc)
            assert got == expected, text
            assert entry.hits == hit_counts(*limits) == [1, 1]
            held, taken = session.execute(services._DUE, {"process": process.id}).one()
            assert (entry.held, entry.fingerprinted) == (held, bool(taken))
        assert services.read_entry(session, process, bound, limits).code(process).area == (
            "norra-faladen"
        )
        assert services.read_entry(session, process, None, limits).hits == [1, 1]


def test_mixing_is_due_after_the_cast_that_fills_a_batch(app: Any, vote: Vote) -> None:
    from pb.db import get_session
    from pb.security import limiter
    from pb.voting import services

    codes_ = issue(app, vote, services.MIX_BATCH + 1)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        services.ensure_fingerprint(session, process, now())
        limits = [(limiter("code.ip"), "x")]
        for i, code in enumerate(codes_[: services.MIX_BATCH]):
            entry = services.read_entry(session, process, code, limits, due=True)
            services.cast(session, process, code, ballot("p1"), now())
            session.commit()
            due = entry.mix_due_after_cast(process, now())
            full = i + 1 >= services.MIX_BATCH
            assert due == services.mix_is_due(session, process, now()) == full


def test_a_cast_request_reads_and_writes_little(app: Any, vote: Vote) -> None:
    """The statements of one cast through the ballot page: the process and its collections,
    the projects, one entry read, the code marked and the ballot held (one statement on
    PostgreSQL, two on SQLite). A lazy load or a second look-up creeping back fails this."""
    from pb.db import get_engine

    [code] = issue(app, vote)
    client = app.test_client()
    with statements(get_engine(app)) as seen:
        r = client.post(f"/p/{vote.slug}/vote/ballot?lang=en",
                        data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
    kinds = [s.split()[0].upper() for s in seen if s.split()[0].upper() != "PRAGMA"]
    # The first cast of a process also takes the rules' fingerprint afterwards (a
    # transaction of its own): only the casting transaction is counted.
    end = next(i for i, k in enumerate(kinds) if k in {"WITH", "INSERT"})
    first_cast = kinds[: end + 1]
    writes = [k for k in first_cast if k in {"UPDATE", "INSERT", "WITH"}]
    postgres = get_engine(app).dialect.name == "postgresql"
    assert writes == (["WITH"] if postgres else ["UPDATE", "INSERT"]), kinds
    reads = [k for k in first_cast if k == "SELECT"]
    assert len(reads) == 4, seen  # process, its collections, projects, the entry read


def test_two_casts_of_one_code_in_one_statement_each_give_one_ballot(
    app: Any, vote: Vote, db: Any
) -> None:
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import HeldBallot

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        assert services.cast(session, process, code, ballot("p1"), now())
        session.commit()
        with pytest.raises(services.CodeAlreadyUsed):
            # Past the look-up (as if it had read the code before the other cast committed).
            state = services.CodeState(
                services.codes.digest(services.pepper(), code),
                services.codes.normalize(code),
                None,
            )
            services.cast(session, process, code, ballot("p2"), now(), looked_up=state)
        session.rollback()
    assert db.scalar(sa.select(sa.func.count()).select_from(HeldBallot)) == 1


def test_templates_translate_in_the_locale_of_the_moment(app: Any) -> None:
    from flask import render_template_string
    from flask_babel import force_locale

    from pb.i18n import translations

    with app.test_request_context("/?lang=en"):
        assert render_template_string('{{ _("Menu") }}') == "Menu"
        with force_locale("sv"):
            assert render_template_string('{{ _("Menu") }}') == "Meny"
            assert translations().gettext("Menu") == "Meny"
        assert render_template_string('{{ _("Menu") }}') == "Menu"
        # Variables are still escaped (newstyle gettext).
        html = render_template_string('{{ _("%(x)s", x="<b>") }}')
        assert html == "&lt;b&gt;"
    with app.test_request_context("/?lang=sv"):
        assert re.search(r"\bMeny\b", render_template_string('{{ _("Menu") }}'))


@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("lang", ["sv", "en"])
def test_templates_gettext_answers_as_jinjas_own(app: Any, autoescape: bool, lang: str) -> None:
    """``_``, ``gettext`` and ``ngettext`` in templates are pb's own (pb.i18n.template_gettext,
    called directly): each answers exactly what Jinja's newstyle callables answer, with and
    without autoescaping (HTML pages, text mails)."""
    import jinja2

    from pb.i18n import translations

    jinjas = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=autoescape)
    jinjas.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        newstyle=True,
    )
    ours = app.jinja_env.overlay(autoescape=autoescape)
    sources = [
        '{{ _("Menu") }}',
        '{{ gettext("Log out") }} {{ _("Citizen budget") }}',
        '{{ _("100%% <b>sure</b>") }}',
        '{{ _("%(x)s and %(y)s", x="<i>", y=3) }}',
        '{{ _("Voting opens on %(date)s.", date="1 <maj>") }}',
        '{{ _("Unused %(x)s", x="a", z="b") }}',
        '{{ ngettext("%(num)d proposal", "%(num)d proposals", 1) }}',
        '{{ ngettext("%(num)d proposal", "%(num)d proposals", n) }}',
        '{{ ngettext("Chosen: %(num)s project, %(total)s.", "Chosen: %(num)s projects, '
        '%(total)s.", 2, total="<5 kr>") }}',
        "{% trans %}Menu{% endtrans %} {% trans n=n %}{{ n }} item{% pluralize %}{{ n }} "
        "items{% endtrans %}",
    ]
    with app.test_request_context(f"/?lang={lang}"):
        for source in sources:
            expected = jinjas.from_string(source).render(n=5)
            assert ours.from_string(source).render(n=5) == expected, source
        assert ours.from_string('{{ _("Menu") }}').render() == ("Meny" if lang == "sv" else "Menu")


def test_a_cast_checks_the_ballot_once(app: Any, vote: Vote, monkeypatch: Any) -> None:
    """The route checks the ballot (to show its problems) and the cast uses what that check
    gave, not a second run of the same rules; a cast without the route's check (paper
    entry, replacing) still checks it itself."""
    from pb.db import get_session
    from pb.voting import services

    real = services.check_ballot
    calls: list[Any] = []

    def counted(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return real(*args, **kwargs)

    monkeypatch.setattr(services, "check_ballot", counted)
    [code, other] = issue(app, vote, n=2)
    r = app.test_client().post(f"/p/{vote.slug}/vote/ballot?lang=en",
                               data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
    assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
    assert len(calls) == 1
    calls.clear()
    with app.test_request_context("/?lang=en"):
        session = get_session()
        assert services.cast(session, vote.process(session), other, ballot("p1"), now())
        session.rollback()
    assert len(calls) == 1
    calls.clear()
    # Breaking the rules still refuses, before anything is cast.
    r = app.test_client().post(f"/p/{vote.slug}/vote/ballot?lang=en",
                               data={"code": other, "pick": ["|p1", "|p1"], "action": "cast"})  # fmt: skip
    assert r.status_code == 400 and 'id="receipt"' not in r.get_data(as_text=True)


def test_a_cast_in_the_language_already_chosen_sends_no_cookie(app: Any, vote: Vote) -> None:
    """``?lang=`` on a ballot POST keeps the language for the pages after it; when the
    session holds that language already nothing changes, and the session cookie is not
    signed and sent again with the receipt."""
    codes_ = issue(app, vote, n=3)
    client = app.test_client()

    def cast(code: str, lang: str) -> Any:
        r = client.post(f"/p/{vote.slug}/vote/ballot?lang={lang}",
                        data={"code": code, "pick": ["|p1"], "action": "cast"})  # fmt: skip
        assert r.status_code == 200 and 'id="receipt"' in r.get_data(as_text=True)
        return r

    first = cast(codes_[0], "en")
    assert any(h.startswith("session=") for h in first.headers.getlist("Set-Cookie"))
    again = cast(codes_[1], "en")
    assert not again.headers.getlist("Set-Cookie")
    assert 'lang="en"' in client.get(f"/p/{vote.slug}/vote").get_data(as_text=True)
    switched = cast(codes_[2], "sv")
    assert any(h.startswith("session=") for h in switched.headers.getlist("Set-Cookie"))
    assert 'lang="sv"' in client.get(f"/p/{vote.slug}/vote").get_data(as_text=True)


def test_preload_leaves_a_session_with_unsaved_changes_to_lazy_loading(
    app: Any, make_process: Any
) -> None:
    from sqlalchemy.orm import Session

    from pb.db import get_engine
    from pb.processes.models import Area, Process
    from pb.processes.preload import preload

    vote = _districts(app, make_process)
    with Session(get_engine(app)) as session:
        process = session.get(Process, vote.process_id)
        session.add(Area(process_id=process.id, slug="ny", name="Ny", budget=1, position=9))
        preload(session, process)
        assert "ny" in [a.slug for a in process.areas]  # autoflushed, then loaded
        session.rollback()
