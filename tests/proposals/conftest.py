"""Fixtures for the proposal and moderation tests: a process in its proposal phase."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from tests.proposals.helpers import ids


@dataclass
class Proc:
    process: Any
    slug: str
    parks: int  # category "Parker"
    streets: int  # category "Gator"
    north: int  # area "Norra Fäladen"
    klostergarden: int  # area "Klostergården"


def make_proc(
    app: Any, make_process: Any, slug: str = "parker", running: str = "proposals"
) -> Proc:
    process = make_process(slug=slug, running=running)
    i = ids(app, slug)
    return Proc(process, slug, i["Parker"], i["Gator"], i["Norra Fäladen"], i["Klostergården"])


@pytest.fixture
def proc(app: Any, make_process: Any) -> Proc:
    return make_proc(app, make_process)
