"""A voting code by e-mail in a real headless Chromium on a 390 px phone, in Swedish: the
rules and the address, the mailed link (through a real SMTP server on loopback), the
declaration, the mailed code's link to the ballot, the cast, and the receipt by e-mail."""

from __future__ import annotations

import re
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.voting.conftest import make_vote

pytestmark = pytest.mark.e2e


@pytest.fixture
def app_config(app_config: dict[str, Any], smtp_server: Any) -> dict[str, Any]:
    return {**app_config, "MAIL_PORT": smtp_server.port}


def _send(app: Any) -> None:
    from pb.mail.services import send_pending

    with app.app_context():
        assert send_pending().sent == 1


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_a_code_by_email_on_a_phone_in_swedish(
    browser: Any, live_server: str, app: Any, make_process: Any, smtp_server: Any
) -> None:
    vote = make_vote(app, make_process, slug="epost-e2e", code_channels=["school", "email"])
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{live_server}/p/{vote.slug}/vote?lang=sv")
    page.get_by_role("link", name="Ingen kod? Få en med mejl").click()
    expect(page.locator("main")).to_contain_text("Innan du röstar")
    _no_sideways_scroll(page)
    page.get_by_label("Din e-postadress").fill("karin@example.org")
    page.get_by_role("button", name="Skicka länken till mig").click()
    expect(page.locator("#email-sent")).to_contain_text("Vi skickar en länk till karin@example.org")
    _send(app)
    link = re.search(r"http://\S+", smtp_server.messages[0].get_content())
    assert link
    page.goto(live_server + link.group(0).split("127.0.0.1:5000", 1)[1])
    expect(page.get_by_label("Det som ger dig rätt att rösta")).to_be_visible()
    _no_sideways_scroll(page)
    page.get_by_label("Det som ger dig rätt att rösta").select_option("lives")
    page.get_by_label("Din ålder").select_option("16-17")
    page.get_by_label("Din e-postadress, en gång till").fill("karin@example.org")
    page.get_by_role("button", name="Skicka min röstkod till mig").click()
    expect(page.locator("h1")).to_contain_text("Din kod är på väg")
    _send(app)
    mail = smtp_server.messages[1].get_content()
    ballot_link = re.search(r"http://\S+/vote#\S+", mail)
    assert ballot_link and "Din röstkod" in smtp_server.messages[1]["Subject"]
    code = ballot_link.group(0).rsplit("#", 1)[1]
    page.goto(live_server + ballot_link.group(0).split("127.0.0.1:5000", 1)[1])
    expect(page.locator("#code")).to_have_value(code)
    page.get_by_role("button", name="Gå vidare till röstsedeln").click()
    page.get_by_label("Skatepark").check()
    page.get_by_role("button", name="Granska min röstsedel").click()
    page.get_by_role("button", name="Lägg min röst").click()
    expect(page.locator("h1")).to_contain_text("Tack, din röst är lagd")
    receipt = page.inner_text("#receipt").strip()
    _no_sideways_scroll(page)
    page.get_by_label("Adressen som din kod skickades till").fill("karin@example.org")
    page.get_by_role("button", name="Skicka kvittot till mig").click()
    expect(page.locator("#receipt-mailed")).to_contain_text("Vi skickar ditt kvitto")
    _send(app)
    assert receipt in smtp_server.messages[2].get_content()
    context.close()
    assert not errors, errors
