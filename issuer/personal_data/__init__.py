"""Personal data (issue 14 §5): what the installation holds about a person, its erasure, its retention.

    people = services.people
    document = people.export("alex@example.com")        # everything held about them, as JSON-safe dicts
    erasure = people.erase("alex@example.com", actor="staff:hana")
    purge = people.purge(dry_run=True)                  # what retention would remove now

* :mod:`.markers` — how erased data looks (:data:`ERASED_PREFIX`) and :class:`~.markers.Withdrawn`
  (410 Gone), which the public pages answer for an erased award;
* :mod:`.export` — :func:`~.export.export_person`, read-only;
* :mod:`.erase` — :func:`~.erase.erase_person`, the database part of an erasure, in the caller's
  transaction (awards revoked through the award lifecycle, then the data scrubbed);
* :mod:`.files` — the instance folder's per-person files (``.eml`` copies of sent mail), removed after
  the commit, retried by the next run if that fails;
* :mod:`.retention` — :func:`~.retention.purge`, the retention rules of :class:`issuer.config.RetentionSettings`;
* :mod:`.logs` — log formats that carry no personal data (access logs without query strings);
* :mod:`.service` — :class:`~.service.PersonalDataService`, the use cases views and commands call.

The package is imported by the service layer and (for :class:`~.markers.Withdrawn`) by
:mod:`issuer.public_service`; it never imports the web package or the CLI.
"""
