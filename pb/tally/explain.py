"""Explanations: for every project, structured data and a sentence in Swedish and English.

An :class:`Explanation` is a code plus numbers; :data:`SENTENCES` maps each code to
``str.format`` templates per language, so the web app can render the same data with its own
formatting. A code in :data:`SINGULAR` has a second template for a count of 1 ("1 more vote",
not "1 more votes"; Swedish "1 röst till"). Amounts in ``data`` are :class:`decimal.Decimal` in currency units (rounded to the
minor unit for display); counts are ints.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

LANGUAGES = ("en", "sv")

SENTENCES: dict[str, dict[str, str]] = {
    # greedy family
    "greedy_funded": {
        "en": "Funded: ranked {rank} with score {score}; when its turn came {remaining} remained "
        "and it costs {cost}.",
        "sv": "Finansierat: plats {rank} med {score} poäng; när det var dess tur återstod "
        "{remaining} och det kostar {cost}.",
    },
    "greedy_not_funded": {
        "en": "Not funded: ranked {rank} with score {score}; when its turn came {remaining} "
        "remained and it costs {cost}.{extra}",
        "sv": "Inte finansierat: plats {rank} med {score} poäng; när det var dess tur återstod "
        "{remaining} och det kostar {cost}.{extra}",
    },
    "greedy_stopped": {
        "en": "Not funded: ranked {rank} with score {score}; counting stopped at the first "
        "project that did not fit (no skipping), before its turn.{extra}",
        "sv": "Inte finansierat: plats {rank} med {score} poäng; räkningen stannade vid det "
        "första projekt som inte fick plats (utan överhoppning), före dess tur.{extra}",
    },
    "below_threshold": {
        "en": "Not funded: its score {score} is below the required minimum {threshold}.{extra}",
        "sv": "Inte finansierat: dess {score} poäng är under den krävda miniminivån "
        "{threshold}.{extra}",
    },
    "extra_votes": {
        "en": " {votes} more votes would have funded it.",
        "sv": " {votes} fler röster hade gett det finansiering.",
    },
    "extra_points": {
        "en": " {votes} more points would have funded it.",
        "sv": " {votes} fler poäng hade gett det finansiering.",
    },
    "extra_votes_one": {
        "en": " {votes} more vote would have funded it.",
        "sv": " {votes} röst till hade gett det finansiering.",
    },
    "extra_points_one": {
        "en": " {votes} more point would have funded it.",
        "sv": " {votes} poäng till hade gett det finansiering.",
    },
    "never_fundable": {
        "en": " No number of extra votes would fund it.",
        "sv": " Inget antal extra röster hade räckt.",
    },
    # equal shares
    "mes_funded": {
        "en": "Funded in round {round} of equal shares: its {supporters} supporters shared the "
        "cost {cost}; {full} paid {share} each{partial}.",
        "sv": "Finansierat i omgång {round} av lika andelar: dess {supporters} anhängare delade "
        "kostnaden {cost}; {full} betalade {share} var{partial}.",
    },
    "mes_funded_partial": {
        "en": " and {count} paid the {amount} they had left",
        "sv": " och {count} betalade de {amount} de hade kvar",
    },
    "mes_not_funded": {
        "en": "Not funded: it costs {cost}, but its {supporters} supporters had only {left} left "
        "in total; each would have had to pay {needed}. Most of their money went to {used_by}.",
        "sv": "Inte finansierat: det kostar {cost}, men dess {supporters} anhängare hade bara "
        "{left} kvar tillsammans; var och en hade behövt betala {needed}. Det mesta av deras "
        "pengar gick till {used_by}.",
    },
    "mes_funded_points": {
        "en": "Funded in round {round} of equal shares: its {supporters} supporters shared the "
        "cost {cost} at {share} per point; {full} paid their full share{partial}.",
        "sv": "Finansierat i omgång {round} av lika andelar: dess {supporters} anhängare delade "
        "kostnaden {cost} med {share} per poäng; {full} betalade hela sin andel{partial}.",
    },
    "mes_not_funded_points": {
        "en": "Not funded: it costs {cost}, but its {supporters} supporters had only {left} left "
        "in total; they would have had to pay {needed} per point. Most of their money went to "
        "{used_by}.",
        "sv": "Inte finansierat: det kostar {cost}, men dess {supporters} anhängare hade bara "
        "{left} kvar tillsammans; de hade behövt betala {needed} per poäng. Det mesta av "
        "deras pengar gick till {used_by}.",
    },
    # ... and with a single supporter (SINGULAR): a sentence for one person, not "its 1
    # supporters shared"; with one supporter nobody shares and the count of full payers says
    # nothing, so these leave it out.
    "mes_funded_one": {
        "en": "Funded in round {round} of equal shares: its one supporter paid the whole cost "
        "{cost}.",
        "sv": "Finansierat i omgång {round} av lika andelar: dess enda anhängare betalade hela "
        "kostnaden {cost}.",
    },
    "mes_not_funded_one": {
        "en": "Not funded: it costs {cost}, but its one supporter had only {left} left. Most of "
        "their money went to {used_by}.",
        "sv": "Inte finansierat: det kostar {cost}, men dess enda anhängare hade bara {left} "
        "kvar. Det mesta av pengarna gick till {used_by}.",
    },
    "mes_funded_points_one": {
        "en": "Funded in round {round} of equal shares: its one supporter paid the whole cost "
        "{cost}, {share} per point.",
        "sv": "Finansierat i omgång {round} av lika andelar: dess enda anhängare betalade hela "
        "kostnaden {cost}, {share} per poäng.",
    },
    "mes_not_funded_points_one": {
        "en": "Not funded: it costs {cost}, but its one supporter had only {left} left; they "
        "would have had to pay {needed} per point. Most of their money went to {used_by}.",
        "sv": "Inte finansierat: det kostar {cost}, men dess enda anhängare hade bara {left} "
        "kvar; hen hade behövt betala {needed} per poäng. Det mesta av pengarna gick till "
        "{used_by}.",
    },
    "mes_no_supporters": {
        "en": "Not funded: nobody supported it.",
        "sv": "Inte finansierat: ingen röstade på det.",
    },
    "mes_used_by_none": {"en": "no funded project", "sv": "inget finansierat projekt"},
    "completion_funded": {
        "en": "Funded in the completion after equal shares: ranked {rank} with score {score}, "
        "{remaining} remained and it costs {cost}.",
        "sv": "Finansierat i kompletteringen efter lika andelar: plats {rank} med {score} poäng, "
        "{remaining} återstod och det kostar {cost}.",
    },
    "completion_not_funded": {
        "en": " In the completion, when its turn came {remaining} remained.",
        "sv": " I kompletteringen återstod {remaining} när det var dess tur.",
    },
    "comparison_greedy": {
        "en": " (Greedy replaced equal shares: {greedy} voters were better off under greedy, "
        "{mes} under equal shares.)",
        "sv": " (Girig räkning ersatte lika andelar: {greedy} väljare fick det bättre med girig "
        "räkning, {mes} med lika andelar.)",
    },
}

SINGULAR = {
    "extra_votes": ("votes", "extra_votes_one"),
    "extra_points": ("votes", "extra_points_one"),
    "mes_funded": ("supporters", "mes_funded_one"),
    "mes_funded_points": ("supporters", "mes_funded_points_one"),
    "mes_not_funded": ("supporters", "mes_not_funded_one"),
    "mes_not_funded_points": ("supporters", "mes_not_funded_points_one"),
}
"""Codes whose sentence has a singular form, used when the named count is 1 ("1 more vote",
"1 röst till", "its one supporter"); the code in the data stays the plural one."""


def _template(code: str, data: dict[str, Any], lang: str) -> str:
    if code in SINGULAR and data.get(SINGULAR[code][0]) == 1:
        code = SINGULAR[code][1]
    return SENTENCES[code][lang]


def _swedish(text: str) -> str:
    """1,234.5 -> 1 234,5 (non-breaking space, decimal comma)."""
    return text.replace(",", "\u00a0").replace(".", ",")


def _fmt_value(value: Any, lang: str) -> str:
    if isinstance(value, Decimal):
        text = f"{value:,.2f}" if value != value.to_integral_value() else f"{value:,.0f}"
        return _swedish(text) if lang == "sv" else text
    if isinstance(value, list):
        if not value:
            return SENTENCES["mes_used_by_none"][lang]
        return ", ".join(
            f"{item['project']} ({_fmt_value(item['amount'], lang)})" for item in value
        )
    if isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
        return _swedish(text) if lang == "sv" else text
    return str(value)


@dataclass(frozen=True)
class Explanation:
    """Why a project was or was not funded: a code from :data:`SENTENCES` and its numbers.

    ``parts`` are further (code, data) pairs whose sentences are appended (e.g. the extra votes
    a loser needed).
    """

    code: str
    data: dict[str, Any] = field(default_factory=dict, hash=False)
    parts: tuple[tuple[str, dict[str, Any]], ...] = ()

    def text(self, lang: str = "en") -> str:
        """The sentence in ``lang`` (``en`` or ``sv``)."""
        values = {key: _fmt_value(value, lang) for key, value in self.data.items()}
        template = _template(self.code, self.data, lang)
        alone = template is not SENTENCES[self.code][lang]  # the one-supporter sentence
        extra = ""
        for code, data in self.parts:
            if alone and code == "mes_funded_partial":  # "paid the whole cost" says it
                continue
            sub = {key: _fmt_value(value, lang) for key, value in data.items()}
            extra += _template(code, data, lang).format(**sub)
        values.setdefault("extra", "")
        values.setdefault("partial", extra if "{partial}" in template else "")
        if "{partial}" in template:
            return template.format(**values)
        if "{extra}" in template:
            values["extra"] = extra
            return template.format(**values)
        return template.format(**values) + extra

    def as_dict(self) -> dict[str, Any]:
        """Plain data (Decimals as strings) plus the sentences, for JSON."""

        def plain(data: dict[str, Any]) -> dict[str, Any]:
            out: dict[str, Any] = {}
            for key, value in data.items():
                if isinstance(value, Decimal):
                    out[key] = str(value)
                elif isinstance(value, list):
                    out[key] = [
                        {k: str(v) if isinstance(v, Decimal) else v for k, v in item.items()}
                        if isinstance(item, dict)
                        else item
                        for item in value
                    ]
                else:
                    out[key] = value
            return out

        return {
            "code": self.code,
            "data": plain(self.data),
            "parts": [{"code": code, "data": plain(data)} for code, data in self.parts],
            "en": self.text("en"),
            "sv": self.text("sv"),
        }
