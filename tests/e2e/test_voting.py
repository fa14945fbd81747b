"""The ballot in a real headless Chromium: from the QR link on a 390 px phone in Swedish
with JavaScript, and by keyboard alone without JavaScript in English; then the receipt."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.voting.conftest import Vote, issue, vote  # noqa: F401 - the vote fixture

pytestmark = pytest.mark.e2e


def _errors(page: Any) -> list[str]:
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("response", lambda r: errors.append(f"{r.status} {r.url}")
            if r.status >= 400 and r.request.resource_type != "document" else None)  # fmt: skip
    return errors


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= page.viewport_size["width"], width


def test_phone_in_swedish_from_the_qr_link(
    browser: Any,
    live_server: str,
    vote: Vote,  # noqa: F811
) -> None:
    [code] = issue(vote.app, vote)
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    errors = _errors(page)
    page.goto(f"{live_server}/p/{vote.slug}/vote?lang=sv#{code}")
    assert page.input_value("#code") == code
    assert "#" not in page.url  # the code left the address bar
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Gå vidare till röstsedeln").click()
    page.get_by_label("Skatepark").check()
    page.get_by_label("Utegym").check()
    assert "Kvar att använda: 120\u00a0000\u00a0kr" in page.inner_text(".totals")
    _no_sideways_scroll(page)
    page.get_by_role("button", name="Granska min röstsedel").click()
    assert "Granska din röstsedel" in page.inner_text("h1")
    page.get_by_role("button", name="Lägg min röst").click()
    assert "Tack, din röst är lagd" in page.inner_text("h1")
    receipt = page.inner_text("#receipt").strip()
    assert re.fullmatch(r"\S{4}-\S{4}-\S{4}-\S{4}-\S", receipt)
    _no_sideways_scroll(page)
    page.get_by_role("link", name="Kontrollera ditt kvitto").click()
    page.fill("#receipt", receipt.lower())
    page.get_by_role("button", name="Kontrollera").click()
    assert "Mottagen" in page.inner_text("#receipt-result")
    context.close()
    assert not errors, errors


def _tab_to(page: Any, selector: str) -> None:
    for _ in range(120):
        page.keyboard.press("Tab")
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return
    raise AssertionError(f"Tab never reached {selector}")


def test_keyboard_only_without_javascript_in_english(
    browser: Any,
    live_server: str,
    vote: Vote,  # noqa: F811
) -> None:
    [code] = issue(vote.app, vote)
    context = browser.new_context(locale="en-GB", java_script_enabled=False,
                                  viewport={"width": 1000, "height": 900})  # fmt: skip
    page = context.new_page()
    errors = _errors(page)
    page.goto(f"{live_server}/p/{vote.slug}/vote?lang=en")
    _tab_to(page, "#code")
    page.keyboard.type(code.replace("-", " ").lower())
    page.keyboard.press("Enter")
    page.wait_for_selector("h1:has-text('Your ballot')")
    for project in ("p1", "p2", "p3"):  # over the budget on purpose
        _tab_to(page, f"#p-all-{project}")
        page.keyboard.press("Space")
    _tab_to(page, "button[value=check]")
    page.keyboard.press("Enter")
    page.wait_for_selector(".totals")
    totals = page.inner_text(".totals")
    assert (
        "Chosen: 3 projects, SEK\u00a0360,000. SEK\u00a060,000 over the budget of SEK\u00a0300,000."
        in totals
    )
    assert "-60,000" not in totals
    _tab_to(page, "button[value=review]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#ballot-problems")
    assert "more than the SEK\u00a0300,000" in page.inner_text("#ballot-problems")
    _tab_to(page, "#p-all-p3")
    page.keyboard.press("Space")  # untick: now within the budget
    _tab_to(page, "button[value=review]")
    page.keyboard.press("Enter")
    page.wait_for_selector("#cast")
    _tab_to(page, "#cast")
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt")
    receipt = page.inner_text("#receipt").strip()
    page.goto(f"{live_server}/p/{vote.slug}/receipt?lang=en")
    _tab_to(page, "#receipt")
    page.keyboard.type(receipt)
    page.keyboard.press("Enter")
    page.wait_for_selector("#receipt-result")
    assert "Received" in page.inner_text("#receipt-result")
    context.close()
    assert not errors, errors


def test_the_language_switch_keeps_the_ballot_and_the_receipt(
    browser: Any,
    live_server: str,
    vote: Vote,  # noqa: F811
) -> None:
    """The header's language button on the ballot, the review and the receipt (pages that
    answer a POST) brings the same page back in the other language: a box ticked a moment
    ago, the code and the receipt shown once are all kept, and none reaches the address."""
    [code] = issue(vote.app, vote)
    context = browser.new_context(locale="sv-SE", viewport={"width": 390, "height": 844},
                                  is_mobile=True, has_touch=True)  # fmt: skip
    page = context.new_page()
    errors = _errors(page)
    page.goto(f"{live_server}/p/{vote.slug}/vote#{code}")
    page.get_by_role("button", name="English").click()  # the code is only in the field
    assert page.input_value("#code") == code and "Your voting code" in page.inner_text("main")
    page.get_by_role("button", name="Svenska").click()
    assert page.input_value("#code") == code and code not in page.url
    page.get_by_role("button", name="Gå vidare till röstsedeln").click()
    page.get_by_label("Skatepark").check()  # ticked, not yet sent
    assert "Valda: 1 projekt, 120\u00a0000\u00a0kr." in page.inner_text(".totals")
    page.get_by_role("button", name="English").click()
    assert page.inner_text("h1") == "Your ballot"
    assert page.get_by_label("Skatepark").is_checked()
    assert not page.get_by_label("Utegym").is_checked()
    assert "Chosen: 1 project, SEK\u00a0120,000." in page.inner_text(".totals")  # the server's
    page.get_by_label("Fritidsgård").check()
    page.get_by_label("Musikstudio").check()  # 360,000: over the budget (the script's words)
    totals = page.inner_text(".totals")
    assert (
        "Chosen: 3 projects, SEK\u00a0360,000. SEK\u00a060,000 over the budget of SEK\u00a0300,000."
        in totals
    )
    page.get_by_label("Fritidsgård").uncheck()
    page.get_by_label("Musikstudio").uncheck()
    assert (
        "Chosen: 1 project, SEK\u00a0120,000. Left to spend: SEK\u00a0180,000"
        in page.inner_text(".totals")
    )
    page.get_by_label("Utegym").check()
    page.get_by_role("button", name="Review my ballot").click()
    page.get_by_role("button", name="Svenska").click()
    assert "Granska din röstsedel" in page.inner_text("h1")
    assert "Skatepark" in page.inner_text("main") and "Utegym" in page.inner_text("main")
    page.get_by_role("button", name="Lägg min röst").click()
    receipt = page.inner_text("#receipt").strip()
    page.get_by_role("button", name="English").click()
    assert "Thank you, your ballot is cast" in page.inner_text("h1")
    assert page.inner_text("#receipt").strip() == receipt
    assert code not in page.url and receipt not in page.url
    _no_sideways_scroll(page)
    context.close()
    assert not errors, errors


def test_a_qr_link_without_javascript_says_to_type_the_code(
    browser: Any,
    live_server: str,
    vote: Vote,  # noqa: F811
) -> None:
    """The code of a QR link is in the fragment, which only the page's script can read:
    without JavaScript the page says so and asks for the code to be typed."""
    [code] = issue(vote.app, vote)
    hint = "Kom du hit från QR-koden? Utan JavaScript kan koden i länken inte fyllas i"
    for javascript in (False, True):
        context = browser.new_context(locale="sv-SE", java_script_enabled=javascript)
        page = context.new_page()
        page.goto(f"{live_server}/p/{vote.slug}/vote?lang=sv#{code}")
        assert page.input_value("#code") == (code if javascript else "")
        assert (hint in page.inner_text("main")) is not javascript
        assert "det sista tecknet kan också vara * ~ $ eller =" in page.inner_text("#code-hint")
        context.close()
