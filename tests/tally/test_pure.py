"""pb.tally is a pure library: it imports nothing of Flask, SQLAlchemy or the rest of pb.

A fresh interpreter imports ``pb.tally`` (the ``pb`` package imports Flask only inside the app
factory) and checks what it pulled in; a second test reads the import statements of every
module.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
TALLY = ROOT / "pb" / "tally"
ALLOWED = {"numpy", "click"} | set(sys.stdlib_module_names)


def test_fresh_interpreter_loads_no_flask_or_sqlalchemy() -> None:
    code = (
        "import sys\n"
        "import pb.tally, pb.tally.cli, pb.tally.__main__\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "('flask', 'sqlalchemy', 'flask_sqlalchemy', 'alembic', 'wtforms', 'werkzeug'))\n"
        "others = sorted(m for m in sys.modules if m.startswith('pb.') and "
        "not m.startswith('pb.tally'))\n"
        "assert not bad and not others, (bad, others)\n"
        "e = pb.tally.Election.build({'a': 1}, 1, [['a']])\n"
        "assert pb.tally.tally(e, 'equal-shares').selected == ('a',)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_imports_are_stdlib_numpy_click_or_relative() -> None:
    for path in TALLY.glob("*.py"):
        tree = ast.parse(path.read_text(), str(path))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    continue
                names = [node.module or ""]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                assert top in ALLOWED, f"{path.name} imports {name}"
                if top == "click":
                    assert path.name == "cli.py", f"{path.name} imports click"


def test_compiled_loop_includes_only_python_and_the_c_library() -> None:
    """The optional C twin of the add1 loop (_mesc.c) needs nothing beyond Python's headers
    and the C standard library (no numpy headers, no other library)."""
    standard = {"<math.h>", "<stdint.h>", "<stdlib.h>", "<string.h>", "<Python.h>"}
    for path in TALLY.glob("*.c"):
        includes = {
            line.split()[1] for line in path.read_text().splitlines() if line.startswith("#include")
        }
        assert includes <= standard, f"{path.name} includes {includes - standard}"
