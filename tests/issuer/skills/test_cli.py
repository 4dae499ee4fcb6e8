"""``microcred skills`` through the real click group: import (all or nothing, --skip-bad-rows), again
without duplicates, list, search; exit codes and messages."""
from __future__ import annotations

import pytest
from click.testing import CliRunner

from issuer.cli import main
from tests.issuer.skills.csv_samples import ESCO, ONET, OWN


@pytest.fixture()
def env(tmp_path, monkeypatch):
    for key, value in {"MICROCRED_INSTANCE": str(tmp_path / "instance"), "MICROCRED_KEYS": str(tmp_path / "keys"),
                       "MICROCRED_BASE_URL": "https://hr.example.com"}.items():
        monkeypatch.setenv(key, value)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert CliRunner().invoke(main, ["init", "--name", "Example Corp"]).exit_code == 0
    return tmp_path


def run(*args: str, code: int = 0):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == code, result.output
    return result


def test_import_list_search_and_import_again(env):
    (env / "skills_en.csv").write_text(ESCO, encoding="utf-8")
    (env / "Skills.txt").write_text(ONET, encoding="utf-8")
    first = run("skills", "import", str(env / "skills_en.csv"), "--framework", "ESCO")
    assert first.output.strip() == "ESCO: 3 skills added, 0 updated, 0 unchanged (from ESCO skills, 3 rows)."
    again = run("skills", "import", str(env / "skills_en.csv"), "--framework", "esco")
    assert again.output.strip() == "ESCO: 0 skills added, 0 updated, 3 unchanged (from ESCO skills, 3 rows)."
    run("skills", "import", str(env / "Skills.txt"), "--framework", "O*NET")
    listed = run("skills", "frameworks").output.splitlines()
    assert listed == ["ESCO\t3 skills\t0 achievements\tEuropean Commission\thttps://esco.ec.europa.eu/",
                      "O*NET\t3 skills\t0 achievements\tU.S. Department of Labor, O*NET Resource Center"
                      "\thttps://www.onetcenter.org/"]
    found = run("skills", "search", "reading", "--framework", "o*net").output
    assert found.startswith("Reading Comprehension\tO*NET\t2.A.1.a\thttps://www.onetonline.org/")


def test_bad_rows_import_nothing_unless_skipped(env):
    (env / "ours.csv").write_text(OWN + ",No URL,,\n", encoding="utf-8")
    refused = run("skills", "import", str(env / "ours.csv"), "--framework", "Ours", code=2)
    assert "line 4: the url is empty" in refused.output
    assert "error: Nothing was imported: 1 row of the file has a problem" in refused.output
    assert run("skills", "frameworks").output == ""
    done = run("skills", "import", str(env / "ours.csv"), "--framework", "Ours", "--skip-bad-rows",
               "--publisher", "Example Corp")
    assert "line 4: the url is empty (skipped)" in done.output
    assert "Ours: 2 skills added" in done.output and "1 bad rows skipped" in done.output


def test_unknown_format_and_unknown_framework_are_one_error_line(env):
    (env / "x.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    result = run("skills", "import", str(env / "x.csv"), "--framework", "X", code=2)
    assert result.output.startswith("error: The first line does not name the columns")
    assert run("skills", "search", "x", "--framework", "nope", code=2).output.startswith(
        "error: There is no skill framework 'nope'")
