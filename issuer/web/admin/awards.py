"""Awards: the list (filters, pages), issuing one award, one award's page with its actions and audit trail.

The rules are elsewhere, each in one place: the request's (:mod:`issuer.awards.rules`, shared
with the REST API), issuing (:class:`issuer.awards.service.AwardService`), status changes and
renewal (:class:`issuer.awards.status_service.StatusService`) and the search and award page
(:class:`issuer.awards.search_service.AwardSearchService`). These views parse the form, call one
service and render; refusals are flashed on the award's page, an unknown award is a 404.
"""
from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

from flask import Response, flash, redirect, render_template, request, url_for
from markupsafe import Markup

from issuer.awards.credentials import credential_url
from issuer.awards.rules import RESULT_FIELD, form_body
from issuer.awards.search import STATES, AwardFilters, FilterError, parse_filters
from issuer.errors import Conflict, InvalidInput, IssuerError
from issuer.web.admin.blueprint import actor, bp, sentence, state

if TYPE_CHECKING:
    from issuer.db.models import Achievement, Award

ACTIONS = ("revoke", "suspend", "unsuspend", "renew")
DONE = {"revoke": "revoked", "suspend": "suspended", "unsuspend": "unsuspended (active again)"}


def _options(achievements: list[Achievement], empty: str) -> list[tuple[str, str]]:
    """The achievements as (id, name) options of a select, after an empty choice labelled ``empty``."""
    return [("", empty)] + [(a.id, a.name) for a in achievements]


# ---------------------------------------------------------------- the list

@bp.get("/awards")
def awards() -> tuple[str, int]:
    try:
        filters, page_number = parse_filters(request.args)
        error = None
    except FilterError as exc:
        filters, page_number, error = AwardFilters(), 1, exc
    listing = state().use.search.console(filters, None if error else page_number)
    return render_template("admin/awards.html", page=listing.page, filters=filters, args=request.args,
                           achievements=_options(listing.achievements, "Any achievement"),
                           achievement=listing.chosen.id if listing.chosen else request.args.get("achievement", ""),
                           states=[("", "Any state")] + [(s, s.capitalize()) for s in STATES],
                           errors={error.field: error.message} if error else {}), 400 if error else 200


# ---------------------------------------------------------------- issue one

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
    achievements, chosen = state().use.search.achievement_choices(ref)
    if ref and chosen is None and "achievement" not in errors:
        errors = {**errors, "achievement": "Choose one of the achievements."}
        status = 422 if status == 200 else status
    return render_template("admin/award_new.html", achievements=_options(achievements, "Choose…"),
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
    _, chosen = state().use.search.achievement_choices(form.get("achievement"))
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

def _links(award_id: str) -> dict[str, str]:
    settings = state().settings
    public = credential_url(settings, award_id)
    return {"credential": public, "verify": settings.url("/verify") + "?" + urlencode({"url": public})}


def _results(award: Award) -> list[tuple[str, str]]:
    """(result description's name, value or level) for each result of the award."""
    names = {rd.get("id"): rd.get("name") for rd in award.achievement.result_descriptions or []}
    return [(str(names.get(r.get("resultDescription")) or "Result"),
             str(r.get("value") or r.get("achievedLevel") or r.get("status") or "")) for r in award.results or []]


@bp.get("/awards/<award_id>")
def award(award_id: str) -> str:
    detail = state().use.search.award_detail(award_id)
    return render_template("admin/award.html", award=detail.award, shown_state=detail.state,
                           links=_links(detail.award.id), trail=detail.trail, renewal_of=detail.renewal_of,
                           results=_results(detail.award), emails=state().use.mail.deliveries(detail.award.id),
                           now=state().clock())


def _act(award_id: str, action: str) -> tuple[str, str]:
    """(the award to show next, what happened)."""
    if action == "renew":
        renewal = state().use.status.renew(award_id, actor=actor())
        return renewal.award.id, "Renewed: this is the new award. The earlier one is superseded and links here."
    change = state().use.status.change_status(award_id, action, {"reason": request.form.get("reason")},
                                              actor=actor())
    return award_id, (f"Award {DONE[action]}." if change.changed else
                      f"The award was already {change.state}; nothing changed.")


@bp.post("/awards/<award_id>/<any(revoke, suspend, unsuspend, renew):action>")
def award_action(award_id: str, action: str) -> Response:
    try:
        target, message = _act(award_id, action)
    except (InvalidInput, Conflict) as exc:      # refused: said on the award's page (unknown: 404)
        flash(sentence(exc.message), "bad")
        return redirect(url_for("admin.award", award_id=award_id), 303)
    flash(message, "ok")
    response = redirect(url_for("admin.award", award_id=target), 303)
    _send_mail_after(response)      # the renewal email, or the recipient's notice, was queued with the change
    return response
