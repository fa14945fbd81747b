"""The production lock file (requirements.lock) and the vulnerability check over it
(.ci/audit_lock.py). .ci/run installs from the lock in a fresh venv with --require-hashes;
these tests keep the lock in step with pyproject.toml and check the audit's decisions."""

from __future__ import annotations

import importlib.util
import re
import sys
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
LOCK = ROOT / "requirements.lock"


def _audit_module():  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("audit_lock", ROOT / ".ci" / "audit_lock.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules["audit_lock"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


def _entries() -> list[tuple[str, str, list[str]]]:
    """(name, version, hashes) per pinned entry of the lock."""
    text = LOCK.read_text()
    entries = []
    for block in re.split(r"\n(?=[A-Za-z0-9])", text):
        m = re.match(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)", block)
        if m:
            entries.append(
                (m.group(1), m.group(2), re.findall(r"--hash=sha256:([0-9a-f]{64})", block))
            )
    return entries


def test_lock_pins_every_dependency_of_pyproject_within_its_range_with_hashes():
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    entries = _entries()
    assert entries, "requirements.lock has no pins"
    for name, version, hashes in entries:
        assert hashes, f"{name}=={version} has no --hash in requirements.lock"
    pinned: dict[str, list[str]] = {}
    for name, version, _hashes in entries:
        pinned.setdefault(canonicalize_name(name), []).append(version)
    for dep in deps:
        req = Requirement(dep)
        versions = pinned.get(canonicalize_name(req.name))
        assert versions, f"{req.name} (pyproject.toml) is not in requirements.lock: regenerate it"
        for version in versions:
            assert req.specifier.contains(version, prereleases=True), (
                f"requirements.lock pins {req.name}=={version}, outside {req.specifier}: regenerate it"
            )
    # Every line that is not a pin, a hash or a comment would be installed unchecked.
    for line in LOCK.read_text().splitlines():
        s = line.strip()
        assert (
            not s or s.startswith(("#", "--hash")) or re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*==", s)
        ), s


def test_audit_reads_the_pins_of_the_lock():
    audit = _audit_module()
    found = audit.pins(LOCK)
    assert found["flask"] and found["sqlalchemy"]
    assert len(found) == len({canonicalize_name(n) for n, _v, _h in _entries()})


def test_audit_fails_only_on_a_vulnerability_with_a_fix_and_counts_what_it_skipped():
    audit = _audit_module()
    report = {
        "dependencies": [
            {"name": "Flask", "version": "2.0.0",
             "vulns": [{"id": "PYSEC-2023-62", "fix_versions": ["2.2.5", "2.3.2"]}]},
            {"name": "nh3", "version": "0.3.0", "vulns": [{"id": "GHSA-x", "fix_versions": []}]},
            {"name": "click", "version": "8.1.0", "vulns": []},
            {"name": "numpy", "skip_reason": "Dependency not found on PyPI"},
        ]
    }  # fmt: skip
    result = audit.from_pip_audit(report, "test")
    assert [f.id for f in result.fixable] == ["PYSEC-2023-62"]
    assert len(result.findings) == 2
    assert result.checked == {"flask", "nh3", "click"}
    assert set(result.unchecked) == {"numpy"}
    clean = audit.from_pip_audit({"dependencies": [report["dependencies"][2]]}, "test")
    assert not clean.fixable and clean.checked == {"click"}


def test_pypi_fallback_checks_only_pins_that_are_the_newest_release():
    audit = _audit_module()
    answers = {
        "https://pypi.org/pypi/flask/json": {
            "info": {"version": "3.1.3"},
            "vulnerabilities": [{"id": "PYSEC-1", "fixed_in": ["3.1.4"], "withdrawn": None},
                                {"id": "PYSEC-0", "fixed_in": ["3.0"], "withdrawn": "2024-01-01"}],
        },
        "https://pypi.org/pypi/click/json": {"info": {"version": "9.0"}, "vulnerabilities": []},
    }  # fmt: skip

    def fetch(url: str) -> object:
        if url not in answers:
            raise OSError("unreachable")
        return answers[url]

    result = audit.from_pypi_latest({"flask": "3.1.3", "click": "8.0", "nh3": "1"}, fetch)
    assert [f.id for f in result.fixable] == ["PYSEC-1"]
    assert result.checked == {"flask"}
    assert set(result.unchecked) == {"click", "nh3"}
    assert "newest is 9.0" in result.unchecked["click"]
    nothing = audit.from_pypi_latest({"nh3": "1"}, fetch)
    assert isinstance(nothing, str)  # not an empty, green Audit


def test_audit_says_loudly_that_it_did_not_run_when_no_service_answers(monkeypatch, capsys):
    audit = _audit_module()
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service: f"{service} unreachable")
    monkeypatch.setattr(audit, "from_pypi_latest", lambda wanted: "pypi unreachable")
    assert audit.main(["audit_lock.py", str(LOCK)]) == 0
    out = capsys.readouterr().out
    assert "THE VULNERABILITY CHECK DID NOT RUN" in out
    assert "no known vulnerability" not in out


def test_audit_fails_ci_on_a_fixable_vulnerability_found_by_the_fallback(monkeypatch, capsys):
    audit = _audit_module()
    found = audit.Audit(audit.PYPI_LATEST, checked={"flask"}, unchecked={"nh3": "behind"})
    found.findings.append(audit.Finding("flask", "3.1.3", "PYSEC-1", ["3.1.4"]))
    monkeypatch.setattr(audit, "run_pip_audit", lambda lock, service: f"{service} unreachable")
    monkeypatch.setattr(audit, "from_pypi_latest", lambda wanted: found)
    assert audit.main(["audit_lock.py", str(LOCK)]) == 1
    out = capsys.readouterr().out
    assert "flask 3.1.3: PYSEC-1 (fixed in: 3.1.4)" in out and "FAIL" in out
    assert "is NOT checked" in out and "nh3: behind" in out
