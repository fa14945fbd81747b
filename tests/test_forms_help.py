"""Forms help: the error summary links to each field and takes focus; inputs say what they
are for (autocomplete); the process form names each phase's dates, shows which fields each
ballot uses and makes locked parts look locked; your name in the header opens your page."""

from __future__ import annotations

import re
from typing import Any

import pytest

from pb import ROOT
from tests.conftest import login
from tests.processes.test_processes import form_data
from tests.proposals.helpers import make_proposal


@pytest.mark.parametrize("lang,heading,label", [("en", "Something needs fixing", "E-mail address"),
                                                ("sv", "Något behöver rättas", "E-postadress")])  # fmt: skip
def test_the_error_summary_links_to_each_field_and_takes_focus(
    client: Any, users: Any, lang: str, heading: str, label: str
) -> None:
    r = client.post(f"/account/login?lang={lang}", data={"email": "", "password": ""})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    summary = html[
        html.index('class="error-summary"') : html.index(
            "</div>", html.index('class="error-summary"')
        )
    ]
    assert "autofocus" in summary and 'tabindex="-1"' in summary and 'role="alert"' in summary
    assert heading in summary
    assert f'<a href="#email">{label}:' in summary and '<a href="#password">' in summary
    assert 'id="email"' in html and 'id="password"' in html  # the links land on the fields


def test_the_summary_reaches_fields_inside_sub_forms(client: Any, users: Any) -> None:
    login(client, "admin")
    data = form_data(max_projects="")
    data["phases-review-ends_at"] = data["phases-review-starts_at"]  # ends as it starts
    html = client.post("/admin/processes/new?lang=en", data=data).get_data(as_text=True)
    summary = html[html.index('class="error-summary"') :]
    assert '<a href="#max_projects">' in summary
    assert (
        '<a href="#phases-review-ends_at">Review: Ends: The end must come after the start.'
        in summary
    )
    assert 'id="phases-review-ends_at"' in html


@pytest.mark.parametrize("path,expected", [
    ("/account/register", {"email": "email"}),
    ("/account/login", {"email": "email", "password": "current-password"}),
])  # fmt: skip
def test_inputs_say_what_they_are_for(client: Any, users: Any, path: str,
                                      expected: dict[str, str]) -> None:  # fmt: skip
    html = client.get(path).get_data(as_text=True)
    for name, value in expected.items():
        tag = re.search(rf'<input[^>]*name="{name}"[^>]*>', html)
        assert tag is not None and f'autocomplete="{value}"' in tag.group(0), name


def test_password_fields_tell_new_from_current(client: Any, users: Any) -> None:
    login(client, "participant")
    html = client.get("/account/password").get_data(as_text=True)
    assert re.search(r'<input[^>]*autocomplete="current-password"[^>]*name="current"', html)
    assert len(re.findall(r'autocomplete="new-password"', html)) == 2


def test_the_registration_finish_asks_for_a_name_and_a_new_password(app: Any) -> None:
    from pb import tokens

    with app.test_request_context("/"):
        token = tokens.dumps("register", {"e": "new@example.org", "l": "sv"})
    html = app.test_client().get(f"/account/register/finish/{token}").get_data(as_text=True)
    assert 'autocomplete="name"' in html
    assert html.count('autocomplete="new-password"') == 2


@pytest.mark.parametrize("lang,starts,ends", [("en", "Proposals: starts", "Voting: ends"),
                                              ("sv", "Förslag: start", "Omröstning: slut")])  # fmt: skip
def test_phase_dates_carry_the_phases_name(
    client: Any, users: Any, lang: str, starts: str, ends: str
) -> None:
    login(client, "admin")
    html = client.get(f"/admin/processes/new?lang={lang}").get_data(as_text=True)
    assert f'aria-label="{starts}"' in html and f'aria-label="{ends}"' in html


def test_the_form_marks_the_fields_of_each_ballot(client: Any, users: Any) -> None:
    login(client, "admin")
    html = client.get("/admin/processes/new?lang=en").get_data(as_text=True)
    points = html.index('data-shown-for="ballot_type:cumulative"')
    assert (
        points
        < html.index('name="points_total"')
        < html.index("</div>", html.index('name="max_points_per_project"'))
    )
    assert 'data-shown-for="tie_break:lottery"' in html
    # Without JavaScript every field shows, each with its note; the script hides the others.
    assert "Only for a ballot with points." in html and "data-no-js-note" in html
    assert "/static/js/process-form.js" in html
    assert "data-shown-for" in (ROOT / "static" / "js" / "process-form.js").read_text()


@pytest.mark.parametrize("lang,note", [("en", "(locked)"), ("sv", "(låst)")])
def test_locked_fields_look_locked(client: Any, users: Any, make_process: Any, lang: str,
                                   note: str) -> None:  # fmt: skip
    make_process(slug="voting-now", running="voting")
    login(client, "admin")
    html = client.get(f"/admin/processes/voting-now/edit?lang={lang}").get_data(as_text=True)
    assert html.count('disabled class="locked"') == 7  # six parts of the contract and the picture
    assert html.count(note) == 7
    assert "process-form.js" not in html  # nothing to show or hide in a locked form
    assert "fieldset.locked" in (ROOT / "static" / "css" / "pb.css").read_text()


def test_your_name_opens_your_page(app: Any, users: Any, make_process: Any) -> None:
    process = make_process(slug="parker", running="proposals")
    mine = make_proposal(app, process, users["participant"], title="Bänkar vid ån")
    theirs = make_proposal(app, process, users["participant2"], title="Fler gungor")
    client = app.test_client()
    login(client, "participant")
    assert client.post(f"/p/parker/proposals/{theirs}/follow").status_code == 303
    home = client.get("/?lang=sv").get_data(as_text=True)
    assert '<a href="/account/">Participant</a>' in home
    page = client.get("/account/?lang=sv").get_data(as_text=True)
    assert "Din sida" in page and "participant@example.org" in page
    own = page[page.index('id="own-proposals"') : page.index('id="followed-proposals"')]
    assert f"/p/parker/proposals/{mine}" in own and "Bänkar vid ån" in own
    assert "Fler gungor" not in own
    followed = page[page.index('id="followed-proposals"') :]
    assert f"/p/parker/proposals/{theirs}" in followed
    assert 'href="/account/password"' in page and 'name="locale"' in page


@pytest.mark.parametrize("lang,done", [("en", "Saved. E-mails to you will be in this language."),
                                       ("sv", "Sparat. Mejl till dig kommer på det här språket.")])  # fmt: skip
def test_your_page_sets_the_language_of_your_mail(
    client: Any, users: Any, db: Any, lang: str, done: str
) -> None:
    login(client, "participant")
    r = client.post(f"/account/?lang={lang}", data={"locale": "en"})
    assert r.status_code == 303
    assert done in client.get(f"/account/?lang={lang}").get_data(as_text=True)
    from pb.accounts.models import User

    assert db.get(User, users["participant"].id).locale == "en"
    assert client.post("/account/", data={"locale": "xx"}).status_code == 400


def test_your_page_needs_a_login(client: Any) -> None:
    r = client.get("/account/")
    assert r.status_code in (302, 303) and "/account/login" in r.headers["Location"]
