"""A case's history in words: each event's line written from the values it keeps (CaseEvent.data), in
the language of whoever reads it; stored once in English too (`detail`), for exports and logs."""
from __future__ import annotations

from django.utils import translation
from django.utils.translation import gettext as _

from reviews.cases.models import Case, CaseEvent, Remedy
from shopapp.languages import money_format


def event_text(action: str, data: dict) -> str:
    """The line for an event with these values, in the active language ("" when there is none)."""
    kind = _label(Remedy.Kind, data.get("kind"))
    if action == "opened" and data.get("reason"):
        label = _label(Case.Reason, data["reason"])
        if data.get("score") is not None:
            return _("%(reason)s: %(score)s/10") % {"reason": label, "score": data["score"]}
        if data.get("keyword"):
            return _("%(reason)s: “%(keyword)s”") % {"reason": label, "keyword": data["keyword"]}
        return label
    if action == "status" and data.get("to"):
        return f"{_label(Case.Status, data.get('from'))} → {_label(Case.Status, data['to'])}"
    if action == "assigned":
        return _("assigned to %(name)s") % {"name": data["to"]} if data.get("to") else _("unassigned")
    if action == "review_updated" and data.get("rating") is not None:
        return _("the customer's rating is now %(rating)s★") % {"rating": data["rating"]}
    if action == "score_updated" and data.get("score") is not None:
        return _("the customer's score is now %(score)s/10") % {"score": data["score"]}
    if action == "replied_public" and data.get("removed"):
        return _("removed")
    if action == "remedy" and kind:
        return f"{kind}: {money_format(data['amount'], data['currency'])}"
    if action == "remedy_done" and kind:
        return (_("%(kind)s %(code)s created in Shopify") if data.get("code") else _("%(kind)s created in Shopify")) % {
            "kind": kind, "code": data.get("code")}
    if action == "remedy_delivered" and kind:
        return (_("%(kind)s %(code)s sent to the customer") if data.get("code") else
                _("%(kind)s sent to the customer")) % {"kind": kind, "code": data.get("code")}
    if action == "remedy_failed" and kind:
        return f"{kind}: {data.get('error', '')}"
    if action == "remedy_retry" and kind:
        return kind
    return ""


def event_english(action: str, data: dict) -> str:
    with translation.override("en"):
        return event_text(action, data)


def event_shown(event: CaseEvent) -> str:
    """What the panel shows after the event's label: from its values, else as it was stored."""
    return (event_text(event.action, event.data) if event.data else "") or event.detail


def _label(choices, value) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return str(value)
