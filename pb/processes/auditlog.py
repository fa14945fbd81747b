"""The audit log as people read it: one sentence per event, with names, and its details as
readable values (dates as dates, amounts in kronor, "yes" and "no"), never raw JSON.

This only reads what ``pb.audit`` wrote; how entries are written does not change. Each action
kind has its presenter here, keyed by the action code, so the page of any process can show
events of every package without importing them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from pb.audit import AuditAction, AuditEvent, action_label
from pb.i18n import sek, when
from pb.processes import vocab


@dataclass
class Line:
    """One event: the sentence, what it is about (for a link) and its details."""

    sentence: str
    details: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class Context:
    """What a presenter needs besides the event: names of the people it mentions."""

    names: Mapping[int, str]

    def person(self, user_id: Any) -> str:
        if isinstance(user_id, int) and self.names.get(user_id):
            return self.names[user_id]
        if isinstance(user_id, int) and user_id in self.names:  # an account deleted by its owner
            return str(_("a former participant (account #%(id)s)", id=user_id))
        # No account: pb on its own (mixing, the fingerprint) or someone at the server's
        # command line (``pb codes``, ``pb officials``): the log cannot tell which person.
        return str(_("account #%(id)s", id=user_id) if user_id is not None
                   else _("pb (on its own or from the command line)"))  # fmt: skip


def _who(ev: AuditEvent, ctx: Context) -> str:
    return ctx.person(ev.actor_id)


def _thing(ev: AuditEvent) -> str:
    if ev.subject_type == "comments":
        return str(_("comment #%(id)s", id=ev.subject_id))
    return str(_("proposal #%(id)s", id=ev.subject_id))


# -- readable values ---------------------------------------------------------------------

_FIELD_LABELS: dict[str, Any] = {
    "slug": _l("Web address"),
    "published": _l("Published"),
    "title_sv": _l("Title (Swedish)"),
    "title_en": _l("Title (English)"),
    "purpose_sv": _l("Purpose (Swedish)"),
    "purpose_en": _l("Purpose (English)"),
    "question_sv": _l("Question (Swedish)"),
    "question_en": _l("Question (English)"),
    "influence_level": _l("Form of influence"),
    "decision_body_sv": _l("Who decides (Swedish)"),
    "decision_body_en": _l("Who decides (English)"),
    "decision_date": _l("Date of the decision"),
    "decision_text_sv": _l("What the result decides (Swedish)"),
    "decision_text_en": _l("What the result decides (English)"),
    "budget": _l("Budget"),
    "min_age": _l("Lowest age"),
    "connections": _l("Who may take part"),
    "other_connection_sv": _l("Other connection (Swedish)"),
    "other_connection_en": _l("Other connection (English)"),
    "area_restricted": _l("Each voter votes only in their own area"),
    "code_channels": _l("How voting codes are handed out"),
    "ballot_type": _l("Ballot"),
    "max_projects": _l("Most projects"),
    "min_projects": _l("Fewest projects"),
    "min_budget_share_pct": _l("Lowest share of the budget"),
    "points_total": _l("Points to give"),
    "max_points_per_project": _l("Most points per project"),
    "counting_rule": _l("Counting rule"),
    "tie_break": _l("Tie-break"),
    "lottery_seed": _l("Starting value for the lottery"),
    "easy_sv": _l("Easy-to-read summary (Swedish)"),
    "easy_en": _l("Easy-to-read summary (English)"),
    "image": _l("Picture"),
    "image_alt_sv": _l("What the picture shows (Swedish)"),
    "image_alt_en": _l("What the picture shows (English)"),
    "areas": _l("Areas"),
    "categories": _l("Categories"),
    "phases": _l("Phases"),
    "feasibility": _l("Can it be done?"),
    "official_cost": _l("The officials' cost estimate"),
    "answer": _l("Answer"),
    "fields": _l("Changed"),
    "reason": _l("Reason"),
    "count": _l("Number"),
    "channel": _l("Way"),
    "purpose": _l("What for"),
    "area": _l("Area"),
    "rule": _l("Counting rule"),
    "seed": _l("Starting value for the lottery"),
    "ballots": _l("Ballots"),
    "projects": _l("Projects"),
    "source": _l("File"),
    "fingerprint": _l("Fingerprint"),
    "sha256": _l("Fingerprint"),
    "role": _l("Role"),
    "status": _l("Status"),
    "progress": _l("Done so far"),
    "project": _l("Project"),
    "photo": _l("Photo"),
}

_MONEY = {"budget", "official_cost", "cost"}
_VOCABS: dict[str, Mapping[Any, Any]] = {
    "influence_level": vocab.INFLUENCE,
    "connections": vocab.CONNECTIONS,
    "code_channels": vocab.CHANNELS,
    "channel": vocab.CHANNELS,
    "ballot_type": vocab.BALLOT_TYPES,
    "counting_rule": vocab.COUNTING_RULES,
    "rule": vocab.COUNTING_RULES,
    "tie_break": vocab.TIE_BREAKS,
}


# Vocabularies of the packages above this one (a proposal's feasibility, a funded project's
# follow-up status), registered by those packages with ``name_values`` so that the log shows
# their words, not their stored codes, without this package importing them.
_NAMES: dict[str, Callable[[], Mapping[str, Any]]] = {}


def name_values(key: str, names: Callable[[], Mapping[str, Any]]) -> None:
    """Show the values stored under ``key`` in events' data by the words ``names()`` gives."""
    _NAMES[key] = names


