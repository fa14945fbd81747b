"""What every voting page shows about its process: the contract, the ballot's lines, and
whether voting is open, not yet open or over. The ballot pages (``routes``) and the e-mail
pages (``selfservice_routes``) share it."""

from __future__ import annotations

from typing import Any

from pb.db import utcnow
from pb.i18n import locale_code
from pb.processes import vocab
from pb.processes.contract import Contract
from pb.processes.models import PhaseKind, Process
from pb.processes.present import ballot_lines
from pb.voting.selfservice_forms import AGE_BANDS  # the labels the e-mail questions use too


def status(process: Process) -> dict[str, Any]:
    now = utcnow()
    voting = process.phase(PhaseKind.VOTING)
    return {
        "open": process.in_phase(PhaseKind.VOTING, now),
        "voting": voting,
        "before": voting is not None and now < voting.starts_at,
        "after": voting is not None and now >= voting.ends_at,
    }


def common(process: Process, contract: Contract | None = None) -> dict[str, Any]:
    """The template context every voting page starts from."""
    contract = contract or Contract.of(process)
    return {
        "process": process,
        "contract": contract,
        "ballot_lines": ballot_lines(contract),
        "vocab": vocab,
        "locale": locale_code(),
        "status": status(process),
        "age_bands": AGE_BANDS,
    }
