"""Plain-language labels and explanations for the process vocabularies, in sv and en.

Strings are marked for translation in English; the Swedish catalogue gives Lund's own
wording (the influence model of Lunds kommuns strategi för medborgardialog, 2016).
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import Enum
from typing import TypeVar

from flask_babel import LazyString
from flask_babel import lazy_gettext as _l
from wtforms import SelectChoice

from pb.processes.models import (
    BallotType,
    CodeChannel,
    Connection,
    CountingRule,
    InfluenceLevel,
    PhaseKind,
    TieBreak,
)

Label = tuple[LazyString, LazyString]  # (name, plain explanation)
E = TypeVar("E", bound=Enum)  # a table's vocabulary (Mapping keys are invariant)

INFLUENCE: Mapping[InfluenceLevel, Label] = {
    InfluenceLevel.INFORMATION: (
        _l("Information"),
        _l("You get information and knowledge about a question. You are not asked to decide."),
    ),
    InfluenceLevel.CONSULTATION: (
        _l("Consultation"),
        _l("You give your views on a question. They are collected as a basis for decisions."),
    ),
    InfluenceLevel.DISCUSSION: (
        _l("Discussion"),
        _l(
            "You discuss with others and argue for different points of view. The perspectives "
            "are collected as a basis for decisions."
        ),
    ),
    InfluenceLevel.LEARNING_DIALOGUE: (
        _l("Learning dialogue"),
        _l(
            "Together we learn more about a question, over several meetings. The result can be "
            "a basis for decisions."
        ),
    ),
    InfluenceLevel.CO_CREATION: (
        _l("Co-creation and co-decision"),
        _l(
            "You take part in planning and deciding. Here you propose projects and vote on how "
            "the money is spent."
        ),
    ),
}

PHASES: Mapping[PhaseKind, Label] = {
    PhaseKind.PROPOSALS: (
        _l("Proposals"),
        _l("Anyone may propose ideas, support and discuss them."),
    ),
    PhaseKind.REVIEW: (
        _l("Review"),
        _l(
            "Officials check whether each proposal is feasible and what it costs, and answer in public."
        ),
    ),
    PhaseKind.VOTING: (_l("Voting"), _l("You vote with your voting code.")),
    PhaseKind.COUNTING: (_l("Counting"), _l("The ballots are counted by the published rule.")),
    PhaseKind.RESULTS: (
        _l("Results"),
        _l("The results are published with an explanation for every project."),
    ),
    PhaseKind.IMPLEMENTATION: (
        _l("Implementation"),
        _l("The winning projects are built, and you can follow their progress."),
    ),
}

CONNECTIONS: Mapping[Connection, Label] = {
    Connection.LIVES: (_l("You live in the municipality"), _l("Your home is here.")),
    Connection.STUDIES: (
        _l("You study in the municipality"),
        _l("You go to a school, college or university here."),
    ),
    Connection.WORKS: (_l("You work in the municipality"), _l("Your workplace is here.")),
    Connection.BUSINESS: (
        _l("You run a business in the municipality"),
        _l("You own or run a company or association here."),
    ),
    Connection.OTHER: (_l("Another connection"), _l("As described below.")),
}

CHANNELS: Mapping[CodeChannel, Label] = {
    CodeChannel.LETTER: (
        _l("By letter"),
        _l("A letter with a voting code and a QR code is sent to your home."),
    ),
    CodeChannel.EMAIL: (
        _l("By e-mail"),
        _l("You ask for a code by e-mail after stating that you may take part."),
    ),
    CodeChannel.SCHOOL: (_l("At school"), _l("Pupils get codes in class.")),
    CodeChannel.LIBRARY: (_l("At the library"), _l("Ask for a code at a public library.")),
}

BALLOT_TYPES: Mapping[BallotType, Label] = {
    BallotType.APPROVAL_BUDGET: (
        _l("Choose projects within the budget"),
        _l("Choose the projects you want. Together they may not cost more than the budget."),
    ),
    BallotType.APPROVAL_K: (
        _l("Choose a number of projects"),
        _l("Choose the projects you want, up to the number stated."),
    ),
    BallotType.CUMULATIVE: (
        _l("Spread points"),
        _l("You have a number of points to spread over the projects you like."),
    ),
}

COUNTING_RULES: Mapping[CountingRule, Label] = {
    CountingRule.GREEDY: (
        _l("Most votes first"),
        _l(
            "The project with the most votes gets money first, then the next, as long as the "
            "money lasts. A project that costs more than what is left is skipped, and the next "
            "one is tried."
        ),
    ),
    CountingRule.EQUAL_SHARES: (
        _l("Method of Equal Shares"),
        _l(
            "Every voter gets an equal share of the budget. A project is funded when its "
            "supporters can pay for it together from their shares, cheapest per supporter "
            "first. Money that is left is then given to the projects with most votes that still "
            "fit. This way groups of voters get projects in proportion to their size."
        ),
    ),
}

TIE_BREAKS: Mapping[TieBreak, Label] = {
    TieBreak.PROJECT_NUMBER: (
        _l("By project number"),
        _l(
            "If two projects have the same number of votes, the one with the lower project "
            "number comes first."
        ),
    ),
    TieBreak.CHEAPER_FIRST: (
        _l("Cheaper first"),
        _l("If two projects have the same number of votes, the cheaper one comes first."),
    ),
    TieBreak.LOTTERY: (
        _l("Lottery"),
        _l(
            "If two projects have the same number of votes, a lottery decides. Its seed is "
            "published before voting so anyone can check the draw."
        ),
    ),
    TieBreak.LEXICOGRAPHIC: (
        _l("By project code in alphabetical order"),
        _l(
            "If two projects have the same number of votes, the one whose project code comes "
            "first in alphabetical order comes first. Codes are compared character by "
            "character, so 10 comes before 2."
        ),
    ),
}


def choices(table: Mapping[E, Label]) -> list[SelectChoice]:
    return [SelectChoice(member.value, label[0]) for member, label in table.items()]


def name(table: Mapping[E, Label], member: Enum | str) -> str:
    for key, label in table.items():
        if key == member or key.value == member:
            return str(label[0])
    return str(member)


def explain(table: Mapping[E, Label], member: Enum | str) -> str:
    for key, label in table.items():
        if key == member or key.value == member:
            return str(label[1])
    return ""
