"""Awards: the list (filters, pages), issuing one award, one award's page with its actions and audit trail.

The rules are elsewhere, each in one place: the request's (:mod:`issuer.awards.rules`, shared
with the REST API), issuance (:func:`issuer.awards.issuance.issue_award`: idempotent, verified before
it is stored), status changes and renewal (:mod:`issuer.awards.lifecycle`) and the search
(:mod:`issuer.awards.search`). These views parse the form, call one of them and render.
"""
from __future__ import annotations

import re
from urllib.parse import urlencode

from flask import Response, abort, flash, redirect, render_template, request, url_for
from markupsafe import Markup
from sqlalchemy import select
from sqlalchemy.orm import Session

from issuer.awards.credentials import credential_url
from issuer.awards.lifecycle import change_status, renew
from issuer.awards.rules import RESULT_FIELD, AwardRuleError, form_body, status_reason
from issuer.awards.search import STATES, AwardFilters, FilterError, parse_filters, search_awards, shown_state
from issuer.db.models import Achievement, AuditEntry, Award, Issuer
from issuer.errors import IssuerError
from issuer.web.admin.blueprint import actor, bp, issuer_of, sentence, state
from verifier.errors import CredentialError

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ACTIONS = ("revoke", "suspend", "unsuspend", "renew")
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended (active again)"}


def _achievements(db: Session, issuer: Issuer) -> list[Achievement]:
    return list(db.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id).order_by(Achievement.name)))


def _options(db: Session, issuer: Issuer, empty: str) -> list[tuple[str, str]]:
    """The achievements as (id, name) options of a select, after an empty choice labelled ``empty``."""
    return [("", empty)] + [(a.id, a.name) for a in _achievements(db, issuer)]


def _award_or_404(db: Session, award_id: str) -> Award:
    award = db.get(Award, award_id) if UUID.match(award_id) else None
    if award is None or award.issuer_id != issuer_of(db).id:
        abort(404, "There is no such award.")
    return award


# ---------------------------------------------------------------- the list

@bp.get("/awards")
def awards() -> tuple[str, int]:
    try:
        filters, page_number = parse_filters(request.args)
        error = None
    except FilterError as exc:
        filters, page_number, error = AwardFilters(), 1, exc
    with state().sessions() as db:
        issuer = issuer_of(db)
        page = None if error else search_awards(db, issuer, filters, now=state().clock(), page=page_number)
        chosen = _find(db, issuer, filters.achievement)
        return render_template("admin/awards.html", page=page, filters=filters, args=request.args,
                               achievements=_options(db, issuer, "Any achievement"),
                               achievement=chosen.id if chosen else request.args.get("achievement", ""),
                               states=[("", "Any state")] + [(s, s.capitalize()) for s in STATES],
                               errors={error.field: error.message} if error else {}), 400 if error else 200


# ---------------------------------------------------------------- issue one

def _find(db: Session, issuer: Issuer, ref: str | None) -> Achievement | None:
    if not ref or len(ref) > 100:
        return None
    return db.scalars(select(Achievement).where(Achievement.issuer_id == issuer.id,
                                                (Achievement.id == ref) | (Achievement.slug == ref))).one_or_none()


def _result_fields(achievement: Achievement | None) -> list[dict]:
    """One form field per result description: a select of a rubric's levels or allowed values, else text."""
    fields = []
    for rd in (achievement.result_descriptions or []) if achievement else []:
        levels = [(lv.get("id"), lv.get("name") or lv.get("id")) for lv in rd.get("rubricCriterionLevel") or []
                  if isinstance(lv, dict)]
        values = [(v, v) for v in rd.get("allowedValue") or [] if isinstance(v, str)]
        options = levels or values
        fields.append({"name": RESULT_FIELD + str(rd.get("id")),
                       "label": f"{rd.get('name')} (level achieved)" if levels else str(rd.get("name")),
                       "options": [("", "Not assessed")] + options if options else None,
                       "hint": f"The value achieved ({rd.get('resultType') or 'a value'})."})
    return fields


def _issue_form(ref: str | None, form: dict, errors: dict[str, str], status: int = 200) -> tuple[str, int]:
    with state().sessions() as db:
        issuer = issuer_of(db)
        chosen = _find(db, issuer, ref)
        if ref and chosen is None and "achievement" not in errors:
            errors = {**errors, "achievement": "Choose one of the achievements."}
            status = 422 if status == 200 else status
        return render_template("admin/award_new.html", achievements=_options(db, issuer, "Choose…"),
                               chosen=chosen, result_fields=_result_fields(chosen),
                               form=form, errors=errors, today=state().clock().date().isoformat()), status


