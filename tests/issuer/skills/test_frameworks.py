"""The rule for "same framework" (issuer.skills.frameworks), pure."""
from __future__ import annotations

from issuer.skills.frameworks import known_framework, merge_names, name_key, name_uses, same_framework, short_key


def test_name_key_ignores_case_and_spacing():
    assert name_key("  ESCO\u00a0 Skills ") == name_key("esco skills") == "esco skills"


def test_a_parenthesised_tail_is_the_same_framework():
    assert short_key("ESCO (European Skills, Competences, Qualifications and Occupations)") == "esco"
    assert same_framework("ESCO", "esco (v1.2)")
    assert not same_framework("ESCO", "ESCO skills")
    assert not same_framework("O*NET", "ONET")
    assert short_key("(internal)") == "(internal)"       # a name that is only a bracket keeps itself


def test_merging_keeps_the_most_used_name_and_merges_by_host():
    uses = name_uses([
        {"targetFramework": "ESCO", "targetUrl": "http://data.europa.eu/esco/skill/1"},
        {"targetFramework": "ESCO", "targetUrl": "http://data.europa.eu/esco/skill/2"},
        {"targetFramework": "ESCO (European Skills)", "targetUrl": "http://data.europa.eu/esco/skill/3"},
        {"targetFramework": "EU skills", "targetUrl": "http://DATA.europa.eu/esco/skill/4"},
        {"targetFramework": "Ours", "targetUrl": "https://intranet.example/a"},
        {"targetFramework": "Ours too", "targetUrl": "https://intranet.example/b"},
        {"targetFramework": "Ours too", "targetUrl": "https://elsewhere.example/b"},   # two hosts: no home
        {"targetFramework": "  ", "targetUrl": "https://x.example"},                   # blank: ignored
        "not an alignment",
    ])
    merged = {m.name: m.members for m in merge_names(uses)}
    assert merged == {"ESCO": ("ESCO", "ESCO (European Skills)", "EU skills"), "Ours": ("Ours",),
                      "Ours too": ("Ours too",)}


def test_ties_keep_the_shorter_name():
    uses = name_uses([{"targetFramework": "ESCO (EU)", "targetUrl": "https://a.example/1"},
                      {"targetFramework": "ESCO", "targetUrl": "https://b.example/1"}])
    assert [m.name for m in merge_names(uses)] == ["ESCO"]


def test_well_known_frameworks_by_host_or_name():
    assert known_framework("data.europa.eu") == ("European Commission", "https://esco.ec.europa.eu/")
    assert known_framework(None, "O*NET (29.0)")[1] == "https://www.onetcenter.org/"
    assert known_framework("intranet.example", "Ours") is None