def label(key: str) -> str:
    return str(_FIELD_LABELS.get(key, key.replace("_", " ")))


def readable(value: Any, key: str = "") -> str:
    """A stored value as words: dates as dates, money in kronor, names from the vocabulary."""
    if value is None or value == "" or value == []:
        return "—"
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, int) and key in _MONEY:
        return sek(value)
    if isinstance(value, int) and key == "progress":
        return f"{value}\u00a0%"
    if isinstance(value, str):
        if key in _VOCABS:
            return vocab.name(_VOCABS[key], value)
        if key in _NAMES:
            return str(_NAMES[key]().get(value, value))
        if key == "phases" or (len(value) >= 10 and value[4:5] == "-" and value[7:8] == "-"):
            return _date(value)
        if key == "fields":
            return label(value)
        return value
    if isinstance(value, list | tuple):
        return ", ".join(readable(v, key) for v in value)
    if isinstance(value, dict):
        if key == "phases":
            return "; ".join(
                f"{vocab.name(vocab.PHASES, k)}: {readable(v[0])} – {readable(v[1])}"
                for k, v in value.items()
                if isinstance(v, list) and len(v) == 2
            )
        return "; ".join(f"{label(k)}: {readable(v, k)}" for k, v in value.items())
    return str(value)


def _date(text: str) -> str:
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        return text
    if len(text) == 10:
        return when(moment.date())
    return when(moment)


def _details(data: Mapping[str, Any], skip: tuple[str, ...] = ()) -> list[tuple[str, str]]:
    return [(label(k), readable(v, k)) for k, v in data.items() if k not in skip]


