"""Fixtures for the moderation tests: the same as the proposal tests'."""

from tests.proposals.conftest import Proc, make_proc, proc

__all__ = ["Proc", "make_proc", "proc"]
