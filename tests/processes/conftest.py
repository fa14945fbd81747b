"""Fixtures for the process tests that need proposals and projects: the proposal tests'."""

from tests.proposals.conftest import Proc, make_proc, proc

__all__ = ["Proc", "make_proc", "proc"]
