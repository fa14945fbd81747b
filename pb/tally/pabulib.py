"""Read and write pabulib ``.pb`` files (https://pabulib.org/format).

A file has three sections, META, PROJECTS and VOTES, each a title line, a header line and
``;``-separated rows with CSV quoting. Line endings may be CRLF or LF and a UTF-8 BOM is
tolerated. Ids are strings. Malformed input raises :class:`PabulibError`, whose message names
the line and the problem.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import TextIO

from .model import Ballot, BallotRules, BallotType, Election, Project, to_decimal

SECTIONS = ("META", "PROJECTS", "VOTES")
_VOTE_TYPES: dict[str, BallotType] = {
    "approval": "approval",
    "choose-1": "choose-1",
    "cumulative": "cumulative",
    "ordinal": "ordinal",
}
_INT_META = {
    "min_length": "min_projects",
    "max_length": "max_projects",
    "min_points": "min_points",
    "max_points": "max_points",
    "min_sum_points": "min_total_points",
    "max_sum_points": "max_total_points",
}
_AMOUNT_META = {"min_sum_cost": "min_total_cost", "max_sum_cost": "max_total_cost"}


class PabulibError(ValueError):
    """A malformed ``.pb`` file. ``line`` is the 1-based line number (0 if not known)."""

    def __init__(self, line: int, problem: str, source: str = "") -> None:
        self.line = line
        self.problem = problem
        self.source = source
        where = f"{source}: " if source else ""
        super().__init__(f"{where}line {line}: {problem}" if line else f"{where}{problem}")


def _cell(value: str) -> str | None:
    value = value.strip()
    return None if value == "" or value.lower() == "none" else value


def _rows(text: str) -> Iterator[tuple[int, list[str]]]:
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=";", quotechar='"', strict=True)
    start = 1
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            raise PabulibError(start, f"bad CSV quoting ({exc})") from None
        if row and "".join(row).strip():
            yield start, list(map(str.strip, row))
        start = reader.line_num + 1


def _int(value: str, line: int, what: str) -> int:
    try:
        number = Decimal(value.replace(",", "."))
    except ArithmeticError:
        raise PabulibError(line, f"{what} is not a number: {value!r}") from None
    if not number.is_finite() or number != number.to_integral_value():
        raise PabulibError(line, f"{what} is not a whole number: {value!r}")
    return int(number)


def _amount(value: str, line: int, what: str) -> Decimal:
    try:
        number = to_decimal(value.replace(",", ".") if value.count(",") == 1 else value)
    except ValueError:
        raise PabulibError(line, f"{what} is not a number: {value!r}") from None
    if number < 0:
        raise PabulibError(line, f"{what} is negative: {value}")
    return number


def loads(text: str, source: str = "") -> Election:
    """Parse the text of a ``.pb`` file (``source`` names it in error messages)."""
    try:
        return _loads(text, source)
    except PabulibError as exc:
        if exc.source or not source:
            raise
        raise PabulibError(exc.line, exc.problem, source) from None


def _loads(text: str, source: str) -> Election:
    if text.startswith("\ufeff"):
        text = text[1:]

    def fail(line: int, problem: str) -> PabulibError:
        return PabulibError(line, problem, source)

    section: str | None = None
    header: list[str] | None = None
    seen: list[str] = []
    meta: list[tuple[str, str]] = []
    meta_lines: dict[str, int] = {}
    project_rows: list[tuple[int, list[str]]] = []
    vote_rows: list[tuple[int, list[str]]] = []
    project_header: list[str] = []
    vote_header: list[str] = []
    try:
        rows = list(_rows(text))
    except PabulibError as exc:
        raise fail(exc.line, exc.problem) from None
    for line, row in rows:
        if len(row) == 1 and row[0].upper() in SECTIONS:
            name = row[0].upper()
            if name in seen:
                raise fail(line, f"section {name} appears twice")
            expected = SECTIONS[len(seen)]
            if name != expected:
                raise fail(line, f"section {name} found where {expected} was expected")
            seen.append(name)
            section, header = name, None
            continue
        if section is None:
            raise fail(line, "expected the section title META")
        if header is None:
            header = row
            if section == "META" and [h.lower() for h in row[:2]] != ["key", "value"]:
                raise fail(line, "the META header must be 'key;value'")
            if section == "PROJECTS":
                if row[0] != "project_id":
                    raise fail(line, "the PROJECTS header must start with 'project_id'")
                if "cost" not in row:
                    raise fail(line, "the PROJECTS header has no 'cost' column")
                project_header = row
            if section == "VOTES":
                if row[0] != "voter_id":
                    raise fail(line, "the VOTES header must start with 'voter_id'")
                if "vote" not in row:
                    raise fail(line, "the VOTES header has no 'vote' column")
                vote_header = row
            if len(set(row)) != len(row):
                raise fail(line, "a column name is repeated in the header")
            continue
        if section == "META":
            if len(row) < 2:
                raise fail(line, f"a META row needs a key and a value: {';'.join(row)!r}")
            key = row[0]
            if key in meta_lines:
                raise fail(line, f"META key {key!r} is repeated")
            meta_lines[key] = line
            meta.append((key, row[1]))
            continue
        if len(row) != len(header):
            raise fail(line, f"{len(row)} fields where the header has {len(header)}")
        (project_rows if section == "PROJECTS" else vote_rows).append((line, row))
    if len(seen) < 3:
        missing = [name for name in SECTIONS if name not in seen]
        raise fail(0, f"missing section {missing[0]}")

    meta_map = dict(meta)

    def meta_line(key: str) -> int:
        return meta_lines.get(key, 0)

    if "budget" not in meta_map:
        raise fail(0, "META has no budget")
    budget = _amount(meta_map["budget"], meta_line("budget"), "budget")
    vote_type_text = meta_map.get("vote_type", "approval").strip().lower()
    if vote_type_text not in _VOTE_TYPES:
        raise fail(meta_line("vote_type"), f"unsupported vote_type {vote_type_text!r}")
    ballot_type = _VOTE_TYPES[vote_type_text]
    limits: dict[str, object] = {}
    for key, attr in _INT_META.items():
        if meta_map.get(key) not in (None, "", "None"):
            limits[attr] = _int(meta_map[key], meta_line(key), key)
    for key, attr in _AMOUNT_META.items():
        if meta_map.get(key) not in (None, "", "None"):
            limits[attr] = _amount(meta_map[key], meta_line(key), key)
    threshold = None
    if meta_map.get("min_project_score_threshold") not in (None, "", "None"):
        threshold = _amount(
            meta_map["min_project_score_threshold"],
            meta_line("min_project_score_threshold"),
            "min_project_score_threshold",
        )

    projects: list[Project] = []
    project_ids: set[str] = set()
    extra_columns = [c for c in project_header if c not in ("project_id", "cost", "name")]
    for line, row in project_rows:
        cells = {column: _cell(value) for column, value in zip(project_header, row, strict=True)}
        pid = cells["project_id"]
        if pid is None:
            raise fail(line, "empty project_id")
        if pid in project_ids:
            raise fail(line, f"project {pid!r} is listed twice")
        if cells["cost"] is None:
            raise fail(line, f"project {pid!r} has no cost")
        cost = _amount(cells["cost"], line, f"the cost of project {pid!r}")
        extra = tuple((c, cells[c] or "") for c in extra_columns if cells[c] is not None)
        projects.append(Project(pid, cost, cells.get("name") or "", extra))
        project_ids.add(pid)

    ballots: list[Ballot] = []
    voter_ids: set[str] = set()
    vote_extra = [
        (i, c) for i, c in enumerate(vote_header) if c not in ("voter_id", "vote", "points")
    ]
    i_vote = vote_header.index("vote") if vote_header else 0
    i_points = vote_header.index("points") if "points" in vote_header else None
    for line, row in vote_rows:
        vid = row[0]
        if _cell(vid) is None:
            raise fail(line, "empty voter_id")
        if vid in voter_ids:
            raise fail(line, f"voter {vid!r} appears twice")
        voter_ids.add(vid)
        text_vote = row[i_vote]
        if text_vote.lower() == "none":
            text_vote = ""
        parts = text_vote.split(",") if text_vote else []
        if " " in text_vote or "" in parts:
            parts = [p.strip() for p in parts if p.strip()]
        ids = tuple(parts)
        for pid in ids:
            if pid not in project_ids:
                raise fail(line, f"voter {vid!r} votes for unknown project {pid!r}")
        points: tuple[int, ...] | None = None
        if ballot_type == "cumulative":
            text_points = _cell(row[i_points]) if i_points is not None else None
            if text_points is None and ids:
                raise fail(line, f"voter {vid!r} has no points (cumulative ballot)")
            point_parts = [p.strip() for p in (text_points or "").split(",") if p.strip()]
            if len(point_parts) != len(ids):
                raise fail(
                    line, f"voter {vid!r} has {len(ids)} projects but {len(point_parts)} points"
                )
            points = tuple(_int(p, line, f"a point of voter {vid!r}") for p in point_parts)
            if any(p < 0 for p in points):
                raise fail(line, f"voter {vid!r} gives negative points")
        extra = (
            tuple([(c, row[i]) for i, c in vote_extra if row[i] and row[i].lower() != "none"])
            if vote_extra
            else ()
        )
        ballots.append(Ballot(ids, points, vid, extra))

    for key, count, what in (
        ("num_projects", len(projects), "projects"),
        ("num_votes", len(ballots), "votes"),
    ):
        if meta_map.get(key) not in (None, ""):
            declared = _int(meta_map[key], meta_line(key), key)
            if declared != count:
                raise fail(meta_line(key), f"{key} is {declared} but the file has {count} {what}")
    try:
        return Election(
            projects=tuple(projects),
            budget=budget,
            ballots=tuple(ballots),
            rules=BallotRules(ballot_type=ballot_type, **limits),  # type: ignore[arg-type]
            min_project_score=threshold,
            meta=tuple(meta),
        )
    except ValueError as exc:
        raise fail(0, str(exc)) from None


def load(path: str | Path | TextIO) -> Election:
    """Read a ``.pb`` file (a path or an open text file)."""
    if isinstance(path, (str, Path)):
        try:
            raw = Path(path).read_bytes()
        except OSError as exc:
            raise PabulibError(0, f"cannot read the file ({exc.strerror})", str(path)) from None
        try:
            text = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise PabulibError(line, "not valid UTF-8", str(path)) from None
        return loads(text, str(path))
    return loads(path.read())


def _columns(rows: list[tuple[tuple[str, str], ...]]) -> list[str]:
    """Union of the column names in ``rows``, keeping each row's relative order."""
    columns: list[str] = []
    for extra in rows:
        previous = -1
        for key, _ in extra:
            if key in columns:
                previous = columns.index(key)
            else:
                columns.insert(previous + 1, key)
                previous += 1
    return columns


