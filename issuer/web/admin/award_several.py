"""Issue one achievement to several people at once (``admin.award_new_several``, under "Issue" in the menu).

A shell over :meth:`issuer.bulk.service.BulkService.issue_people` (the bulk pipeline and its
rules, so a person here is checked exactly as a row of a bulk file). The page answers per
person: issued (with the badge link), already issued, or why not. "All or nothing" (the
default: any problem and nothing is issued) or "issue to everyone who passes"
(:class:`~issuer.bulk.limits.BulkMode`). Award emails go out after the response, as for one
award. The form keeps what was typed when it is shown again.
"""
from __future__ import annotations

from flask import Response, render_template, request

from issuer.bulk.limits import MAX_PEOPLE, BulkMode
from issuer.bulk.people import SHARED_COLUMNS
from issuer.errors import IssuerError
from issuer.web.admin.blueprint import actor, bp, sentence, state

MAX_TEXT = 64 * 1024          # the list of people (200 lines of addresses and names fit many times over)
MAX_FIELD = 10_000


def _form_page(ref: str | None, form: dict[str, str], errors: dict[str, str], outcome=None,
               status: int = 200) -> tuple[str, int]:
    achievements, chosen = state().use.search.achievement_choices(ref)
    if ref and chosen is None and "achievement" not in errors:
        errors = {**errors, "achievement": "Choose one of the achievements."}
        status = 422 if status == 200 else status
    return render_template("admin/award_several.html", chosen=chosen, form=form, errors=errors, outcome=outcome,
                           achievements=[("", "Choose…")] + [(a.id, a.name) for a in achievements],
                           max_people=MAX_PEOPLE, today=state().clock().date().isoformat(),
                           valid_rows=BulkMode.VALID_ROWS.value), status


@bp.route("/awards/new/several", methods=["GET", "POST"])
def award_new_several() -> Response | tuple[str, int]:
    if request.method == "GET":
        return _form_page(request.args.get("achievement"), {}, {})
    form = {key: request.form.get(key, "")[:MAX_TEXT if key == "people" else MAX_FIELD]
            for key in ("achievement", "people", "mode", *SHARED_COLUMNS)}
    _, chosen = state().use.search.achievement_choices(form["achievement"])
    if chosen is None:
        return _form_page(form["achievement"], form, {"achievement": "Choose one of the achievements."}, status=422)
    mode = BulkMode.VALID_ROWS if form["mode"] == BulkMode.VALID_ROWS else BulkMode.ALL_OR_NOTHING
    try:
        outcome = state().use.bulk.issue_people(form["people"], achievement=chosen.id, actor=actor(), mode=mode,
                                                shared={c: form[c].strip() or None for c in SHARED_COLUMNS})
    except IssuerError as exc:
        return _form_page(chosen.id, form, {exc.field or "form": sentence(exc.message)}, status=exc.http_status)
    if outcome.issued_any:      # what is left to do: the lines that were refused, to fix and send again
        typed = form["people"].splitlines()
        form = {**form, "people": "\n".join(typed[o.line - 1] for o in outcome.outcomes if o.status == "refused")}
    page, status = _form_page(chosen.id, form, {}, outcome,
                              200 if outcome.issued_any or not outcome.count("refused") else 422)
    response = Response(page, status=status, mimetype="text/html")
    if outcome.issued_any:                      # the award emails were queued with the awards
        response.call_on_close(state().use.awards.deliver_mail)
    return response
