"""Reading framework downloads (issuer.skills.readers): real headers and rows of each format, bad rows."""
from __future__ import annotations

import pytest

from issuer.skills import readers
from issuer.skills.readers import (
    MAX_FILE_BYTES,
    MAX_PROBLEMS,
    CsvFormat,
    FileProblem,
    SkillsFileError,
    read_skills,
)
from tests.issuer.skills.csv_samples import ESCO, ESCO_PYTHON, ESCO_SQL, ONET, ONET_REFERENCE, OWN


def test_esco_skills_csv():
    result = read_skills(ESCO.encode())
    assert result.format is CsvFormat.ESCO and result.problems == [] and result.rows == 3
    sql = result.skills[0]
    assert (sql.url, sql.name, sql.code, sql.line) == (ESCO_SQL, "SQL", None, 2)
    assert sql.description.startswith("The computer language SQL")
    assert result.skills[1].url == ESCO_PYTHON
    assert result.skills[1].line == 4           # the quoted altLabels cell spans two lines


def test_onet_tab_separated_repeats_one_element_per_occupation_and_scale():
    result = read_skills(ONET.encode())
    assert result.format is CsvFormat.ONET and result.problems == []
    assert [(s.code, s.name) for s in result.skills] == [
        ("2.A.1.a", "Reading Comprehension"), ("2.A.1.b", "Active Listening"), ("2.B.1.a", "Social Perceptiveness")]
    assert result.skills[0].url == "https://www.onetonline.org/find/descriptor/result/2.A.1.a"


def test_onet_reference_csv_with_descriptions():
    result = read_skills(ONET_REFERENCE.encode("utf-8-sig"))    # Excel's BOM
    assert result.format is CsvFormat.ONET
    assert result.skills[1].description.startswith("Giving full attention")


def test_own_list_in_any_column_order_and_case_with_semicolons():
    text = "Code;NAME;Url\nX-1;Negotiate;https://skills.example.com/negotiate\n\n"
    result = read_skills(text.encode())
    assert result.format is CsvFormat.OWN
    assert [(s.code, s.name, s.url, s.description) for s in result.skills] == [
        ("X-1", "Negotiate", "https://skills.example.com/negotiate", None)]
    assert read_skills(OWN.encode()).skills[0].code == "EX-101"


def test_each_bad_row_is_named_with_its_line():
    text = (OWN + "javascript:alert(1),Bad link,,\n"
            ",No link,,\n"
            "https://skills.example.com/x,,,\n"
            "https://skills.example.com/feedback,Another name,,\n"
            f"https://skills.example.com/long,{'n' * 600},,\n"
            "https://skills.example.com/feedback,Give feedback,again,\n")     # a repeat with the same name: skipped
    result = read_skills(text.encode())
    assert [str(p) for p in result.problems] == [
        "line 4: the url 'javascript:alert(1)' is not an http(s) URL of at most 1024 characters",
        "line 5: the url is empty",
        "line 6: the name is empty",
        "line 7: the skill https://skills.example.com/feedback is on line 2 already, named 'Give feedback'",
        "line 8: the name is longer than 512 characters",
    ]
    assert result.bad_rows == 5 and len(result.skills) == 2


def test_bad_onet_element_ids():
    result = read_skills(b"Element ID,Element Name\n../../etc,Reading\n2.A.1.a,\n")
    assert [p.reason for p in result.problems] == [
        "the Element ID '../../etc' is not an O*NET element id (e.g. 2.A.1.a)", "the Element Name is empty"]


def test_many_bad_rows_are_counted_and_the_first_listed():
    text = "url,name\n" + "not-a-url,x\n" * (MAX_PROBLEMS + 50)
    only_bad = read_skills(text.encode())
    assert only_bad.skills == [] and only_bad.bad_rows == MAX_PROBLEMS + 50     # reported, not "empty"
    result = read_skills((text + "https://a.example/1,ok\n").encode())
    assert result.bad_rows == MAX_PROBLEMS + 50 and len(result.problems) == MAX_PROBLEMS


@pytest.mark.parametrize(("data", "code", "words"), [
    (b"", "empty", "empty"),
    (b"\n\n", "empty", "empty"),
    (b"url,name\n", "empty", "no skills"),
    (b"skill,label\nx,y\n", "unknown_format", "does not name the columns"),
    (b"url,name\nhttps://a.example/\xe9,caf\xe9\n", "not_utf8", "Line 2 is not UTF-8"),
    (b'url,name\n"https://a.example/1,unterminated\n', "bad_csv", "check its quotes"),
    (b"url,name\n" + b"x" * (MAX_FILE_BYTES + 1), "too_large", "larger than 32 MiB"),
])
def test_whole_file_problems(data, code, words):
    with pytest.raises(SkillsFileError, match=words) as caught:
        read_skills(data)
    assert caught.value.code == code and caught.value.http_status == 422


def test_a_huge_cell_is_a_bad_row_not_a_crash():
    result = read_skills(f"url,name,description\nhttps://a.example/1,A,{'x' * 30_000}\nhttps://a.example/2,B,\n".encode())
    assert [p.line for p in result.problems] == [2] and [s.name for s in result.skills] == ["B"]


def test_row_and_skill_limits(monkeypatch):
    monkeypatch.setattr(readers, "MAX_ROWS", 5)
    monkeypatch.setattr(readers, "MAX_SKILLS", 3)
    rows = "url,name\n" + "".join(f"https://a.example/{i},Skill {i}\n" for i in range(3))
    assert len(read_skills(rows.encode()).skills) == 3
    with pytest.raises(SkillsFileError, match="more than 3 skills") as caught:
        read_skills((rows + "https://a.example/9,Skill 9\n").encode())
    assert caught.value.code == FileProblem.TOO_MANY_SKILLS
    repeated = "Element ID,Element Name\n" + "2.A.1.a,Reading\n" * 6      # O*NET repeats: rows count, skills not
    with pytest.raises(SkillsFileError, match="more than 5 rows") as caught:
        read_skills(repeated.encode())
    assert caught.value.code == FileProblem.TOO_MANY_ROWS
