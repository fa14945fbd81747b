"""Forms for reporting, moderating and reviewing."""

from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from wtforms import (
    FieldList,
    FormField,
    HiddenField,
    RadioField,
    SelectChoice,
    SelectField,
    TextAreaField,
)
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from pb.fields import ID_MAX, WholeNumberField
from pb.forms import FlaskForm, Form
from pb.moderation.models import ReportReason
from pb.moderation.services import Decision
from pb.proposals.forms import AmountField, ChoiceOrEmpty, strip
from pb.proposals.models import Feasibility
from pb.proposals.services import DESCRIPTION_MAX

REPORT_REASONS = {
    ReportReason.SPAM: _l("Spam or advertising"),
    ReportReason.OFFENSIVE: _l("Offensive, threatening or hateful"),
    ReportReason.OFF_TOPIC: _l("Off-topic: not about this process"),
}

NOTE_MAX = 1000


def feasibility_choices() -> list[SelectChoice]:
    return [
        SelectChoice("", _l("Not assessed yet")),
        SelectChoice(Feasibility.FEASIBLE.value, _l("Feasible")),
        SelectChoice(Feasibility.NOT_FEASIBLE.value, _l("Not feasible")),
        SelectChoice(Feasibility.NEEDS_WORK.value, _l("Needs work")),
    ]


class ReportForm(FlaskForm):
    reason = RadioField(
        _l("What is wrong?"),
        choices=[SelectChoice(k.value, v) for k, v in REPORT_REASONS.items()],
        validators=[InputRequired(message=_l("Choose what is wrong."))],
    )
    note = TextAreaField(
        _l("Anything the moderators should know (optional)"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX, message=_l("Use at most %(max)d characters."))],
    )


class ReasonForm(FlaskForm):
    reason = TextAreaField(
        _l("Reason (the author sees it)"),
        filters=[strip],
        validators=[
            DataRequired(message=_l("Give a reason.")),
            Length(max=NOTE_MAX, message=_l("Use at most %(max)d characters.")),
        ],
    )


class NoteForm(FlaskForm):
    reason = TextAreaField(
        _l("Note (optional)"),
        filters=[strip],
        validators=[Length(max=NOTE_MAX, message=_l("Use at most %(max)d characters."))],
    )


class ReviewForm(FlaskForm):
    feasibility = SelectField(_l("Feasibility"), choices=[])
    official_cost = AmountField(_l("Official cost estimate (SEK)"))
    area = ChoiceOrEmpty(
        _l("Area on the ballot"),
        choices=[],
        description=_l("Each area is an election of its own, with its own budget."),
    )
    answer = TextAreaField(
        _l("Public answer"),
        filters=[strip],
        validators=[Length(max=DESCRIPTION_MAX, message=_l("Use at most %(max)d characters."))],
        description=_l("Shown on the proposal's page and sent to its author and followers."),
    )
    decision = RadioField(
        _l("Decision"),
        choices=[
            SelectChoice(Decision.NONE, _l("No decision yet: save the review")),
            SelectChoice(Decision.ACCEPT, _l("Accept onto the ballot (with the official cost)")),
            SelectChoice(Decision.REJECT, _l("Reject (the public answer explains why)")),
            SelectChoice(Decision.MERGE, _l("Merge into another proposal")),
        ],
        default=Decision.NONE,
        validate_choice=True,
    )
    merge_into = WholeNumberField(
        _l("Number of the proposal to merge into"),
        validators=[Optional()],
        min=1,
        max=ID_MAX,
        message=_l("Not a proposal number."),
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feasibility.choices = feasibility_choices()


class BulkRowForm(Form):
    proposal_id = HiddenField()
    feasibility = SelectField(_l("Feasibility"), choices=[])
    official_cost = AmountField(_l("Official cost (SEK)"))
    answer = TextAreaField(
        _l("Public answer"),
        filters=[strip],
        validators=[Length(max=DESCRIPTION_MAX, message=_l("Use at most %(max)d characters."))],
    )
    decision = SelectField(
        _l("Decision"),
        choices=[
            SelectChoice(Decision.NONE, _l("No decision yet")),
            SelectChoice(Decision.ACCEPT, _l("Accept onto the ballot")),
            SelectChoice(Decision.REJECT, _l("Reject")),
        ],
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.feasibility.choices = feasibility_choices()


class BulkReviewForm(FlaskForm):
    rows = FieldList(FormField(BulkRowForm), _l("Proposals"), max_entries=500)
