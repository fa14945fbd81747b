"""Sentences that describe a process's ballot rules, in the reader's language."""

from __future__ import annotations

from flask_babel import gettext as _

from pb.i18n import sek
from pb.processes.contract import Contract
from pb.processes.models import BallotType


def ballot_lines(contract: Contract) -> list[str]:
    b = contract.ballot
    lines = []
    if b.ballot_type == BallotType.APPROVAL_BUDGET:
        if contract.areas:
            lines.append(
                _("The projects you choose may together cost at most the budget of your area.")
            )
        else:
            lines.append(
                _(
                    "The projects you choose may together cost at most %(amount)s.",
                    amount=sek(contract.budget),
                )
            )
    if b.max_projects:
        lines.append(_("You may choose at most %(n)s projects.", n=b.max_projects))
    if b.min_projects and b.min_projects > 1:
        lines.append(_("You must choose at least %(n)s projects.", n=b.min_projects))
    if b.min_budget_share_pct:
        lines.append(
            _(
                "The projects you choose must together use at least %(pct)s %% of the budget.",
                pct=b.min_budget_share_pct,
            )
        )
    if b.ballot_type == BallotType.CUMULATIVE and b.points_total:
        lines.append(_("You have %(n)s points to spread.", n=b.points_total))
        if b.max_points_per_project and b.max_points_per_project < b.points_total:
            lines.append(
                _("You may give at most %(n)s points to one project.", n=b.max_points_per_project)
            )
    return lines
