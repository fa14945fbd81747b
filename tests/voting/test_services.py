"""Casting, bad input, mixing, receipts, changing one's mind, paper ballots, the extension
and the rules fingerprint, through the services on a real database."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tests.voting.conftest import Vote, ballot, issue, make_vote, now


def _cast(app: Any, vote: Vote, code: str, b: Any, when: dt.datetime | None = None) -> Any:
    from pb.db import get_session
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        session = get_session()
        try:
            receipt = services.cast(session, vote.process(session), code, b, when or now())
        except Exception:
            session.rollback()
            raise
        session.commit()
        return receipt


def _counts(app: Any, vote: Vote) -> dict[str, int]:
    from pb.db import get_session
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        return services.counts(get_session(), vote.process_id)


def _mix(app: Any, vote: Vote, everything: bool = False) -> int:
    from pb.db import get_session
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        session = get_session()
        n = services.mix(session, vote.process_id, everything=everything)
        session.commit()
        return n


def test_a_code_casts_one_ballot_then_counts_for_nothing(app: Any, vote: Vote) -> None:
    from pb.voting.services import CodeAlreadyUsed

    [code] = issue(app, vote)
    receipt = _cast(app, vote, code, ballot("p1", "p2"))
    assert receipt and receipt != code
    with pytest.raises(CodeAlreadyUsed):
        _cast(app, vote, code.lower().replace("-", " "), ballot("p3"))
    assert _counts(app, vote) == {"ballots": 0, "held": 1, "used_codes": 1, "receipts": 0}
    assert _mix(app, vote) == 0  # fewer than a batch: stays held during voting
    assert _mix(app, vote, everything=True) == 1
    assert _counts(app, vote) == {"ballots": 1, "held": 0, "used_codes": 1, "receipts": 1}


def test_ballot_rows_carry_no_code_and_only_the_day(app: Any, vote: Vote, db: Any) -> None:
    from pb.voting import codes
    from pb.voting.models import Ballot

    issued = issue(app, vote, 3)
    for code in issued:
        _cast(app, vote, code, ballot("p5"))
    _mix(app, vote, everything=True)
    rows = db.execute(sa.select(Ballot.__table__)).mappings().all()
    assert len(rows) == 3
    pepper = app.config["VOTING_CODE_PEPPER"]
    secrets_ = {codes.digest(pepper, c) for c in issued} | {codes.normalize(c) for c in issued}
    for row in rows:
        assert set(row.keys()) == {"id", "process_id", "day", "area", "age_band", "connection",
                                   "paper", "choices", "receipt_digest"}  # fmt: skip
        assert isinstance(row["day"], dt.date) and not isinstance(row["day"], dt.datetime)
        assert len(row["id"]) == 32
        assert not any(s in str(dict(row)) for s in secrets_)


@pytest.mark.parametrize(
    ("projects", "error", "words"),
    [
        (("p1", "p2", "p3"), "OverBudget", "more than"),
        (("p1", "nope"), "BallotInvalid", "not on this ballot"),
        ((), "BallotInvalid", "at least"),
    ],
)
def test_bad_ballots_consume_nothing(
    app: Any, vote: Vote, projects: tuple[str, ...], error: str, words: str
) -> None:
    from pb.voting import services

    [code] = issue(app, vote)
    with pytest.raises(getattr(services, error)) as caught:
        _cast(app, vote, code, ballot(*projects))
    assert words in str(caught.value.message)
    assert _counts(app, vote)["used_codes"] == 0
    assert _cast(app, vote, code, ballot("p1"))


def test_at_most_k_projects(app: Any, make_process: Any) -> None:
    from pb.voting.services import TooManyProjects

    vote = make_vote(app, make_process, slug="k", ballot_type="approval-k", max_projects=2)
    [code] = issue(app, vote)
    with pytest.raises(TooManyProjects):
        _cast(app, vote, code, ballot("p1", "p2", "p5"))
    assert _cast(app, vote, code, ballot("p1", "p5"))


def test_points_over_a_limit(app: Any, make_process: Any) -> None:
    from pb.voting.services import PointsInvalid

    vote = make_vote(app, make_process, slug="pts", ballot_type="cumulative", points_total=10,
                     max_points_per_project=5)  # fmt: skip
    [code] = issue(app, vote)
    with pytest.raises(PointsInvalid):
        _cast(app, vote, code, ballot("p1", "p2", points=(6, 4)))
    with pytest.raises(PointsInvalid):
        _cast(app, vote, code, ballot("p1", "p2", "p3", points=(5, 5, 5)))
    assert _cast(app, vote, code, ballot("p1", "p2", "p3", points=(5, 5, 0)))


def test_a_project_of_another_process_is_refused(app: Any, make_process: Any) -> None:
    from pb.voting.services import BallotInvalid

    vote = make_vote(app, make_process)
    make_vote(app, make_process, slug="annan", projects=[("x9", "Annat", 1000, None)])
    [code] = issue(app, vote)
    with pytest.raises(BallotInvalid):
        _cast(app, vote, code, ballot("x9"))


def test_codes_of_another_process_typos_revoked_unknown(app: Any, make_process: Any) -> None:
    from pb.db import get_session
    from pb.voting import codes, services

    vote = make_vote(app, make_process)
    other = make_vote(app, make_process, slug="annan")
    [foreign] = issue(app, other)
    with pytest.raises(services.CodeUnknown):
        _cast(app, vote, foreign, ballot("p1"))
    with pytest.raises(services.CodeUnknown):
        _cast(app, vote, codes.generate(), ballot("p1"))
    [code] = issue(app, vote)
    typo = code[:-1] + codes.CHECK_SYMBOLS[(codes.CHECK_SYMBOLS.index(code[-1]) + 1) % 37]
    with pytest.raises(codes.CodeTypo):
        _cast(app, vote, typo, ballot("p1"))
    with app.test_request_context("/?lang=en"):
        session = get_session()
        services.revoke_code(session, vote.process(session), code, None)
        session.commit()
    with pytest.raises(services.CodeRevoked):
        _cast(app, vote, code, ballot("p1"))


def test_batch_revocation_leaves_used_codes_alone(app: Any, vote: Vote, db: Any) -> None:
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import CodeBatch

    issued = issue(app, vote, 4)
    _cast(app, vote, issued[0], ballot("p1"))
    batch_id = db.scalar(sa.select(CodeBatch.id))
    with app.test_request_context("/?lang=en"):
        session = get_session()
        assert services.revoke_batch(session, vote.process(session), batch_id, None) == 3
        session.commit()
    for code in issued[1:]:
        with pytest.raises(services.CodeRevoked):
            _cast(app, vote, code, ballot("p1"))
    assert _counts(app, vote)["held"] == 1


def test_voting_outside_the_phase(app: Any, make_process: Any) -> None:
    from pb.voting.services import VotingClosed

    vote = make_vote(app, make_process, slug="snart", running="review")
    [code] = issue(app, vote)
    with pytest.raises(VotingClosed, match="opens"):
        _cast(app, vote, code, ballot("p1"))
    with pytest.raises(VotingClosed, match="closed"):
        _cast(app, vote, code, ballot("p1"), when=now() + dt.timedelta(days=400))
    assert _counts(app, vote)["used_codes"] == 0


def test_issuing_is_audited_with_counts_never_codes(app: Any, vote: Vote, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.voting import codes

    issued = issue(app, vote, 25, purpose="Bibliotek Dalby")
    events = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "codes.issue")).all()
    assert len(events) == 1
    assert events[0].data["count"] == 25 and events[0].data["purpose"] == "Bibliotek Dalby"
    text = str(events[0].data) + events[0].reason
    for code in issued:
        assert code not in text and codes.normalize(code) not in text


def test_receipts_and_changing_ones_mind(app: Any, vote: Vote, db: Any) -> None:
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import Ballot

    a, b = issue(app, vote, 2)
    receipt_a = _cast(app, vote, a, ballot("p1"))
    receipt_b = _cast(app, vote, b, ballot("p2"))
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        assert services.receipt_found(session, process, receipt_a)
        assert not services.receipt_found(session, process, a)  # a code is no receipt
        # The code with someone else's receipt cannot replace anything.
        with pytest.raises(services.ReceiptMismatch):
            services.replace(session, process, a, receipt_b, ballot("p4"), now())
        session.rollback()
        # Before mixing: replacing takes the place of the held ballot.
        services.replace(session, process, a, receipt_a, ballot("p3"), now())
        session.commit()
    _mix(app, vote, everything=True)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        services.replace(session, process, a, receipt_a, ballot("p4", "p5"), now())
        session.commit()
        assert services.receipt_found(session, process, receipt_a)
    _mix(app, vote, everything=True)
    chosen = sorted(tuple(r.choices[0]["projects"]) for r in db.scalars(sa.select(Ballot)))
    assert chosen == [("p2",), ("p4", "p5")]
    # After voting closed, no change any more.
    with app.test_request_context("/?lang=en"):
        session = get_session()
        with pytest.raises(services.VotingClosed):
            services.replace(session, vote.process(session), a, receipt_a, ballot("p1"),
                             now() + dt.timedelta(days=400))  # fmt: skip


def test_paper_ballots_need_two_matching_entries(app: Any, vote: Vote, users: Any, db: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import PaperEntry

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        assert not services.enter_paper(session, process, code, ballot("p1", "p2"),
                                        users["official"], now())  # fmt: skip
        session.commit()
        with pytest.raises(services.PaperMismatch):
            services.enter_paper(session, process, code, ballot("p1"), users["admin"], now())
        session.rollback()
        assert services.enter_paper(session, process, code, ballot("p2", "p1"),
                                    users["admin"], now())  # fmt: skip
        session.commit()
    assert _counts(app, vote)["used_codes"] == 1
    assert db.scalar(sa.select(sa.func.count()).select_from(PaperEntry)) == 0
    entries = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "voting.paper-entry"))
    by = sorted(e.actor_id for e in entries)
    assert by == sorted([users["official"].id, users["admin"].id])
    _mix(app, vote, everything=True)
    from pb.voting.models import Ballot

    [row] = db.scalars(sa.select(Ballot)).all()
    # Once mixed, a paper ballot looks like any other (see test_attacks.py).
    assert not row.paper and row.receipt_digest and len(row.receipt_digest) == 64


def test_a_wrong_first_paper_entry_can_be_thrown_away(
    app: Any, vote: Vote, users: Any, db: Any
) -> None:
    """Probe 3 F6: a typo in the first entry could never be corrected (the right second entry
    was refused forever, only the typo again counted). Now the mismatch opens the first entry
    with the code just typed (the row holds it sealed, never in the clear), and discarding it
    lets the ballot be entered afresh; the code stays unused until two entries match."""
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import PaperEntry

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        assert not services.enter_paper(session, process, code, ballot("p3"), users["official"],
                                        now())  # fmt: skip
        session.commit()
        [row] = db.scalars(sa.select(PaperEntry)).all()
        assert row.sealed and "p3" not in row.sealed and b"p3".hex() not in row.sealed
        sealed = bytes.fromhex(row.sealed)  # nonce, AES-GCM ciphertext of the padded choices, tag
        assert (len(sealed) - services.SEAL_OVERHEAD) % services.PAPER_SEAL_BLOCK == 0
        with pytest.raises(services.PaperMismatch) as refused:
            services.enter_paper(session, process, code, ballot("p4"), users["admin"], now())
        session.rollback()
        assert refused.value.first == ballot("p3")
        services.discard_paper_entry(session, process, code, users["admin"])
        session.commit()
        assert db.scalar(sa.select(sa.func.count()).select_from(PaperEntry)) == 0
        with pytest.raises(services.NoPendingEntry):
            services.discard_paper_entry(session, process, code, users["admin"])
        session.rollback()
        assert _counts(app, vote)["used_codes"] == 0
        assert not services.enter_paper(session, process, code, ballot("p4"), users["admin"],
                                        now())  # fmt: skip
        session.commit()
        assert services.enter_paper(session, process, code, ballot("p4"), users["admin"], now())
        session.commit()
    assert _counts(app, vote)["used_codes"] == 1
    [discard] = db.scalars(sa.select(AuditEvent).where(AuditEvent.action == "voting.paper-discard"))
    assert discard.actor_id == users["admin"].id and discard.data == {"entries": 1}
    _mix(app, vote, everything=True)
    from pb.voting.models import Ballot

    [counted] = db.scalars(sa.select(Ballot)).all()
    assert counted.choices[0]["projects"] == ["p4"]


def test_a_first_paper_entry_does_not_outlive_the_vote(
    app: Any, vote: Vote, users: Any, db: Any
) -> None:
    """A first entry never confirmed can never count once voting has closed: the mixing at
    the close deletes it."""
    from pb.db import get_session
    from pb.processes.models import PhaseKind
    from pb.voting import services
    from pb.voting.models import PaperEntry

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        services.enter_paper(session, process, code, ballot("p1"), users["official"], now())
        session.commit()
        services.mix_due(session, process, now())  # voting still open: kept
        session.commit()
        assert db.scalar(sa.select(sa.func.count()).select_from(PaperEntry)) == 1
        after = process.phase(PhaseKind.VOTING).ends_at + dt.timedelta(seconds=1)
        services.mix_due(session, process, after)
        session.commit()
    assert db.scalar(sa.select(sa.func.count()).select_from(PaperEntry)) == 0


def test_extension_never_shortens_and_never_after_the_end(app: Any, vote: Vote, users: Any) -> None:
    from pb.audit import AuditEvent
    from pb.db import get_session
    from pb.processes.models import PhaseKind
    from pb.voting import services

    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        end = process.phase(PhaseKind.VOTING).ends_at
        with pytest.raises(services.ExtensionRefused):
            services.extend_voting(session, process, end - dt.timedelta(days=1), "x",
                                   users["admin"], now())  # fmt: skip
        with pytest.raises(services.ExtensionRefused):
            services.extend_voting(session, process, end + dt.timedelta(days=1), "  ",
                                   users["admin"], now())  # fmt: skip
        with pytest.raises(services.ExtensionRefused):
            services.extend_voting(session, process, end + dt.timedelta(days=9), "late",
                                   users["admin"], end + dt.timedelta(seconds=1))  # fmt: skip
        counting = process.phase(PhaseKind.COUNTING).starts_at
        services.extend_voting(session, process, end + dt.timedelta(days=3),
                               "The letters arrived late.", users["admin"], now())  # fmt: skip
        session.commit()
        assert process.phase(PhaseKind.VOTING).ends_at == end + dt.timedelta(days=3)
        assert process.phase(PhaseKind.COUNTING).starts_at == counting + dt.timedelta(days=3)
        ev = session.scalar(sa.select(AuditEvent).where(AuditEvent.action == "voting.extend"))
        assert ev.reason == "The letters arrived late."


def test_fingerprint_is_sha256_of_the_canonical_rules(app: Any, vote: Vote) -> None:
    import hashlib
    import json

    from pb.db import get_session
    from pb.voting import services

    [code] = issue(app, vote)
    _cast(app, vote, code, ballot("p1"))
    with app.test_request_context("/?lang=en"):
        session = get_session()
        assert services.voting_record(session, vote.process(session)) is None
        assert services.mix_due(session, vote.process(session), now()) == 0
        session.commit()
        rec = services.voting_record(session, vote.process(session))
        assert rec and rec.fingerprint
        assert hashlib.sha256(rec.canonical_rules.encode()).hexdigest() == rec.fingerprint
        doc = json.loads(rec.canonical_rules)
        assert doc["ballot"][""]["max_total_cost"] == "300000"
        assert [p[0] for p in doc["projects"]] == ["p1", "p2", "p3", "p4", "p5"]
        assert services.canonical_rules(session, vote.process(session)) == rec.canonical_rules


def test_districts_each_with_their_own_budget(app: Any, make_process: Any) -> None:
    from pb.voting import services

    vote = make_vote(app, make_process, slug="omr", budget=5_000_000, area_restricted=True,
                     areas=[("Norra Fäladen", 200_000), ("Klostergården", 300_000)],
                     projects=[("n1", "Lekplats", 150_000, "Norra Fäladen"),
                               ("n2", "Bänkar", 100_000, "Norra Fäladen"),
                               ("k1", "Belysning", 250_000, "Klostergården")])  # fmt: skip
    [bound] = issue(app, vote, area="Norra Fäladen")
    [free] = issue(app, vote)
    with pytest.raises(services.BallotInvalid):  # a district code votes in its district only
        _cast(app, vote, bound, ballot("k1", area="klostergarden", district="klostergarden"))
    with pytest.raises(services.OverBudget):
        _cast(app, vote, bound, ballot("n1", "n2", area="norra-faladen"))
    assert _cast(app, vote, bound, ballot("n1", area="norra-faladen"))
    with pytest.raises(services.BallotInvalid, match="district"):
        _cast(app, vote, free, ballot())
    assert _cast(app, vote, free, ballot("k1", area="klostergarden", district="klostergarden"))


def test_declared_age_and_connection_follow_the_eligibility(app: Any, vote: Vote) -> None:
    from pb.errors import Invalid
    from pb.processes.models import Connection
    from pb.voting.models import AgeBand

    [code] = issue(app, vote)
    # The process's minimum age is 12: "15 or younger" may be eligible; "other" is not offered.
    other = ballot("p1", age_band=AgeBand.UNDER_16, connection=Connection.OTHER)
    with pytest.raises(Invalid, match="connections"):
        _cast(app, vote, code, other)
    ok = ballot("p1", age_band=AgeBand.UNDER_16, connection=Connection.STUDIES)
    assert _cast(app, vote, code, ok)


def test_too_young_is_refused(app: Any, make_process: Any) -> None:
    from pb.errors import NotAllowed
    from pb.voting.models import AgeBand

    vote = make_vote(app, make_process, slug="vuxen", min_age=18)
    [code] = issue(app, vote)
    with pytest.raises(NotAllowed, match="at least 18"):
        _cast(app, vote, code, ballot("p1", age_band=AgeBand.AGE_16_17))
    assert _cast(app, vote, code, ballot("p1", age_band=AgeBand.AGE_18_25))


def test_a_pending_entry_is_sealed_with_aes_gcm_and_a_changed_byte_opens_nothing(
    app: Any, vote: Vote, users: Any, db: Any
) -> None:
    """The first entry's choices are AES-256-GCM under a key from the pepper, the code and the
    entry's random id (the ``cryptography`` package, not a construction of our own). One
    changed byte and it does not open: the mismatch is then shown without the first entry's
    choices, and the commitment still decides (a matching second entry counts)."""
    from pb.db import get_session
    from pb.voting import services
    from pb.voting.models import PaperEntry

    [code] = issue(app, vote)
    with app.test_request_context("/?lang=en"):
        session = get_session()
        process = vote.process(session)
        services.enter_paper(session, process, code, ballot("p3"), users["official"], now())
        session.commit()
        [row] = db.scalars(sa.select(PaperEntry)).all()
        sealed = bytearray(bytes.fromhex(row.sealed))
        assert len(sealed) - services.SEAL_OVERHEAD == services.PAPER_SEAL_BLOCK
        sealed[services.SEAL_NONCE + 5] ^= 1
        db.execute(sa.update(PaperEntry).values(sealed=sealed.hex()))
        db.commit()
        session.expire_all()
        with pytest.raises(services.PaperMismatch) as refused:
            services.enter_paper(session, process, code, ballot("p4"), users["admin"], now())
        session.rollback()
        assert refused.value.first is None
        assert services.enter_paper(session, process, code, ballot("p3"), users["admin"], now())
        session.commit()
    assert _counts(app, vote)["used_codes"] == 1
