"""Skill frameworks (entities, not free text) and the skills catalogue imported from framework CSV files.

* :mod:`issuer.skills.frameworks`: the pure rules: a framework's name key, when two names are the
  same framework, merging the names found in old data (the 0009 migration uses it);
* :mod:`issuer.skills.readers`: reading ESCO, O*NET and a company's own CSV download into skills;
* :mod:`issuer.skills.catalogue`: storing frameworks and skills, search-as-you-type;
* :mod:`issuer.skills.service`: the use cases the console, the API and ``microcred skills`` call.
"""
