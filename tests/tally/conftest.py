"""Shared fixtures for the tally tests: where the shared pabulib files are."""

from __future__ import annotations

import os
from functools import cache
from pathlib import Path

import pytest

from pb.tally import Election, load


def pabulib_dir() -> Path:
    """``$PB_PABULIB_DIR``, else ``shared/pabulib`` beside the repository."""
    override = os.environ.get("PB_PABULIB_DIR")
    if override:
        return Path(override)
    return Path(__file__).resolve().parents[2].parent / "shared" / "pabulib"


def pabulib_files() -> list[str]:
    directory = pabulib_dir()
    return sorted(p.name for p in directory.glob("*.pb")) if directory.is_dir() else []


@cache
def load_shared(name: str) -> Election:
    return load(pabulib_dir() / name)


@pytest.fixture
def shared_dir() -> Path:
    directory = pabulib_dir()
    if not directory.is_dir() or not pabulib_files():
        pytest.skip(f"shared pabulib files not found at {directory} (set PB_PABULIB_DIR)")
    return directory


def needs_file(name: str) -> None:
    if not (pabulib_dir() / name).is_file():
        pytest.skip(f"{name} not found in {pabulib_dir()} (set PB_PABULIB_DIR)")


# Parametrise over the files when present; one skipped placeholder otherwise.
SHARED = pabulib_files() or ["<no shared pabulib files>"]
