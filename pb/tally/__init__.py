"""pb.tally: counting participatory-budgeting votes, exactly, with an explanation per project.

A pure library: it imports only the standard library and numpy (no Flask, SQLAlchemy or other
pb modules), so the web app, the ``pb tally`` command and researchers can all use it.

>>> from pb.tally import Election, tally
>>> election = Election.build({"a": 60, "b": 50, "c": 40}, budget=100,
...                           ballots=[["a"], ["a", "b"], ["b", "c"], ["c"]])
>>> tally(election, "greedy").selected
('a', 'c')

Contents: the model (:class:`Election`, :class:`Project`, :class:`Ballot`,
:class:`BallotRules`, :class:`Outcome`, :class:`ProjectResult`), pabulib I/O (:func:`load`,
:func:`loads`, :func:`dump`, :func:`dumps`, :class:`PabulibError`), the rules (:data:`RULES`,
:func:`tally`, :data:`TIE_BREAKS`, :func:`seed_from_text`, :func:`project_number_key`) and
explanations (:class:`Explanation`, :data:`SENTENCES`). See ``docs/tally.md``.
"""

from .explain import SENTENCES, Explanation
from .model import (
    Ballot,
    BallotRules,
    BallotType,
    Election,
    Outcome,
    Project,
    ProjectResult,
    Violation,
)
from .pabulib import PabulibError, dump, dumps, load, loads
from .rules import (
    PABULIB_RULES,
    RULES,
    TIE_BREAKS,
    TallyError,
    project_number_key,
    rule_for,
    seed_from_text,
    tally,
    tie_break_order,
)

__all__ = [
    "PABULIB_RULES",
    "RULES",
    "SENTENCES",
    "TIE_BREAKS",
    "Ballot",
    "BallotRules",
    "BallotType",
    "Election",
    "Explanation",
    "Outcome",
    "PabulibError",
    "Project",
    "ProjectResult",
    "TallyError",
    "Violation",
    "dump",
    "dumps",
    "load",
    "loads",
    "project_number_key",
    "rule_for",
    "seed_from_text",
    "tally",
    "tie_break_order",
]
