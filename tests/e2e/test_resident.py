"""The resident's way through (issue #11), in a real headless Chromium on the demo data: every
public page, and the participant's, voter's, official's and admin's journeys, on a 390 px
phone and a 1280 px desktop, in Swedish and English. Each page fails the test when

- it scrolls sideways (``scrollWidth > clientWidth``),
- the home or a process page has no action button above the fold,
- axe-core finds a violation of serious or critical impact,
- a heading skips a level (an h2 followed by an h4, or no h1 first),
- the browser reports an error (a Content-Security-Policy refusal among them).

axe-core comes from npm (tests/e2e/axe/package.json, pinned; installed by `axe_installed()` or `.ci/run`), never a
CDN. Screenshots of every page go to test-artifacts/resident/ (gitignored).
"""

from __future__ import annotations

import fcntl
import itertools
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.conftest import ARTIFACTS

pytestmark = pytest.mark.e2e

AXE = Path(__file__).resolve().parent / "axe" / "node_modules" / "axe-core" / "axe.min.js"
SHOTS = ARTIFACTS / "resident"


def axe_installed() -> bool:
    """axe-core is on disk; installed here once with `npm ci` (the pinned lock) when it is not.

    The README's test command stays one command: the first browser test to need axe-core runs
    `npm ci --prefix tests/e2e/axe` under a file lock (pytest-xdist workers may arrive together).
    """
    if AXE.is_file():
        return True
    npm = shutil.which("npm")
    if npm is None:
        return False
    folder = AXE.parents[2]
    with open(folder / ".install.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not AXE.is_file():
            subprocess.run(
                [npm, "ci", "--prefix", str(folder), "--no-audit", "--no-fund", "--loglevel=error"],
                check=False,
                timeout=300,
            )
    return AXE.is_file()


LUND = "lund-parker-och-gator-2027"
DALBY = "ungdomsbudget-dalby-2026"
VARIANTS = [
    ("sv", {"width": 390, "height": 844}),
    ("en", {"width": 390, "height": 844}),
    ("sv", {"width": 1280, "height": 800}),
    ("en", {"width": 1280, "height": 800}),
]
ADMIN = ("admin@demo.lund.example", "demo-admin-2027")
OFFICIAL = ("tjansteperson@demo.lund.example", "demo-official-2027")
PARTICIPANT = ("invanare@demo.lund.example", "demo-citizen-2027")

# The page's headings in order, as levels; the size of the document against the window.
HEADINGS_JS = """() => [...document.querySelectorAll('h1,h2,h3,h4,h5,h6')]
  .filter(h => !h.closest('[hidden]'))
  .map(h => [Number(h.tagName[1]), h.textContent.trim().slice(0, 60)])"""
WIDTH_JS = "() => [document.documentElement.scrollWidth, document.documentElement.clientWidth]"
AXE_RUN_JS = """async () => {
  const r = await axe.run(document, {resultTypes: ['violations']});
  return r.violations.filter(v => v.impact === 'serious' || v.impact === 'critical')
    .map(v => v.id + ' (' + v.impact + '): ' + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', '));
}"""


def heading_skips(levels: list[list[Any]]) -> list[str]:
    """Where a page's headings skip a level; the first heading must be the h1."""
    if not levels:
        return ["no heading at all"]
    problems = [] if levels[0][0] == 1 else [f"first heading is h{levels[0][0]}: {levels[0][1]!r}"]
    for (before, _), (level, text) in itertools.pairwise(levels):
        if level > before + 1:
            problems.append(f"h{before} then h{level}: {text!r}")
    return problems


def test_heading_check_catches_a_skipped_level() -> None:
    assert heading_skips([[1, "a"], [2, "b"], [3, "c"], [2, "d"], [3, "e"]]) == []
    assert heading_skips([[1, "a"], [3, "b"]]) == ["h1 then h3: 'b'"]
    assert heading_skips([[2, "a"]]) == ["first heading is h2: 'a'"]


def test_axe_reports_a_serious_violation(browser: Any) -> None:
    """The axe check can fail: an image without a text alternative is a critical violation."""
    assert axe_installed(), f"axe-core is missing at {AXE}: run `npm ci --prefix tests/e2e/axe`"
    context = browser.new_context()
    page = context.new_page()
    page.set_content('<html lang="en"><title>t</title><main><h1>t</h1><img src="x.png"></main>')
    page.evaluate(AXE.read_text(encoding="utf-8") + "\n;0")
    found = page.evaluate(AXE_RUN_JS)
    context.close()
    assert any(v.startswith("image-alt (critical)") for v in found), found


class Walk:
    """One browser context (a language and a window size) that checks every page it opens."""

    def __init__(self, browser: Any, base: str, lang: str, viewport: dict[str, int]) -> None:
        self.base = base
        self.lang = lang
        self.viewport = viewport
        self.tag = f"{lang}-{viewport['width']}"
        self.context = browser.new_context(
            locale="sv-SE" if lang == "sv" else "en-GB", viewport=viewport
        )
        self.page = self.context.new_page()
        self.failures: list[str] = []
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.on(
            "console",
            lambda m: (
                self.errors.append(m.text)
                if m.type == "error" and "Failed to load resource" not in m.text
                else None
            ),
        )
        self.axe = AXE.read_text(encoding="utf-8")
        self.n = 0

    def go(self, path: str, name: str, action: str | None = None) -> Any:
        self.page.goto(self.base + path)
        return self.check(name, action)

    def check(self, name: str, action: str | None = None) -> Any:
        """Check the page now shown; ``action`` is a selector that must be visible above the fold."""
        page = self.page
        page.wait_for_load_state("load")
        self.n += 1
        where = f"[{self.tag}] {name} ({page.url.removeprefix(self.base)})"
        page.screenshot(
            path=str(SHOTS / f"{self.tag}-{self.n:02d}-{name}.jpeg"), full_page=True, quality=70
        )
        scroll, client = page.evaluate(WIDTH_JS)
        if scroll > client:
            self.failures.append(f"{where}: scrolls sideways ({scroll} px in {client} px)")
        for problem in heading_skips(page.evaluate(HEADINGS_JS)):
            self.failures.append(f"{where}: heading {problem}")
        if action is not None:
            box = (
                page.locator(action).first.bounding_box() if page.locator(action).count() else None
            )
            if box is None or box["y"] + box["height"] > self.viewport["height"]:
                self.failures.append(f"{where}: no action ({action}) above the fold: {box}")
        page.evaluate(self.axe + "\n;0")
        for violation in page.evaluate(AXE_RUN_JS):
            self.failures.append(f"{where}: axe {violation}")
        if self.errors:
            self.failures.append(f"{where}: browser errors {self.errors}")
            self.errors.clear()
        return page

    def login(self, who: tuple[str, str]) -> None:
        self.context.clear_cookies()
        self.page.goto(self.base + "/account/login")
        self.page.fill("#email", who[0])
        self.page.fill("#password", who[1])
        self.page.locator("main button[type=submit]").click()
        self.page.wait_for_url(self.base + "/")

    def close(self) -> list[str]:
        self.context.close()
        return self.failures


@pytest.fixture
def demo(app: Any) -> dict[str, Any]:
    """The demo's data, plus one voting code for each walk and the proposal ids."""
    import sqlalchemy as sa

    from pb import tokens
    from pb.accounts.models import User
    from pb.db import get_session, utcnow
    from pb.demo import load_demo
    from pb.processes.models import CodeChannel
    from pb.processes.services import get_by_slug
    from pb.proposals.models import Proposal, ProposalStatus
    from pb.voting import services as voting

    with app.app_context():
        load_demo()
        session = get_session()
        dalby = get_by_slug(session, DALBY)
        lund = get_by_slug(session, LUND)
        assert dalby is not None and lund is not None
        admin = session.scalar(sa.select(User).where(User.email == ADMIN[0]))
        # Dalby hands out codes at school and the library; for this walk, by e-mail too.
        dalby.code_channels = [*dalby.code_channels, CodeChannel.EMAIL.value]
        link = tokens.dumps("voting-email", {"p": dalby.id, "k": "not-this-address"})
        codes = voting.issue_codes(
            session, dalby, count=len(VARIANTS), channel=CodeChannel.SCHOOL,
            purpose="browser test", actor=admin, now=utcnow(),
        ).codes  # fmt: skip
        proposal = session.scalar(
            sa.select(Proposal.id).where(
                Proposal.process_id == lund.id, Proposal.status != ProposalStatus.DRAFT,
                Proposal.hidden.is_(False),
            ).order_by(Proposal.id)
        )  # fmt: skip
        session.commit()
    return {"codes": list(codes), "proposal": proposal, "link": link}


def _public(w: Walk, proposal: int) -> None:
    w.go("/", "home", action=".card-action .button")
    w.go(f"/p/{LUND}", "process-lund", action="#action .button")
    w.go(f"/p/{DALBY}", "process-dalby", action="#action .button")
    w.go(f"/p/{LUND}/proposals", "proposals")
    w.go(f"/p/{LUND}/proposals?status=all&q=zzzz", "proposals-none-match")
    w.go(f"/p/{DALBY}/proposals", "proposals-none-yet")
    w.go(f"/p/{LUND}/proposals/{proposal}", "proposal")
    w.go(f"/p/{DALBY}/results", "results")
    w.go(f"/p/{DALBY}/receipt", "receipt-check")
    w.go("/account/login", "login")
    w.go("/account/register", "register")


def _voter(w: Walk, code: str) -> None:
    page = w.go(f"/p/{DALBY}", "vote-0-process", action="#action .button")
    page.locator("#action .button").click()
    w.check("vote-1-code")
    page.fill("#code", code)
    page.locator(".code-form button[type=submit]").click()
    w.check("vote-2-ballot")
    page.locator(".project-card input[type=checkbox]").first.check()
    page.locator("button[value=review]").click()
    w.check("vote-3-check-your-answers")
    page.locator("#cast").click()
    page.wait_for_selector("#receipt")
    w.check("vote-4-receipt")


def _email(w: Walk, address: str, link: str) -> None:
    """A code by e-mail: the start page, one question a page (one with an error), check your
    answers, the link sent; the mailed link with answers for another address, and in a
    browser without answers."""
    page = w.go(f"/p/{DALBY}/vote/email", "email-0-start", action="#start")
    page.locator("#start").click()
    w.check("email-1-connection")
    submit = page.locator("main form button[type=submit]")
    submit.click()  # nothing chosen
    w.check("email-1-connection-error")
    page.locator("input[name=answer]").first.check()
    submit.click()
    w.check("email-2-age")
    page.locator("input[name=answer][value='16-17']").check()
    submit.click()
    w.check("email-3-address")
    page.fill("#answer", address)
    submit.click()
    w.check("email-4-check-your-answers")
    page.locator("#send").click()
    page.wait_for_selector("#email-sent")
    w.check("email-5-sent")
    w.go(f"/p/{DALBY}/vote/email/{link}", "email-6-link-other-address")
    w.context.clear_cookies()
    w.go(f"/p/{DALBY}/vote/email/{link}", "email-7-link-no-answers")


def _participant(w: Walk, first: bool) -> None:
    w.login(PARTICIPANT)
    page = w.go(f"/p/{LUND}", "participant-process", action="#action .button")
    page.locator("#action .button").click()
    w.check("participant-new-proposal")
    if first:  # one proposal for all walks: the per-person limit stays far away
        page.fill("#title", "Fler bänkar längs Höjeå")
        page.fill("#description", "Bänkar var hundrade meter längs promenadstråket vid Höjeå.")
        for select in ("#area", "#category"):
            if page.locator(select).count():
                page.locator(select).select_option(index=1)
        page.fill("#cost_estimate", "40000")
        page.check("#consent")
        page.locator("button[value=publish]").click()
        page.wait_for_url(re.compile(r".*/proposals/\d+$"))
    else:
        page.goto(f"{w.base}/p/{LUND}/proposals/mine")
        page.locator("main a[href*='/proposals/']").filter(has_text="Höjeå").first.click()
    w.check("participant-own-proposal")
    page.locator("#withdraw-link").click()
    w.check("participant-withdraw-asks-first")
    assert page.locator("main form button.danger").count() == 1  # asks, nothing done yet
    w.go(f"/p/{LUND}/proposals/mine", "participant-mine")
    w.go("/account/password", "participant-account")


def _official(w: Walk) -> None:
    w.login(OFFICIAL)
    w.go("/moderation", "official-moderation")
    w.go(f"/p/{LUND}/moderation", "official-queue")
    w.go(f"/p/{LUND}/review", "official-review")
    w.go(f"/p/{DALBY}/codes", "official-codes")
    w.go(f"/p/{DALBY}/paper", "official-paper")


def _admin(w: Walk) -> None:
    w.login(ADMIN)
    w.go("/admin/processes/", "admin-index")
    w.go("/admin/processes/new", "admin-new-process")
    w.go(f"/admin/processes/{LUND}/edit", "admin-edit-process")
    w.go(f"/admin/processes/{LUND}/officials", "admin-officials")
    w.go(f"/admin/processes/{LUND}/audit", "admin-audit")
    w.go(f"/p/{DALBY}/voting/extend", "admin-extend")


def test_every_page_fits_a_phone_reads_in_order_and_passes_axe(
    browser: Any, live_server: str, demo: dict[str, Any]
) -> None:
    assert axe_installed(), (
        f"axe-core is missing at {AXE}: run `npm ci --prefix tests/e2e/axe` (as .ci/run does)"
    )
    SHOTS.mkdir(parents=True, exist_ok=True)
    failures: list[str] = []
    for i, (lang, viewport) in enumerate(VARIANTS):
        w = Walk(browser, live_server, lang, viewport)
        try:
            _public(w, demo["proposal"])
            _voter(w, demo["codes"][i])
            _email(w, f"walk{i}@example.org", demo["link"])
            _participant(w, first=i == 0)
            _official(w)
            _admin(w)
        finally:
            failures += w.close()
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(failures)