def _issued_message(award_id: str, created: bool) -> Markup:
    text = "Award issued." if created else "This award was already issued; nothing new was issued."
    return Markup('{} <a href="{}">Open the signed credential\'s public page</a>.').format(
        text, credential_url(state().settings, award_id))


def _send_mail_after(response: Response) -> None:
    """Deliver queued award emails once the response has gone out (the outbox retries failures)."""
    response.call_on_close(state().use.awards.deliver_mail)


def _issue_posted(form) -> tuple[str, bool]:
    """Issue what the posted form asks for, by the award rules: (award id, created)."""
    with state().sessions() as db:
        chosen = _find(db, issuer_of(db), form.get("achievement"))
        descriptions = list(chosen.result_descriptions or []) if chosen else []
    issued = state().use.awards.issue(form_body(form, descriptions), actor=actor(),
                                      notify=form.get("notify") == "yes")
    return issued.award.id, issued.created


def _error_of(exc: IssuerError) -> dict[str, str]:
    """{field: message} for a refused award ("form": not about one field)."""
    return {exc.field or "form": sentence(exc.message)}


@bp.route("/awards/new", methods=["GET", "POST"])
def award_new() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _issue_form(request.args.get("achievement"), {}, {})
    form = request.form
    try:
        award_id, created = _issue_posted(form)
    except IssuerError as exc:
        typed = {k: v[:10_000] for k, v in form.items() if k != "csrf_token"}
        return _issue_form(form.get("achievement"), typed, _error_of(exc), 422)
    flash(_issued_message(award_id, created), "ok" if created else "info")
    response = redirect(url_for("admin.award", award_id=award_id), 303)
    if created and form.get("notify") == "yes":
        _send_mail_after(response)
    return response


# ---------------------------------------------------------------- one award

def _audit_trail(db: Session, award_id: str) -> list[AuditEntry]:
    return list(db.scalars(select(AuditEntry).where(AuditEntry.award_id == award_id)
                           .order_by(AuditEntry.at, AuditEntry.id)))


def _links(award: Award) -> dict[str, str]:
    settings = state().settings
    public = credential_url(settings, award.id)
    return {"credential": public, "verify": settings.url("/verify") + "?" + urlencode({"url": public})}


def _results(award: Award) -> list[tuple[str, str]]:
    """(result description's name, value or level) for each result of the award."""
    names = {rd.get("id"): rd.get("name") for rd in award.achievement.result_descriptions or []}
    return [(str(names.get(r.get("resultDescription")) or "Result"),
             str(r.get("value") or r.get("achievedLevel") or r.get("status") or "")) for r in award.results or []]


@bp.get("/awards/<award_id>")
def award(award_id: str) -> str:
    with state().sessions() as db:
        row = _award_or_404(db, award_id)
        renewal_of = db.scalars(select(Award.id).where(Award.superseded_by == row.id)).first()
        return render_template("admin/award.html", award=row, shown_state=shown_state(row, state().clock()),
                               links=_links(row), trail=_audit_trail(db, row.id), renewal_of=renewal_of,
                               results=_results(row))


def _renew(award_id: str) -> tuple[str, str]:
    new = renew(state().sessions, state().settings, award_id, actor=actor())
    return new.id, "Renewed: this is the new award. The earlier one is superseded and links here."


def _change(award_id: str, action: str) -> tuple[str, str]:
    reason = status_reason(request.form, required=False) or ""
    change = change_status(state().sessions, state().settings, award_id, action, reason=reason, actor=actor())
    verb = DONE[action]
    return award_id, (f"Award {verb}." if change.changed else f"The award was already {change.state}; nothing changed.")


@bp.post("/awards/<award_id>/<any(revoke, suspend, unsuspend, renew):action>")
def award_action(award_id: str, action: str) -> Response:
    with state().sessions() as db:
        _award_or_404(db, award_id)
    try:
        target, message = _renew(award_id) if action == "renew" else _change(award_id, action)
    except (AwardRuleError, CredentialError) as exc:
        flash(sentence(str(exc)), "bad")
        return redirect(url_for("admin.award", award_id=award_id), 303)
    flash(message, "ok")
    response = redirect(url_for("admin.award", award_id=target), 303)
    if action == "renew":       # the renewal email was queued with the new award
        _send_mail_after(response)
    return response
