"""Skills files as the frameworks publish them (a few real rows each), written by the tests."""
from __future__ import annotations

# ESCO v1.2 skills_en.csv: the real header, quoted multi-line cells, altLabels with line breaks
ESCO_HEADER = ("conceptType,conceptUri,skillType,reuseLevel,preferredLabel,altLabels,hiddenLabels,status,"
               "modifiedDate,scopeNote,definition,inScheme,description")
ESCO_SQL = "http://data.europa.eu/esco/skill/598de5b0-5b58-4ea7-8058-a4bc4d18c742"
ESCO_PYTHON = "http://data.europa.eu/esco/skill/ccd0a1d9-afda-43d9-b901-96344886e14d"
ESCO_TEAM = "http://data.europa.eu/esco/skill/0d6ab5e0-aa3c-4d6c-9bc5-9a1c4c0a2a9f"
ESCO = f"""{ESCO_HEADER}
KnowledgeSkillCompetence,{ESCO_SQL},knowledge,cross-sector,SQL,"Structured Query Language
SQL language",,released,2023-12-19T11:05:09.389Z,,,"http://data.europa.eu/esco/concept-scheme/skills","The computer language SQL is a query language for retrieval of information from a database."
KnowledgeSkillCompetence,{ESCO_PYTHON},knowledge,cross-sector,Python (computer programming),,,released,2023-12-19T11:05:09.389Z,,,http://data.europa.eu/esco/concept-scheme/skills,"The techniques and principles of software development, such as analysis, algorithms, coding, testing and compiling of programming paradigms in Python."
KnowledgeSkillCompetence,{ESCO_TEAM},skill/competence,transversal,work in teams,team work,,released,2023-12-19T11:05:09.389Z,,,http://data.europa.eu/esco/concept-scheme/skills,"Work confidently within a group with each doing their part in the service of the whole."
"""

# O*NET 29.0 Skills.txt: tab-separated, each element repeated per occupation and scale
ONET = """O*NET-SOC Code\tElement ID\tElement Name\tScale ID\tData Value\tN\tStandard Error
11-1011.00\t2.A.1.a\tReading Comprehension\tIM\t4.12\t8\t0.13
11-1011.00\t2.A.1.a\tReading Comprehension\tLV\t4.75\t8\t0.16
11-1011.00\t2.A.1.b\tActive Listening\tIM\t4.12\t8\t0.13
11-1011.00\t2.B.1.a\tSocial Perceptiveness\tIM\t4.00\t8\t0.00
"""

# O*NET Content Model Reference as CSV: Element ID, Element Name, Description
ONET_REFERENCE = """Element ID,Element Name,Description
2.A.1.a,Reading Comprehension,Understanding written sentences and paragraphs in work-related documents.
2.A.1.b,Active Listening,"Giving full attention to what other people are saying, taking time to understand the points being made."
"""

OWN = """url,name,description,code
https://skills.example.com/feedback,Give feedback,"Says what works and what to change, kindly.",EX-101
https://skills.example.com/lead,Lead a team,Sets direction and keeps people together.,EX-102
"""