def _changes(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """A diff {field: [before, after]} as "before → after" per field."""
    out = []
    for key, pair in data.items():
        if isinstance(pair, list) and len(pair) == 2:
            out.append((label(key), f"{readable(pair[0], key)} → {readable(pair[1], key)}"))
        else:
            out.append((label(key), readable(pair, key)))
    return out


# -- one presenter per action ------------------------------------------------------------

Presenter = Callable[[AuditEvent, Context], Line]


def _simple(text: Any, *, details: bool = True) -> Presenter:
    """A sentence with the actor's name as ``who`` and the subject as ``thing``."""

    def present(ev: AuditEvent, ctx: Context) -> Line:
        sentence = str(text) % {"who": _who(ev, ctx), "thing": _thing(ev), "id": ev.subject_id}
        return Line(sentence, _details(ev.data or {}) if details else [])

    return present


_PAPER_ENTRY = _simple(_l("%(who)s entered a paper ballot."), details=False)
_PAPER_MISMATCH = _simple(
    _l("%(who)s entered a paper ballot that did not match its first entry (not saved)."),
    details=False,
)


def _paper_entry(ev: AuditEvent, ctx: Context) -> Line:
    if (ev.data or {}).get("matched_first") is False:
        return _PAPER_MISMATCH(ev, ctx)
    return _PAPER_ENTRY(ev, ctx)


# The site-wide roles (pb.accounts.models.Role) as the log's sentences name them.
_ROLE_NAMES = {"participant": _l("participant"), "official": _l("official"),
               "admin": _l("administrator")}  # fmt: skip


def _role(ev: AuditEvent, ctx: Context) -> Line:
    old, new = ((_ROLE_NAMES.get(r, r) if isinstance(r, str) else r)
                for r in (ev.data or {}).get("role", [None, None]))  # fmt: skip
    return Line(_("%(who)s changed the role of %(whom)s from %(old)s to %(new)s.",
                  who=_who(ev, ctx), whom=ctx.person(ev.subject_id), old=old, new=new))  # fmt: skip


_EASY = frozenset({"easy_sv", "easy_en"})
_PICTURE_KEYS = frozenset({"image", "image_alt_sv", "image_alt_en"})


def _update(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    if not data:
        return Line(_("%(who)s saved the process without changes.", who=_who(ev, ctx)))
    if set(data) <= _EASY:
        return Line(_("%(who)s changed the easy-to-read summary of the process.",
                      who=_who(ev, ctx)), _changes(data))  # fmt: skip
    if set(data) <= _PICTURE_KEYS:  # only the picture, or the words that describe it
        before, after = (data.get("image") or ["", ""])[:2]
        who = _who(ev, ctx)
        if "image" not in data:
            text = _("%(who)s changed the words that describe the process's picture.", who=who)
        elif not before:
            text = _("%(who)s gave the process a picture.", who=who)
        elif not after:
            text = _("%(who)s removed the process's picture.", who=who)
        else:
            text = _("%(who)s changed the process's picture.", who=who)
        return Line(text, _changes(data))
    return Line(_("%(who)s changed the process.", who=_who(ev, ctx)), _changes(data))


def _project_easy(ev: AuditEvent, ctx: Context) -> Line:
    data = dict(ev.data or {})
    project = data.pop("project", None) or "—"
    return Line(_("%(who)s changed the easy-to-read summary of project %(project)s.",
                  who=_who(ev, ctx), project=project), _changes(data))  # fmt: skip


def _project_title_en(ev: AuditEvent, ctx: Context) -> Line:
    data = dict(ev.data or {})
    project = data.pop("project", None) or "—"
    return Line(_("%(who)s changed the English title of project %(project)s.",
                  who=_who(ev, ctx), project=project), _changes(data))  # fmt: skip


def _create(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s created the process.", who=_who(ev, ctx)), _details(ev.data or {}))


def _freeze(ev: AuditEvent, ctx: Context) -> Line:
    if ev.actor_id is None:
        return Line(_("The rules were frozen when voting opened."))
    return Line(_("%(who)s froze the rules.", who=_who(ev, ctx)))


def _official(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s made %(whom)s an official of the process.", who=_who(ev, ctx),
                  whom=ctx.person((ev.data or {}).get("user_id"))))  # fmt: skip


def _official_removed(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s removed %(whom)s as an official of the process.", who=_who(ev, ctx),
                  whom=ctx.person((ev.data or {}).get("user_id"))))  # fmt: skip


def _edit(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s edited proposal #%(id)s.", who=_who(ev, ctx), id=ev.subject_id),
                _details(ev.data or {}))  # fmt: skip


def _withdraw(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    if data.get("deleted"):
        return Line(_("%(who)s deleted their draft #%(id)s.", who=_who(ev, ctx), id=ev.subject_id))
    line = Line(_("%(who)s withdrew proposal #%(id)s.", who=_who(ev, ctx), id=ev.subject_id))
    if data.get("project"):
        line.details.append((label("projects"), readable(data["project"])))
    return line


def _review(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s assessed proposal #%(id)s.", who=_who(ev, ctx), id=ev.subject_id),
                _changes(ev.data or {}))  # fmt: skip


def _accept(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    cost = data.get("cost")
    return Line(_("%(who)s put proposal #%(id)s on the ballot as project %(project)s, at a cost "
                  "of %(cost)s.", who=_who(ev, ctx), id=ev.subject_id,
                  project=data.get("project") or "—",
                  cost=sek(cost) if isinstance(cost, int) else "—"))  # fmt: skip


def _merge(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("%(who)s merged proposal #%(id)s into proposal #%(into)s.", who=_who(ev, ctx),
                  id=ev.subject_id, into=(ev.data or {}).get("into")))  # fmt: skip


def _move(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    before, after = (data.get("area") or [None, None])[:2]
    return Line(_("%(who)s moved project %(project)s from %(before)s to %(after)s.",
                  who=_who(ev, ctx), project=data.get("project") or "—",
                  before=readable(before), after=readable(after)))  # fmt: skip


def _report(ev: AuditEvent, ctx: Context) -> Line:
    reason = (ev.data or {}).get("reason")
    return Line(_("%(who)s reported %(thing)s.", who=_who(ev, ctx), thing=_thing(ev)),
                [(label("reason"), str(reason))] if reason else [])  # fmt: skip


def _autohide(ev: AuditEvent, ctx: Context) -> Line:
    n = int((ev.data or {}).get("open_reports") or 0)
    return Line(ngettext("%(thing)s was hidden by itself after %(num)d report.",
                         "%(thing)s was hidden by itself after %(num)d reports.", n,
                         thing=_thing(ev).capitalize()))  # fmt: skip


def _codes(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    n = int(data.get("count") or 0)
    channel = readable(data.get("channel"), "channel")
    if ev.actor_id is None:
        sentence = ngettext("%(num)d voting code was sent by e-mail.",
                            "%(num)d voting codes were sent by e-mail.", n)  # fmt: skip
    else:
        sentence = ngettext("%(who)s made %(num)d voting code (%(channel)s).",
                            "%(who)s made %(num)d voting codes (%(channel)s).", n,
                            who=_who(ev, ctx), channel=channel)  # fmt: skip
    return Line(sentence, _details(data, skip=("count", "channel", "purpose")))


def _revoke(ev: AuditEvent, ctx: Context) -> Line:
    n = int((ev.data or {}).get("count") or 0)
    return Line(ngettext("%(who)s cancelled %(num)d voting code.",
                         "%(who)s cancelled %(num)d voting codes.", n, who=_who(ev, ctx)))  # fmt: skip


def _fingerprint(ev: AuditEvent, ctx: Context) -> Line:
    return Line(_("When voting opened, pb took a fingerprint of the frozen rules."),
                _details(ev.data or {}))  # fmt: skip


def _extend(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    return Line(_("%(who)s moved the end of voting from %(before)s to %(after)s.",
                  who=_who(ev, ctx), before=readable(data.get("from")),
                  after=readable(data.get("to"))))  # fmt: skip


def _followup_status(ev: AuditEvent, ctx: Context) -> Line:
    data = dict(ev.data or {})
    project = data.pop("project", None) or "—"
    return Line(_("%(who)s set the follow-up status of project %(project)s.",
                  who=_who(ev, ctx), project=project), _changes(data))  # fmt: skip


def _publish(ev: AuditEvent, ctx: Context) -> Line:
    data = ev.data or {}
    return Line(_("%(who)s counted the votes and published the results.", who=_who(ev, ctx)),
                _details(data, skip=("files",)))  # fmt: skip


PRESENTERS: dict[str, Presenter] = {
    AuditAction.USER_REGISTER: _simple(_l("%(who)s created an account."), details=False),
    AuditAction.USER_LOGIN: _simple(_l("%(who)s logged in.")),
    AuditAction.USER_PASSWORD: _simple(_l("%(who)s changed their password.")),
    AuditAction.USER_ROLE: _role,
    AuditAction.PROCESS_CREATE: _create,
    AuditAction.PROCESS_UPDATE: _update,
    AuditAction.PROCESS_FREEZE: _freeze,
    AuditAction.PROCESS_EDIT_REFUSED: _simple(
        _l("%(who)s tried to change the process, but the rules are frozen."), details=False
    ),
    AuditAction.PROCESS_OFFICIAL: _official,
    AuditAction.PROCESS_OFFICIAL_REMOVED: _official_removed,
    AuditAction.PROPOSAL_SUBMIT: _simple(_l("%(who)s sent in proposal #%(id)s.")),
    AuditAction.PROPOSAL_EDIT: _edit,
    AuditAction.PROPOSAL_WITHDRAW: _withdraw,
    AuditAction.PROPOSAL_REVIEW: _review,
    AuditAction.PROPOSAL_ACCEPT: _accept,
    AuditAction.PROPOSAL_REJECT: _simple(_l("%(who)s said no to proposal #%(id)s.")),
    AuditAction.PROPOSAL_MERGE: _merge,
    AuditAction.PROJECT_MOVE: _move,
    AuditAction.PROJECT_EASY: _project_easy,
    AuditAction.PROJECT_TITLE_EN: _project_title_en,
    AuditAction.PROJECT_REORDER: _simple(
        _l("%(who)s changed the order of the ballot."), details=False
    ),
    AuditAction.CONTENT_REPORT: _report,
    AuditAction.CONTENT_HIDE: _simple(_l("%(who)s hid %(thing)s."), details=False),
    AuditAction.CONTENT_RESTORE: _simple(_l("%(who)s showed %(thing)s again."), details=False),
    AuditAction.CONTENT_AUTOHIDE: _autohide,
    AuditAction.CONTENT_DISMISS: _simple(
        _l("%(who)s looked at the reports on %(thing)s and kept it."), details=False
    ),
    AuditAction.PROPOSAL_SEEN: _simple(_l("%(who)s looked at the new proposal #%(id)s.")),
    AuditAction.CODES_ISSUE: _codes,
    AuditAction.CODES_REVOKE: _revoke,
    AuditAction.PAPER_ENTRY: _paper_entry,
    AuditAction.PAPER_DISCARD: _simple(
        _l("%(who)s threw away a paper ballot entry that was not yet confirmed."), details=False
    ),
    AuditAction.VOTING_FINGERPRINT: _fingerprint,
    AuditAction.VOTING_EXTEND: _extend,
    AuditAction.RESULTS_PUBLISH: _publish,
    AuditAction.RESULTS_IMPORT: _simple(_l("%(who)s made the process from a pabulib file.")),
    AuditAction.FOLLOWUP_STATUS: _followup_status,
    AuditAction.FOLLOWUP_UPDATE: _simple(
        _l("%(who)s wrote a follow-up update on a funded project.")
    ),
}


def present(ev: AuditEvent, ctx: Context) -> Line:
    """The sentence and details of one event (an unknown action: its label and its data)."""
    presenter = PRESENTERS.get(ev.action)
    if presenter is None:
        return Line(f"{_who(ev, ctx)}: {action_label(ev.action)}", _details(ev.data or {}))
    return presenter(ev, ctx)


def people(events: list[AuditEvent]) -> set[int]:
    """The accounts the events mention (actors, and the people acted on), to look up names."""
    ids = {ev.actor_id for ev in events if ev.actor_id is not None}
    for ev in events:
        if ev.subject_type == "users" and isinstance(ev.subject_id, int):
            ids.add(ev.subject_id)
        user_id = (ev.data or {}).get("user_id")
        if isinstance(user_id, int):
            ids.add(user_id)
    return ids
