"""Regressions found by the probe of the running demo (issue #8). Each item of the issue has
its own section; the tests are named after the item's number."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
import sqlalchemy as sa

from tests.conftest import login, process_changes
from tests.processes.test_processes import create, form_data
from tests.proposals.conftest import make_proc
from tests.proposals.helpers import make_proposal, submit

HUGE = "9" * 400

# == Item 5: 500s from officials' and admins' forms ======================================


@pytest.mark.parametrize("field", [
    "budget", "min_age", "max_projects", "min_projects", "min_budget_share_pct", "points_total",
    "max_points_per_project", "areas-0-budget",
])  # fmt: skip
def test_item5_a_huge_number_in_the_process_form_is_refused_not_a_500(
    client: Any, users: Any, field: str
) -> None:
    login(client, "admin")
    extra = {"ballot_type": "cumulative", "points_total": "10"} if "points" in field else {}
    r = create(client, **{**extra, field: HUGE})
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert "Give a whole number from" in html
    assert HUGE in html  # what was typed is shown again


def test_item5_a_huge_proposal_number_to_merge_into_is_refused_not_a_500(
    app: Any, users: Any, make_process: Any
) -> None:
    proc = make_proc(app, make_process)
    pid = make_proposal(app, proc.process, users["participant"])
    official = app.test_client()
    login(official, "official")
    r = official.post(f"/p/parker/review/{pid}?lang=en", data={
        "feasibility": "", "official_cost": "", "answer": "", "decision": "merge",
        "merge_into": HUGE,
    })  # fmt: skip
    assert r.status_code == 400
    assert "Not a proposal number." in r.get_data(as_text=True)


@pytest.mark.parametrize("field,value", [
    ("phases-proposals-starts_at", "0001-01-01T00:00"),
    ("phases-voting-ends_at", "9999-12-31T23:59"),
    ("decision_date", "0001-01-01"),
    ("decision_date", "9999-12-31"),
])  # fmt: skip
def test_item5_dates_far_from_now_are_refused(
    client: Any, users: Any, field: str, value: str
) -> None:
    login(client, "admin")
    r = create(client, **{field: value})
    assert r.status_code == 400
    assert "Give a date between the years 2000 and 2200." in r.get_data(as_text=True)


def test_item5_a_decision_date_in_range_saves_and_the_form_saves_again(
    client: Any, users: Any
) -> None:
    login(client, "admin")
    assert create(client, decision_date="2000-01-01").status_code == 303
    page = client.get("/admin/processes/lund-2027/edit?lang=en").get_data(as_text=True)
    assert 'value="2000-01-01"' in page
    r = client.post("/admin/processes/lund-2027/edit?lang=en", data=form_data())
    assert r.status_code == 303, r.get_data(as_text=True)


def _day(offset: int) -> str:
    return (dt.date.today() + dt.timedelta(days=offset)).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("phases,message", [
    # The probe's case: a proposal phase that runs on into voting.
    ({"phases-proposals-ends_at": _day(50), "phases-review-starts_at": "",
      "phases-review-ends_at": ""},
     "The phase “Voting” must start when the phase “Proposals” ends or later."),
    ({"phases-review-starts_at": _day(10)},
     "The phase “Review” must start when the phase “Proposals” ends or later."),
    # Voting before proposals, without review.
    ({"phases-review-starts_at": "", "phases-review-ends_at": "",
      "phases-voting-starts_at": _day(-30), "phases-voting-ends_at": _day(-10)},
     "The phase “Voting” must start when the phase “Proposals” ends or later."),
])  # fmt: skip
def test_item5_phases_out_of_order_or_overlapping_are_refused(
    client: Any, users: Any, db: Any, phases: dict[str, str], message: str
) -> None:
    from pb.processes.models import Process

    login(client, "admin")
    r = create(client, **phases)
    html = r.get_data(as_text=True)
    assert r.status_code == 400
    assert message in html
    assert db.scalar(sa.select(sa.func.count()).select_from(Process)) == 0


def test_item5_phases_that_touch_are_accepted(client: Any, users: Any) -> None:
    login(client, "admin")
    assert create(client).status_code == 303  # proposals end when review starts, and so on


def test_item5_the_service_refuses_overlapping_phases_too(app: Any, users: Any) -> None:
    from pb.db import get_session
    from pb.errors import Invalid
    from pb.processes import services
    from pb.processes.models import PhaseKind

    changes = process_changes()
    proposals, voting = changes.phases[PhaseKind.PROPOSALS], changes.phases[PhaseKind.VOTING]
    changes.phases[PhaseKind.PROPOSALS] = (proposals[0], voting[0] + dt.timedelta(days=1))
    with app.test_request_context("/?lang=en"):
        with pytest.raises(Invalid, match="must start when the phase"):
            services.create_process(get_session(), changes, users["admin"])
        get_session().rollback()
        changes.phases[PhaseKind.PROPOSALS] = (dt.datetime(1, 1, 1, tzinfo=dt.UTC), proposals[1])
        with pytest.raises(Invalid, match="between the years 2000 and 2200"):
            services.create_process(get_session(), changes, users["admin"])


# == Item 6: number fields read "1_0" as 10 ===============================================


@pytest.mark.parametrize("value", ["1_0", "+10", "1e1", "١٠", "10.0", " 1 0 "])
def test_item6_number_fields_take_plain_digits_only(
    client: Any, users: Any, db: Any, value: str
) -> None:
    from pb.processes.models import Process

    login(client, "admin")
    r = create(client, min_age=value)
    assert r.status_code == 400
    assert "Give a whole number from 0 to 120." in r.get_data(as_text=True)
    assert db.scalar(sa.select(sa.func.count()).select_from(Process)) == 0
    assert create(client, min_age=" 10 ").status_code == 303


@pytest.mark.parametrize("lat,lon", [("5_5.7", "13.19"), ("55.7", "1_3"), ("nan", "13"),
                                     ("55.7", "1e1"), ("55.7", "inf")])  # fmt: skip
def test_item6_coordinates_take_plain_decimals_only(
    app: Any, users: Any, make_process: Any, lat: str, lon: str
) -> None:
    proc = make_proc(app, make_process)
    client = app.test_client()
    login(client, "participant")
    r = submit(client, "parker", category=str(proc.parks), latitude=lat, longitude=lon)
    assert r.status_code == 400
    html = r.get_data(as_text=True)
    assert "Not a valid latitude." in html or "Not a valid longitude." in html
    r = submit(client, "parker", category=str(proc.parks), latitude="55,7047", longitude="13.191")
    assert r.status_code == 303, r.get_data(as_text=True)
