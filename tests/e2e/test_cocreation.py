"""Co-creation in a real browser: citizens propose, support and discuss ideas; officials
moderate and review them in the open (issue #4).

Each person has a browser context of their own (their own cookies), like people at
different computers. Every page they open must load without console errors or failed
sub-resources (the same rule as the ``page`` fixture in conftest.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest

LINK = "https://lund.se/stadsparken"


class People:
    """Opens one browser context per person and checks, at the end, that no page
    reported an error."""

    def __init__(self, browser: Any, base: str) -> None:
        self.browser = browser
        self.base = base
        self.contexts: list[Any] = []
        self.errors: list[str] = []

    def open(self, key: str | None, *, locale: str = "sv-SE", js: bool = True) -> Any:
        context = self.browser.new_context(
            locale=locale, java_script_enabled=js, viewport={"width": 1100, "height": 900}
        )
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        page = context.new_page()
        errors = self.errors
        page.on("pageerror", lambda exc: errors.append(f"{key}: {exc}"))
        page.on(
            "console",
            lambda msg: (
                errors.append(f"{key}: {msg.text}")
                if msg.type == "error" and "Failed to load resource" not in msg.text
                else None
            ),
        )
        page.on(
            "response",
            lambda r: (
                errors.append(f"{key}: {r.status} {r.url}")
                if r.status >= 400 and r.request.resource_type != "document"
                else None
            ),
        )
        if key is not None:
            email_label, password_label, button = (
                ("E-postadress", "Lösenord", "Logga in")
                if locale.startswith("sv")
                else ("E-mail address", "Password", "Log in")
            )
            page.goto(f"{self.base}/account/login")
            page.get_by_label(email_label).fill(f"{key}@example.org")
            page.get_by_label(password_label).fill(f"password-{key}")
            page.get_by_role("button", name=button).click()
            page.wait_for_url(f"{self.base}/")
        return page

    def close(self) -> None:
        for context in self.contexts:
            context.close()


@pytest.fixture
def people(browser: Any, live_server: str) -> Iterator[People]:
    crowd = People(browser, live_server)
    yield crowd
    crowd.close()
    assert not crowd.errors, f"the browser reported errors: {crowd.errors}"


def _existing_proposal(app: Any, users: Any, slug: str, title: str) -> int:
    """A proposal someone else published earlier (for the similar-title hint)."""
    from pb.db import get_session, utcnow
    from pb.processes.services import get_by_slug
    from pb.proposals import services

    with app.app_context():
        db = get_session()
        process = get_by_slug(db, slug)
        assert process is not None
        fields = services.ProposalFields(
            title=title,
            description="Gungor och sandlåda.",
            cost_estimate=300_000,
            consent=True,
            area_id=process.areas[0].id if process.areas else None,
        )
        proposal = services.create(db, process, users["participant2"], fields, publish=True,
                                   limit=5, now=utcnow())  # fmt: skip
        db.commit()
        return proposal.id


def _proposal_id(url: str) -> int:
    m = re.search(r"/proposals/(\d+)$", url.split("#")[0])
    assert m, url
    return int(m.group(1))


def test_proposal_from_idea_to_ballot_in_swedish(
    app: Any, people: People, live_server: str, users: Any, make_process: Any
) -> None:
    base = live_server
    make_process(slug="stadsparken", running="proposals")
    earlier = _existing_proposal(app, users, "stadsparken", "Lekplats i Stadsparken")

    # -- a participant proposes an idea; the similar-title hint appears while typing ------
    author = people.open("participant")
    author.goto(f"{base}/p/stadsparken")
    author.get_by_role("link", name="Lämna ett förslag").first.click()
    author.wait_for_url(f"{base}/p/stadsparken/proposals/new")
    author.get_by_label("Rubrik", exact=True).press_sequentially(
        "Ny lekplats i Stadsparken", delay=10
    )
    hint = author.locator("#similar")
    hint.get_by_role("link", name="Lekplats i Stadsparken").wait_for()
    assert "Det finns redan liknande förslag" in hint.inner_text()
    assert hint.get_by_role("link").get_attribute("href") == (f"/p/stadsparken/proposals/{earlier}")
    author.get_by_label("Beskrivning", exact=True).fill(
        f"En lekplats för mindre barn vid dammen.\n\nSe kartan: {LINK}"
    )
    author.get_by_label("Kategori", exact=True).select_option(label="Parker")
    author.get_by_label("Område", exact=True).select_option(label="Norra Fäladen")
    author.get_by_label("Din kostnadsuppskattning (kr)").fill("45 000 kr")
    author.get_by_label("Jag godkänner att mitt förslag publiceras").check()
    author.get_by_role("button", name="Publicera", exact=True).click()
    author.wait_for_url(re.compile(r"/p/stadsparken/proposals/\d+$"))
    pid = _proposal_id(author.url)
    url = f"{base}/p/stadsparken/proposals/{pid}"
    assert "Tack! Ditt förslag är publicerat." in author.content()
    assert author.get_by_role("heading", name="Ny lekplats i Stadsparken").is_visible()
    link = author.locator(".description a")
    assert link.get_attribute("href") == LINK
    assert link.get_attribute("rel") == "nofollow ugc noopener"
    meta = author.locator(".proposal .meta").inner_text()
    assert "Parker" in meta and "Norra Fäladen" in meta and "Öppet för stöd" in meta
    assert "45\u00a0000\u00a0kr" in author.locator("dl.facts").first.inner_text()

    # -- another participant supports it, comments and reports it --------------------------
    neighbour = people.open("participant2")
    neighbour.goto(f"{base}/p/stadsparken/proposals")
    neighbour.get_by_role("link", name="Ny lekplats i Stadsparken").click()
    neighbour.wait_for_url(url)
    neighbour.get_by_role("button", name="Stöd förslaget").click()
    neighbour.wait_for_url(f"{url}#support")
    assert "Du stöder förslaget." in neighbour.content()
    assert neighbour.locator(".support-count").inner_text() == "1 person stöder förslaget."
    assert neighbour.get_by_role("button", name="Ta tillbaka mitt stöd").is_visible()
    neighbour.get_by_label("Din kommentar").fill(
        "Bra idé! Gärna med skugga, ring mig på 0701234567."
    )
    neighbour.get_by_role("button", name="Publicera kommentar").click()
    neighbour.wait_for_url(f"{url}#comments")
    assert "Din kommentar är publicerad." in neighbour.content()
    neighbour.get_by_role("link", name="Anmäl förslaget").click()
    neighbour.get_by_label("Hör inte hit: handlar inte om den här medborgarbudgeten").check()
    neighbour.get_by_label("Något som moderatorerna bör veta (frivilligt)").fill("Finns redan.")
    neighbour.get_by_role("button", name="Skicka anmälan").click()
    neighbour.wait_for_url(url)
    assert "Tack. Någon på kommunen tittar på din anmälan." in neighbour.content()

    # -- the author replies, and reports the comment (it has a phone number in it) --------
    author.goto(url)
    comment = author.locator("ol.comments > li").first
    assert "Bra idé!" in comment.inner_text()
    comment.locator("details.reply summary").click()
    comment.get_by_label("Ditt svar").fill("Tack! Skugga är med i förslaget.")
    comment.get_by_role("button", name="Publicera svar").click()
    author.wait_for_url(f"{url}#comments")
    reply = author.locator("ol.comments > li ol.replies article").first
    assert "Skugga är med i förslaget." in reply.inner_text()
    assert "Participant" in reply.locator("header").inner_text()
    author.locator("ol.comments > li > article.comment").get_by_role("link", name="Anmäl").click()
    author.get_by_label("Kränkande, hotfullt eller hatiskt").check()
    author.get_by_role("button", name="Skicka anmälan").click()
    author.wait_for_url(url)

    # -- the official of the process moderates: keeps the proposal, hides the comment -----
    official = people.open("official")
    official.goto(f"{base}/moderation")
    official.get_by_role("link", name="Parker 2027").click()
    official.wait_for_url(f"{base}/p/stadsparken/moderation")
    reported = official.locator("#reported")
    assert "Finns redan." in reported.inner_text()
    item = reported.locator(f"#proposal-{pid}")
    item.get_by_label("Skäl (den som skrev det ser det)").fill("Förslaget hör till processen.")
    item.get_by_role("button", name="Låt det vara kvar och stäng anmälningarna").click()
    official.wait_for_url(re.compile(r"/moderation#proposal-\d+$"))
    item = official.locator("#reported li.queue-item", has_text="Bra idé!")
    item.get_by_label("Skäl (den som skrev det ser det)").fill("Inga telefonnummer i kommentarer.")
    item.get_by_role("button", name="Dölj").click()
    official.wait_for_url(re.compile(r"/moderation#comment-\d+$"))
    assert "Dolt. Den som skrev det kan se skälet." in official.content()
    assert "Inga telefonnummer" in official.locator("#hidden").inner_text()

    # -- and reviews it in the open: feasible, official cost, answer; onto the ballot -----
    official.goto(url)
    official.get_by_role("link", name="Granska förslaget", exact=True).click()
    official.wait_for_url(f"{base}/p/stadsparken/review/{pid}")
    official.get_by_label("Går det att göra?", exact=True).select_option(label="Går att göra")
    official.get_by_label("Kostnad enligt kommunen (kr)").fill("52 000")
    official.get_by_label("Offentligt svar", exact=True).fill(
        "Vi kan bygga den vid dammen nästa vår."
    )
    official.get_by_label("Ta med på röstsedeln (med kommunens kostnad)").check()
    official.get_by_role("button", name="Spara", exact=True).click()
    official.wait_for_url(url)
    assert "Granskningen är sparad." in official.content()

    # -- everyone sees the answer, the history and the decision ---------------------------
    visitor = people.open(None)
    visitor.goto(url)
    assert "På röstsedeln" in visitor.locator(".proposal .meta").inner_text()
    answer = visitor.locator("#answer").inner_text()
    for text in ("Går att göra", "52\u00a0000\u00a0kr", "Vi kan bygga den vid dammen nästa vår."):
        assert text in answer, text
    history = visitor.locator("#history li").all_inner_texts()
    assert [h.split(": ", 1)[1].strip() for h in history] == [
        "Inskickat",
        "Kom med på röstsedeln",
    ]
    assert "1 person stöder förslaget." in visitor.content()
    # The hidden comment is gone for others, reason and all; the reply stays.
    comments = visitor.locator("#comments").inner_text()
    assert "En moderator har dolt den här kommentaren." in comments
    assert "0701234567" not in comments and "telefonnummer" not in comments
    assert "Skugga är med i förslaget." in comments
    # Decided proposals are closed for support and comments.
    assert visitor.get_by_role("button", name="Stöd förslaget").count() == 0
    assert "Det går inte längre att kommentera." in comments

    # -- the comment's author sees that it is hidden, and why -----------------------------
    neighbour.goto(url)
    mine = neighbour.locator("ol.comments > li > article.comment").first
    text = mine.inner_text()
    assert "Dold av en moderator. Bara du och tjänstepersonerna ser den." in text
    assert "Skäl: Inga telefonnummer i kommentarer." in text
    assert "0701234567" in text

    # -- the open data carries the decision but not the author --------------------------
    data = visitor.request.get(f"{base}/api/v1/proposals/{pid}").json()["data"]
    assert data["status"] == "accepted" and data["official_cost"] == 52_000
    assert data["project_code"] == str(pid)
    assert "author" not in data and "participant@example.org" not in str(data)


def test_official_of_another_process_cannot_review(
    people: People, live_server: str, users: Any, make_process: Any
) -> None:
    base = live_server
    make_process(slug="gator", running="proposals")
    author = people.open("participant")
    author.goto(f"{base}/p/gator/proposals/new")
    author.get_by_label("Rubrik", exact=True).fill("Cykelställ vid stationen")
    author.get_by_label("Beskrivning", exact=True).fill("Fler cykelställ.")
    author.get_by_label("Kategori", exact=True).select_option(label="Gator")
    author.get_by_label("Område", exact=True).select_option(label="Norra Fäladen")
    author.get_by_label("Din kostnadsuppskattning (kr)").fill("80000")
    author.get_by_label("Jag godkänner att mitt förslag publiceras").check()
    author.get_by_role("button", name="Publicera", exact=True).click()
    author.wait_for_url(re.compile(r"/p/gator/proposals/\d+$"))
    pid = _proposal_id(author.url)
    # A participant and an official who is not assigned get a page that says why.
    for key in ("participant", "other_official"):
        pg = author if key == "participant" else people.open(key)
        response = pg.goto(f"{base}/p/gator/review/{pid}")
        assert response is not None and response.status == 403, key
        assert "inte tjänsteperson i den här processen" in pg.content(), key
        assert pg.get_by_role("link", name="Granska förslaget", exact=True).count() == 0
        pg.goto(f"{base}/p/gator/proposals/{pid}")
        assert pg.get_by_role("link", name="Granska förslaget", exact=True).count() == 0


def test_proposal_without_javascript_in_english(
    app: Any, people: People, live_server: str, users: Any, make_process: Any
) -> None:
    base = live_server
    make_process(slug="parks", running="proposals")
    earlier = _existing_proposal(app, users, "parks", "Benches along the river path")

    author = people.open("participant", locale="en-GB", js=False)
    author.goto(f"{base}/p/parks/proposals/new")
    assert author.get_by_role("heading", name="Propose an idea").is_visible()
    author.get_by_label("Title", exact=True).fill("More benches along the river path")
    author.get_by_label("Description", exact=True).fill(f"Benches every 100 metres. Map: {LINK}")
    author.get_by_label("Category", exact=True).select_option(label="Parks")
    author.get_by_label("Area", exact=True).select_option(label="Klostergården")
    # Forgetting the cost and the consent: the server answers with the form, the input
    # kept, and the similar proposals it found (no JavaScript needed for that either).
    author.get_by_role("button", name="Publish", exact=True).click()
    assert author.get_by_role("alert").first.is_visible()
    assert (
        author.get_by_label("Title", exact=True).input_value()
        == "More benches along the river path"
    )
    assert "Give your cost estimate." in author.content()
    similar = author.locator("#similar")
    assert "Similar proposals already exist" in similar.inner_text()
    assert similar.get_by_role("link").get_attribute("href") == f"/p/parks/proposals/{earlier}"
    # Save a draft first; then publish it from the edit form.
    author.get_by_label("Your cost estimate (SEK)").fill("30,000")
    author.get_by_role("button", name="Save draft").click()
    author.wait_for_url(re.compile(r"/p/parks/proposals/\d+$"))
    assert "Your draft is saved. Only you can see it." in author.content()
    pid = _proposal_id(author.url)
    url = f"{base}/p/parks/proposals/{pid}"
    author.get_by_role("link", name="Edit").click()
    author.get_by_label("I agree that my proposal, with my name, is published").check()
    author.get_by_role("button", name="Publish", exact=True).click()
    author.wait_for_url(url)
    assert "Thank you! Your proposal is published." in author.content()
    assert author.locator(".description a").get_attribute("href") == LINK

    # An official answers in English and turns it down with reasons.
    official = people.open("official", locale="en-GB", js=False)
    official.goto(f"{base}/p/parks/review/{pid}")
    official.get_by_label("Feasibility", exact=True).select_option(label="Not feasible")
    official.get_by_label("Public answer", exact=True).fill("The path floods every spring.")
    official.get_by_label("Reject (the public answer explains why)").check()
    official.get_by_role("button", name="Save", exact=True).click()
    official.wait_for_url(url)

    author.goto(url)
    assert "Not on the ballot" in author.locator(".proposal .meta").inner_text()
    answer = author.locator("#answer").inner_text()
    assert "Not feasible" in answer and "The path floods every spring." in answer
    history = [h.split(": ", 1)[1].strip() for h in author.locator("#history li").all_inner_texts()]
    assert history == ["Submitted", "Not accepted onto the ballot"]
    assert author.get_by_role("link", name="Edit").count() == 0


def test_a_long_unbroken_title_does_not_widen_the_list_on_a_phone(
    app: Any, browser: Any, live_server: str, users: Any, make_process: Any
) -> None:
    """A pasted address or a long compound word in a title wraps inside its card: the list
    does not scroll sideways at 390 px (second probe, finding 9: it was 413 px wide)."""
    make_process(slug="parks", running="proposals")
    _existing_proposal(app, users, "parks",
                       "Cykelparkeringsutbyggnadsprogram" + "https://lund.se/" + "x" * 60)  # fmt: skip
    context = browser.new_context(viewport={"width": 390, "height": 844})
    try:
        page = context.new_page()
        page.goto(f"{live_server}/p/parks/proposals")
        assert page.get_by_text("Cykelparkeringsutbyggnadsprogram").first.is_visible()
        assert page.evaluate("document.documentElement.scrollWidth") <= 390
    finally:
        context.close()
