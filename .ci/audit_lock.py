"""Known vulnerabilities in the pinned production dependencies (requirements.lock).

Run by .ci/run as ``python .ci/audit_lock.py requirements.lock``. It exits 1 when a pinned
version has a known vulnerability that a newer release fixes, and 0 otherwise; when it
could not look (no vulnerability service answered), it says so in a loud banner and still
exits 0, so that CI does not fail because a service is down. It never prints "no known
vulnerabilities" for a package it could not check.

Where it looks, in order:

1. ``pip-audit`` with the OSV service (api.osv.dev): every pin, every known advisory.
2. ``pip-audit`` with the PyPI service (``/pypi/NAME/VERSION/json``); a package it could not
   look up counts as not checked (pip-audit itself reports those only as "skipped").
3. The PyPI project JSON (``/pypi/NAME/json``), whose ``vulnerabilities`` are those of the
   newest release only: a pin that is the newest release is checked, an older pin is
   reported as not checked.

Only the standard library; pip-audit is run as a program (``--disable-pip``: the lock is
fully pinned and hashed, so nothing is installed or resolved).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

TIMEOUT = 20  # seconds per HTTP request
PYPI_LATEST = "PyPI project JSON (newest releases only)"
PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;\\]+)")


@dataclass
class Finding:
    name: str
    version: str
    id: str
    fixed_in: list[str]


@dataclass
class Audit:
    source: str
    findings: list[Finding] = field(default_factory=list)
    checked: set[str] = field(default_factory=set)
    unchecked: dict[str, str] = field(default_factory=dict)  # name -> why

    @property
    def fixable(self) -> list[Finding]:
        return [f for f in self.findings if f.fixed_in]


def pins(lock: Path) -> dict[str, str]:
    """name -> version of every ``name==version`` line (the last one when markers pin a
    package twice, e.g. numpy for two Python versions)."""
    found: dict[str, str] = {}
    for line in lock.read_text().splitlines():
        m = PIN.match(line.strip())
        if m:
            found[m.group(1).lower()] = m.group(2)
    return found


def from_pip_audit(report: dict[str, object], source: str) -> Audit:
    """An Audit from pip-audit's ``--format json`` report."""
    audit = Audit(source)
    deps = report.get("dependencies", [])
    assert isinstance(deps, list)
    for dep in deps:
        name = str(dep["name"]).lower()
        if dep.get("skip_reason"):
            audit.unchecked[name] = str(dep["skip_reason"])
            continue
        audit.checked.add(name)
        for vuln in dep.get("vulns", []):
            audit.findings.append(
                Finding(
                    name, str(dep.get("version", "")), str(vuln["id"]), list(vuln["fix_versions"])
                )
            )
    return audit


def run_pip_audit(lock: Path, service: str) -> Audit | str:
    """pip-audit's findings, or why it did not run."""
    exe = shutil.which("pip-audit") or str(Path(sys.executable).with_name("pip-audit"))
    if not Path(exe).exists():
        return "pip-audit is not installed"
    cmd = [exe, "-r", str(lock), "--disable-pip", "--require-hashes", "--format", "json",
           "--progress-spinner", "off", "-s", service]  # fmt: skip
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)  # noqa: S603
    except subprocess.TimeoutExpired:
        return f"pip-audit ({service}) took more than 120 s"
    try:
        report = json.loads(proc.stdout)
    except json.JSONDecodeError:
        last = (proc.stderr.strip().splitlines() or ["no output"])[-1]
        return f"pip-audit ({service}) failed: {last[:300]}"
    return from_pip_audit(report, f"pip-audit, {service} service")


def from_pypi_latest(wanted: dict[str, str], fetch: object = None) -> Audit | str:
    """Check each pin that is its project's newest release against the vulnerabilities PyPI
    lists for that release."""
    get = fetch or _get_json
    audit = Audit(PYPI_LATEST)
    for name, version in sorted(wanted.items()):
        try:
            data = get(f"https://pypi.org/pypi/{name}/json")  # type: ignore[operator]
        except (OSError, ValueError) as exc:
            audit.unchecked[name] = f"PyPI did not answer: {exc}"
            continue
        latest = data["info"]["version"]
        if latest != version:
            audit.unchecked[name] = (
                f"pinned {version}, newest is {latest}: PyPI lists only the newest's"
            )
            continue
        audit.checked.add(name)
        for vuln in data.get("vulnerabilities") or []:
            if vuln.get("withdrawn"):
                continue
            audit.findings.append(
                Finding(name, version, str(vuln["id"]), list(vuln.get("fixed_in") or []))
            )
    if not audit.checked:
        return "PyPI's project JSON did not answer for any pinned package"
    return audit


def _get_json(url: str) -> dict[str, object]:
    req = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310
    with urllib.request.urlopen(req, timeout=TIMEOUT) as resp:  # noqa: S310 - a fixed https URL
        data: dict[str, object] = json.load(resp)
    return data


def banner(lines: list[str]) -> None:
    bar = "!" * 78
    print(bar, *(f"!! {line}" for line in lines), bar, sep="\n")


def main(argv: list[str]) -> int:
    lock = Path(argv[1] if len(argv) > 1 else "requirements.lock")
    wanted = pins(lock)
    tried: list[str] = []
    audit: Audit | None = None
    for attempt in ("osv", "pypi"):
        result = run_pip_audit(lock, attempt)
        if isinstance(result, str):
            tried.append(result)
            continue
        if result.checked:
            audit = result
            break
        tried.append(f"{result.source}: looked up none of the {len(wanted)} pins")
    if audit is None and os.environ.get("PB_AUDIT_NO_PYPI_JSON") != "1":
        result = from_pypi_latest(wanted)
        if isinstance(result, str):
            tried.append(result)
        else:
            audit = result
    for line in tried:
        print(f"vulnerability check: {line}")
    if audit is None:
        banner([
            "THE VULNERABILITY CHECK DID NOT RUN: no vulnerability service answered.",
            f"{len(wanted)} pinned packages in {lock} were NOT checked for known vulnerabilities.",
            "Run `python .ci/audit_lock.py` where api.osv.dev or pypi.org answers.",
        ])  # fmt: skip
        return 0
    print(
        f"vulnerability check: {audit.source}: {len(audit.checked)} of {len(wanted)} pins checked"
    )
    if audit.source == PYPI_LATEST:
        banner([
            "pip-audit could not check the lock here (see the lines above); the check used",
            f"{audit.source}: it sees only advisories PyPI lists for each project's newest",
            "release, so a pin behind the newest release is NOT checked (listed below).",
        ])  # fmt: skip
    for f in audit.findings:
        fix = ", ".join(f.fixed_in) or "no fixed release yet"
        print(f"  {f.name} {f.version}: {f.id} (fixed in: {fix})")
    if audit.unchecked:
        banner([
            f"{len(audit.unchecked)} of {len(wanted)} pinned packages were NOT checked "
            f"({audit.source}):",
            *(f"  {name}: {why}" for name, why in sorted(audit.unchecked.items())),
        ])  # fmt: skip
    if audit.fixable:
        print(f"FAIL: {len(audit.fixable)} known vulnerabilities have a fixed release: "
              "raise the pins (see README, 'The lock file') and regenerate the lock.")  # fmt: skip
        return 1
    print("no known vulnerability with a fix in the checked pins")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
