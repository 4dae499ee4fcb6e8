"""Email to the people who receive badges, through a transactional outbox.

- :mod:`issuer.mail.kinds`: the registry of email kinds (HR's label, subject, attachment).
- :mod:`issuer.mail.render`: one email from its template pair in ``templates/`` (text and HTML).
- :mod:`issuer.mail.compose`: the emails about an award (and the sign-in link) as outbox fields.
- :mod:`issuer.mail.outbox`: queue in the caller's transaction, send after commit, retry failures.
- :mod:`issuer.mail.states`: where each email stands, for the award page.
- :mod:`issuer.mail.reminders`: expiry reminders; :mod:`issuer.mail.service`: the use case.
- :mod:`issuer.mail.transport`: the mail settings and the SMTP and folder transports (the port).
"""
