"""`pb demo`: the Dalby youth budget has projects on its ballot and prints working codes;
its purpose agrees with its eligibility."""

from __future__ import annotations

import re
from typing import Any

from click.testing import CliRunner


def test_pb_demo_prints_codes_that_vote(tmp_path: Any, monkeypatch: Any, make_app: Any) -> None:
    from pb.cli import main

    monkeypatch.setenv("PB_INSTANCE_PATH", str(tmp_path / "inst"))
    url = "sqlite:///" + str(tmp_path / "demo.sqlite3")
    monkeypatch.setenv("PB_DATABASE_URL", url)
    monkeypatch.delenv("PB_ENV", raising=False)
    result = CliRunner().invoke(main, ["demo", "--no-serve"])
    assert result.exit_code == 0, result.output
    links = re.findall(r"(\S{4}-\S{4}-\S{4}-\S{4}-\S)\s+(\S+/p/ungdomsbudget-dalby-2026/vote#\S+)",
                       result.output)  # fmt: skip
    assert len(links) == 5
    code, link = links[0]
    assert link.endswith("#" + code)
    pepper = (tmp_path / "inst" / "voting_pepper").read_text().strip()
    app = make_app(DATABASE_URL=url, VOTING_CODE_PEPPER=pepper)
    client = app.test_client()
    page = client.get("/p/ungdomsbudget-dalby-2026?lang=sv").get_data(as_text=True)
    assert "minst 10 år" in page and "10 och 25" not in page
    assert "Rösta nu med din röstkod" in page
    r = client.post("/p/ungdomsbudget-dalby-2026/vote?lang=en", data={"code": code})
    assert r.status_code == 200 and "Skate park by the sports ground" in r.get_data(as_text=True)
    assert "Skatepark vid idrottsplatsen" not in r.get_data(as_text=True)  # English titles
    r = client.post("/p/ungdomsbudget-dalby-2026/vote/ballot?lang=en",
                    data={"code": code, "pick": ["|D1", "|D3", "|D6"], "action": "cast"})  # fmt: skip
    assert r.status_code == 200 and "your ballot is cast" in r.get_data(as_text=True)
    r = client.post("/p/ungdomsbudget-dalby-2026/vote/ballot?lang=en",
                    data={"code": links[1][0], "pick": ["|D1", "|D2", "|D3", "|D4"],
                          "action": "cast"})  # fmt: skip
    assert r.status_code == 400 and "at most 3" in r.get_data(as_text=True)
