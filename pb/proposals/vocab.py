"""Plain-language names for the proposal vocabularies, in the reader's language."""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l

from pb.processes import auditlog
from pb.proposals.models import EventKind, Feasibility, ProposalStatus

STATUSES: Mapping[str, LazyString] = {
    ProposalStatus.DRAFT: _l("Draft"),
    ProposalStatus.PUBLISHED: _l("Open for support"),
    ProposalStatus.IN_REVIEW: _l("Being reviewed"),
    ProposalStatus.ACCEPTED: _l("On the ballot"),
    ProposalStatus.REJECTED: _l("Not on the ballot"),
    ProposalStatus.MERGED: _l("Merged"),
    ProposalStatus.WITHDRAWN: _l("Withdrawn"),
}

FEASIBILITY: Mapping[str, LazyString] = {
    Feasibility.FEASIBLE: _l("Feasible"),
    Feasibility.NOT_FEASIBLE: _l("Not feasible"),
    Feasibility.NEEDS_WORK: _l("Needs work"),
}

auditlog.name_values("feasibility", lambda: FEASIBILITY)  # the review's entries in the log

EVENTS: Mapping[str, LazyString] = {
    EventKind.SUBMITTED: _l("Submitted"),
    EventKind.EDITED: _l("Edited by the author"),
    EventKind.REVIEWED: _l("Reviewed by an official"),
    EventKind.ACCEPTED: _l("Accepted onto the ballot"),
    EventKind.REJECTED: _l("Not accepted onto the ballot"),
    EventKind.MERGED: _l("Merged into another proposal"),
    EventKind.MERGED_FROM: _l("Another proposal was merged into this one"),
    EventKind.WITHDRAWN: _l("Withdrawn by the author"),
    EventKind.HIDDEN: _l("Hidden by a moderator"),
    EventKind.RESTORED: _l("Shown again by a moderator"),
}

SORTS: Mapping[str, LazyString] = {
    "newest": _l("Newest first"),
    "supported": _l("Most supported"),
    "random": _l("Random order"),
}


def name(table: Mapping[str, LazyString], key: object) -> str:
    value = table.get(str(key))
    return str(value) if value is not None else str(key)
