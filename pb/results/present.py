"""What the results page shows, built from the snapshot's data (never from the ballots):
per election the funded projects, the budget used, every project with an easy summary
sentence first and the exact explanation below, the two charts' geometry, and turnout."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from babel.numbers import format_decimal
from flask_babel import gettext as _
from flask_babel import ngettext

from pb.i18n import locale_code, sek


@dataclass(frozen=True)
class ProjectLine:
    id: str
    title: str
    cost: Decimal
    score: int
    rank: int
    selected: bool
    summary: str
    explanation: str
    cost_text: str = ""


@dataclass(frozen=True)
class Bar:
    label: str
    value: int
    y: int
    width: float
    selected: bool


@dataclass(frozen=True)
class Segment:
    label: str
    amount: Decimal
    x: float
    width: float
    funded: bool
    amount_text: str = ""


@dataclass(frozen=True)
class ElectionView:
    key: str
    name: str
    budget: Decimal
    spent: Decimal
    ballots: int
    points: bool
    funded: list[ProjectLine]
    projects: list[ProjectLine]
    bars: list[Bar]
    chart_height: int
    budget_line_y: int | None
    segments: list[Segment]
    files: dict[str, str]
    currency: str = "SEK"

    def money(self, value: Any) -> str:
        return money(value, self.currency)

    @property
    def unused(self) -> Decimal:
        return self.budget - self.spent

    @property
    def used_pct(self) -> int:
        return int(self.spent * 100 / self.budget) if self.budget else 0


CHART_WIDTH = 400  # SVG user units; the SVG scales to the screen (1:1 on a phone)
LABEL_WIDTH = 0  # labels sit above each bar, so bars use the whole width
BAR_STEP = 34


def money(value: Any, currency: str = "SEK") -> str:
    """An amount as the reader writes it: kronor by ``pb.i18n.sek``; another currency (an
    imported pabulib file's) as the number and its code."""
    amount = Decimal(str(value))
    loc = locale_code()
    if amount == amount.to_integral_value():
        # Whole amounts (nearly all) the quick way, exactly as ``sek`` writes them.
        digits = f"{int(amount):,}"
        if loc == "sv":
            digits = digits.replace(",", "\u00a0")
    elif currency == "SEK":
        return sek(amount)
    else:
        digits = format_decimal(
            amount, format="#,##0.##", locale="sv_SE" if loc == "sv" else "en_GB"
        )
    if currency == "SEK":
        return f"{digits}\u00a0kr" if loc == "sv" else f"SEK\u00a0{digits}"
    return f"{digits}\u00a0{currency}"


def summary(
    title: str, selected: bool, exp: dict[str, Any], points: bool, currency: str = "SEK"
) -> str:
    """One plain sentence a 14-year-old understands: did it win, and why (not)."""
    return str(_summary(title, selected, exp, points, currency))


def _summary(title: str, selected: bool, exp: dict[str, Any], points: bool, currency: str) -> Any:
    def _money(value: Any) -> str:
        return money(value, currency)

    code = exp.get("code", "")
    data = exp.get("data", {})
    parts = {p["code"]: p.get("data", {}) for p in exp.get("parts", [])}
    more = ""
    if "extra_votes" in parts or "extra_points" in parts:
        votes = int((parts.get("extra_votes") or parts.get("extra_points") or {}).get("votes") or 0)
        if points:
            more = " " + ngettext(
                "With %(num)d more point it would have won.",
                "With %(num)d more points it would have won.",
                votes,
            )
        else:
            more = " " + ngettext(
                "With %(num)d more vote it would have won.",
                "With %(num)d more votes it would have won.",
                votes,
            )
    elif "never_fundable" in parts:
        more = " " + _("More votes would not have helped: it costs more than the money there was.")
    if code in ("greedy_funded", "completion_funded"):
        return _(
            "%(title)s won: projects were funded in order of votes, and when its turn came "
            "there was still enough money left to pay for it.",
            title=title,
        )
    if code in ("mes_funded", "mes_funded_points"):
        return _(
            "%(title)s won: the people who voted for it had enough money left between them "
            "to pay for it together.",
            title=title,
        )
    if code == "greedy_not_funded":
        return _(
            "%(title)s did not win: when its turn came only %(left)s was left, and it costs "
            "%(cost)s.",
            title=title, left=_money(data.get("remaining", 0)), cost=_money(data.get("cost", 0)),
        ) + more  # fmt: skip
    if code == "greedy_stopped":
        return _(
            "%(title)s did not win: counting stopped at a project that did not fit, before it "
            "was this project's turn.",
            title=title,
        ) + more  # fmt: skip
    if code == "below_threshold":
        return ngettext(
            "%(title)s did not win: it needed at least %(num)d vote and got %(score)s.",
            "%(title)s did not win: it needed at least %(num)d votes and got %(score)s.",
            int(data.get("threshold") or 0), title=title, score=data.get("score"),
        ) + more  # fmt: skip
    if code in ("mes_not_funded", "mes_not_funded_points"):
        return _(
            "%(title)s did not win: the people who voted for it had already spent most of "
            "their share on other projects, so together they had only %(left)s left for a "
            "project that costs %(cost)s.",
            title=title, left=_money(data.get("left", 0)), cost=_money(data.get("cost", 0)),
        )  # fmt: skip
    if code == "mes_no_supporters":
        return _("%(title)s did not win: nobody voted for it.", title=title)
    if selected:
        return _("%(title)s won.", title=title)
    return _("%(title)s did not win.", title=title) + more


def snapshot_title(entry: dict[str, Any], locale: str) -> str:
    """A project's title as the snapshot froze it, in the reader's language: the English one
    where asked for and frozen, else the official (Swedish) one ("" if neither)."""
    if locale == "en" and entry.get("title_en"):
        return str(entry["title_en"])
    return str(entry.get("title") or "")


def election_view(data: dict[str, Any], files: dict[str, str], locale: str) -> ElectionView:
    points = data.get("ballot_type") in ("cumulative", "ordinal")
    currency = str(data.get("currency") or "SEK")
    lines = []
    for p in data["projects"]:
        exp = p.get("explanation_data", {})
        title = snapshot_title(p, locale)
        lines.append(
            ProjectLine(
                id=p["id"],
                title=title or p["name"] or p["id"],
                cost=Decimal(str(p["cost"])),
                score=int(p["score"]),
                rank=int(p.get("rank") or 0),
                selected=bool(p["selected"]),
                summary=summary(title or p["id"], bool(p["selected"]), exp, points, currency),
                explanation=p["explanation_sv"] if locale == "sv" else p["explanation"],
                cost_text=money(p["cost"], currency),
            )
        )
    order = {pid: i for i, pid in enumerate(data["selected"])}
    funded = sorted((line for line in lines if line.selected), key=lambda x: order[x.id])
    ranked = sorted(lines, key=lambda x: (x.rank or 10**9, -x.score, x.id))
    top = max([line.score for line in ranked] + [1])
    bars = []
    budget = Decimal(str(data["budget"]))
    budget_line_y = None
    cumulative = Decimal(0)
    for i, line in enumerate(ranked):
        y = i * BAR_STEP
        cumulative += line.cost
        if budget_line_y is None and cumulative > budget:
            budget_line_y = y  # the projects above this line cost the budget between them
        bars.append(
            Bar(line.title, line.score, y, round(CHART_WIDTH * line.score / top, 1), line.selected)
        )
    segments = []
    x = 0.0
    for line in funded:
        width = round(float(line.cost / budget) * CHART_WIDTH, 1) if budget else 0.0
        segments.append(Segment(line.title, line.cost, x, width, True, line.cost_text))
        x += width
    spent = Decimal(str(data["spent"]))
    if spent < budget:
        unused = budget - spent
        segments.append(
            Segment(_("Not used"), unused, x, round(CHART_WIDTH - x, 1), False,
                    money(unused, currency))
        )  # fmt: skip
    return ElectionView(
        key=data["key"],
        name=data["name"],
        budget=budget,
        spent=spent,
        ballots=int(data["ballots"]),
        points=points,
        funded=funded,
        projects=ranked,
        bars=bars,
        chart_height=len(bars) * BAR_STEP,
        budget_line_y=budget_line_y,
        segments=segments,
        files=files,
        currency=currency,
    )


def group_label(dimension: str, key: str) -> str:
    """A turnout group's name in the reader's language."""
    return str(_group_label(dimension, key))


def _group_label(dimension: str, key: str) -> Any:
    if key == "_small":
        return _("Smaller groups together (none shown alone under 10 ballots)")
    if key == "undeclared":
        return _("Not stated")
    if dimension == "channel":
        from pb.processes import vocab
        from pb.processes.models import CodeChannel

        try:
            return vocab.name(vocab.CHANNELS, CodeChannel(key))
        except ValueError:
            return key
    if dimension == "age_band":
        low, _sep, high = key.partition("-")
        if not low:
            return _("%(n)s or younger", n=high)
        if not high:
            return _("%(n)s or older", n=low)
        return _("%(low)s–%(high)s years", low=low, high=high)
    if dimension == "connection":
        labels = {
            "lives": _("Lives in the municipality"),
            "studies": _("Studies in the municipality"),
            "works": _("Works in the municipality"),
            "business": _("Runs a business in the municipality"),
            "other": _("Other connection"),
        }
        return labels.get(key, key)
    return key


__all__ = ["ElectionView", "election_view", "group_label", "snapshot_title", "summary"]
