"""Employees' own space: sign-in by emailed one-time link (or the company's identity provider), "My badges",
and their privacy choices.

* :mod:`issuer.employees.access` — one-time links and server-side sessions (tokens stored as hashes);
* :mod:`issuer.employees.badges` — each award's state in plain words and what it offers;
* :mod:`issuer.employees.privacy` — the employee's choices, audited;
* :mod:`issuer.employees.service` — :class:`~issuer.employees.service.EmployeeService`, the use cases
  (``services.employees``) that :mod:`issuer.web.employee` (``/me``) calls.

The sign-in email is the mail templates' ``sign_in`` kind (:func:`issuer.mail.outbox.enqueue_sign_in`).

An employee is identified by the normalised email address their awards were issued to; there
is no account and no password.
"""
