"""The questions of the e-mail code flow, one form per page (``selfservice_routes``).

The forms carry no CSRF field of their own: the views check the token themselves, so that an
expired page shows the answer that was sent again instead of an error page.
"""

from __future__ import annotations

from typing import Any

from flask import current_app
from flask_babel import lazy_gettext as _l
from wtforms import EmailField, RadioField, SelectChoice
from wtforms.validators import InputRequired, Length

from pb.forms import FlaskForm
from pb.processes import vocab
from pb.processes.contract import Contract
from pb.processes.models import Process
from pb.voting.models import AgeBand

NONE_OF_THESE = "none"
YOUNGER = "younger"
"""The age answer "younger than the minimum age", where a band would hide it."""

AGE_BANDS: dict[AgeBand, Any] = {  # the ballot's declaration uses them too (pb.voting.routes)
    AgeBand.UNDER_16: _l("15 or younger"),
    AgeBand.AGE_16_17: "16–17",
    AgeBand.AGE_18_25: "18–25",
    AgeBand.AGE_26_39: "26–39",
    AgeBand.AGE_40_64: "40–64",
    AgeBand.AGE_65_UP: _l("65 or older"),
}


def age_choices(min_age: int) -> list[SelectChoice]:
    """The age question's choices. A band counts as its oldest age, so where the minimum
    age falls inside a band (10 inside "15 or younger") the band would let a younger person
    through: then the bands below the minimum become one answer, "Younger than 10", which
    rules the person out, and the band starts at the minimum ("10–15")."""
    straddled = next((b for b in AGE_BANDS if b.lowest < min_age <= b.highest), None)
    if straddled is None:
        return [SelectChoice(b.value, label) for b, label in AGE_BANDS.items()]
    choices = [SelectChoice(YOUNGER, _l("Younger than %(age)s", age=min_age))]
    for band, label in AGE_BANDS.items():
        if band.highest < min_age:
            continue
        if band is straddled:
            if band is AgeBand.AGE_65_UP:
                label = _l("%(age)s or older", age=min_age)
            else:
                label = str(min_age) if min_age == band.highest else f"{min_age}–{band.highest}"
        choices.append(SelectChoice(band.value, label))
    return choices


class Question(FlaskForm):
    """One question; ``answer`` is its only field."""

    class Meta(FlaskForm.Meta):
        csrf = False

    answer: Any
    heading: Any = ""
    hint: Any = ""


class ConnectionQuestion(Question):
    heading = _l("What connects you to the municipality?")
    hint = _l(
        "You may vote if at least one of these is true for you. Choose the one that fits best."
    )
    answer = RadioField(heading, choices=[],
                        validators=[InputRequired(message=_l("Choose what makes you eligible."))])  # fmt: skip

    def __init__(self, process: Process, locale: str, **kw: Any) -> None:
        super().__init__(**kw)
        allowed = Contract.of(process).eligibility.connections
        choices = [
            SelectChoice(
                c.value, process.text("other_connection", locale) if c == "other" else label[0]
            )
            for c, label in vocab.CONNECTIONS.items()
            if c in allowed
        ]
        self.answer.choices = [*choices, SelectChoice(NONE_OF_THESE, _l("None of these"))]


class AgeQuestion(Question):
    heading = _l("How old are you?")
    hint = _l("Choose your age group. It is only checked here: it is not kept with your code.")
    answer = RadioField(heading, choices=[SelectChoice(b.value, label) for b, label in AGE_BANDS.items()],
                        validators=[InputRequired(message=_l("Choose your age."))])  # fmt: skip

    def __init__(self, process: Process, locale: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.answer.choices = age_choices(Contract.of(process).eligibility.min_age)


class DistrictQuestion(Question):
    heading = _l("Which district do you vote in?")
    hint = _l("Your code is for this district: you vote on its projects.")
    answer = RadioField(heading, choices=[],
                        validators=[InputRequired(message=_l("Choose the district you vote in."))])  # fmt: skip

    def __init__(self, process: Process, locale: str, **kw: Any) -> None:
        super().__init__(**kw)
        contract = Contract.of(process)
        self.answer.choices = [SelectChoice(a.slug, a.name) for a in contract.districts]
        if contract.whole_area is not None:
            self.hint = _l(
                "Your code is for this district: you vote on its projects, and on the "
                "projects for %(area)s.",
                area=contract.whole_area.name,
            )


class AddressQuestion(Question):
    heading = _l("What is your e-mail address?")
    hint: Any = ""  # set per request: it names the retention setting's days
    answer = EmailField(heading, validators=[
        InputRequired(message=_l("Enter your e-mail address, like name@example.org.")),
        Length(max=254),
    ])  # fmt: skip

    def __init__(self, process: Process, locale: str, *, by_link: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        if by_link:
            self.hint = _l("The address the link was sent to. We mail your code there.")
        else:
            self.hint = _l(
                "We send a link there, and then your code. We keep only a fingerprint of the "
                "address, so that it cannot get two codes; it is deleted %(days)s days after "
                "the results are published.",
                days=current_app.config["PRIVACY_CODE_EMAIL_DAYS"],
            )


QUESTIONS: dict[str, type[Question]] = {
    "connection": ConnectionQuestion,
    "age": AgeQuestion,
    "district": DistrictQuestion,
    "address": AddressQuestion,
}
