"""Sentences that describe a process's ballot rules, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from pb.i18n import sek
from pb.processes.contract import Contract


def ballot_lines(contract: Contract) -> list[str]:
    """Plain sentences for the ballot rules, read from the very ``BallotRules`` objects that
    check a cast ballot (one per area when the process has areas)."""
    scopes: list[str | None] = [a.slug for a in contract.areas] or [None]
    rules = [contract.ballot_rules(slug).describe() for slug in scopes]
    first = rules[0]
    lines = []
    if first["max_total_cost"] is not None:
        if len(rules) > 1:
            lines.append(
                _("The projects you choose may together cost at most the budget of your area.")
            )
        else:
            lines.append(
                _("The projects you choose may together cost at most %(amount)s.",
                  amount=sek(first["max_total_cost"]))
            )  # fmt: skip
    if first["max_projects"]:
        lines.append(_("You may choose at most %(n)s projects.", n=first["max_projects"]))
    if first["min_projects"] and first["min_projects"] > 1:
        lines.append(_("You must choose at least %(n)s projects.", n=first["min_projects"]))
    if contract.ballot.min_budget_share_pct:
        lines.append(
            _("The projects you choose must together use at least %(pct)s %% of the budget.",
              pct=contract.ballot.min_budget_share_pct)
        )  # fmt: skip
    if first["uses_points"] and first["max_total_points"]:
        lines.append(_("You have %(n)s points to spread.", n=first["max_total_points"]))
        if first["max_points"] and first["max_points"] < first["max_total_points"]:
            lines.append(
                _("You may give at most %(n)s points to one project.", n=first["max_points"])
            )
    return lines