def dumps(election: Election) -> str:
    """The ``.pb`` text of an election (LF line endings, CSV quoting where needed).

    Rows of the stored META are kept in order; budget, vote_type, counts and ballot limits are
    written from the model. PROJECTS gets ``votes`` (and ``score`` for points ballots) columns
    computed from the ballots when the election has none.
    """
    out = io.StringIO()
    writer = csv.writer(out, delimiter=";", quotechar='"', lineterminator="\n")
    rules = election.rules
    model_meta: dict[str, str] = {
        "budget": str(election.budget),
        "vote_type": rules.ballot_type,
        "num_projects": str(len(election.projects)),
        "num_votes": str(len(election.ballots)),
    }
    for key, attr in {**_INT_META, **_AMOUNT_META}.items():
        value = getattr(rules, attr)
        if value is not None:
            model_meta[key] = str(value)
    if election.min_project_score is not None:
        model_meta["min_project_score_threshold"] = str(election.min_project_score)
    meta = dict(election.meta)
    rows: list[tuple[str, str]] = []
    for key, value in election.meta:
        if key in model_meta:
            keep = value
            try:
                if to_decimal(value.replace(",", ".")) != to_decimal(model_meta[key]):
                    keep = model_meta[key]
            except ValueError:
                keep = model_meta[key] if value != model_meta[key] else value
            rows.append((key, keep))
        elif key in _INT_META or key in _AMOUNT_META or key == "min_project_score_threshold":
            continue  # a limit the model no longer has
        else:
            rows.append((key, value))
    rows += [(key, value) for key, value in model_meta.items() if key not in meta]
    out.write("META\n")
    writer.writerow(["key", "value"])
    writer.writerows(rows)

    out.write("PROJECTS\n")
    extra_cols = _columns([project.extra for project in election.projects])
    computed: dict[str, dict[str, int]] = {}
    if "votes" not in extra_cols:
        computed["votes"] = election.votes()
    if rules.ballot_type in ("cumulative", "ordinal") and "score" not in extra_cols:
        computed["score"] = election.scores()
    has_name = any(project.name for project in election.projects)
    header = ["project_id", "cost", *computed, *(["name"] if has_name else []), *extra_cols]
    writer.writerow(header)
    for project in election.projects:
        extra = dict(project.extra)
        row = [project.id, str(project.cost)]
        row += [str(values[project.id]) for values in computed.values()]
        if has_name:
            row.append(project.name)
        row += [extra.get(column, "None") for column in extra_cols]
        writer.writerow(row)

    out.write("VOTES\n")
    vote_cols = _columns(list(dict.fromkeys(ballot.extra for ballot in election.ballots)))
    points = rules.ballot_type == "cumulative"
    writer.writerow(["voter_id", "vote", *(["points"] if points else []), *vote_cols])
    for index, ballot in enumerate(election.ballots):
        extra = dict(ballot.extra)
        row = [ballot.voter_id or str(index + 1), ",".join(ballot.projects)]
        if points:
            row.append(",".join(str(p) for p in (ballot.points or ())))
        row += [extra.get(column, "None") for column in vote_cols]
        writer.writerow(row)
    return out.getvalue()


def dump(election: Election, path: str | Path) -> None:
    """Write an election as a ``.pb`` file."""
    Path(path).write_text(dumps(election), encoding="utf-8", newline="")
