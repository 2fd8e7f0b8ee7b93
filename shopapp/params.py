"""The query string of a panel list, read once: a value that is malformed or out of range is
dropped with a notice the page shows (panel_base.html), never a 500 or a silent surprise."""
from __future__ import annotations

from datetime import date
from typing import Iterable

from django.core.paginator import Page, Paginator
from django.http import HttpRequest
from django.utils.translation import gettext as _, ngettext

# Days a panel filter can name. The shop's midnight of 9999-12-31 plus a day overflows datetime;
# year 1 in a timezone east of UTC overflows on the way to the database.
FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(2100, 12, 31)
MAX_ID = 2**63 - 1  # a Shopify id is a signed 64-bit column; larger answers 500 from the database
MAX_TEXT = 200


class ListParams:
    """One request's list parameters, checked; `notices` says what was ignored and why."""

    def __init__(self, request: HttpRequest):
        self._query = request.GET
        self.notices: list[str] = []

    def _raw(self, name: str) -> str:
        return self._query.get(name, "").strip()

    def _ignored(self, sentence: str, label: str, raw: str, **values) -> None:
        """`sentence`: the notice, translated, with %(label)s and %(value)s (what was given, cut to 40 characters)."""
        shown = raw if len(raw) <= 40 else raw[:40] + "…"
        self.notices.append(sentence % {"label": label, "value": shown, **values})

    def choice(self, name: str, allowed: Iterable[str], *, label: str, default: str = "") -> str:
        raw = self._raw(name)
        if not raw:
            return default
        if raw not in set(allowed):
            self._ignored(_("%(label)s “%(value)s” is not one of the choices, so it was ignored."), label, raw)
            return default
        return raw

    def text(self, name: str, *, label: str) -> str:
        raw = self._raw(name)
        if len(raw) > MAX_TEXT or "\x00" in raw:  # PostgreSQL refuses NUL in any text it is given
            self._ignored(_("%(label)s “%(value)s” is not a search of up to %(most)s characters, so it was ignored."),
                          label, raw.replace("\x00", ""), most=MAX_TEXT)
            return ""
        return raw

    def identifier(self, name: str, *, label: str) -> str:
        """A numeric id, as text ("" when absent or not a valid id)."""
        raw = self._raw(name)
        if raw and not (raw.isascii() and raw.isdigit() and 0 < int(raw) <= MAX_ID):
            self._ignored(_("%(label)s “%(value)s” is not a valid id, so it was ignored."), label, raw)
            return ""
        return raw

    def day(self, name: str, *, label: str) -> str:
        """An ISO date between FIRST_DAY and LAST_DAY, as text ("" when absent or not such a date)."""
        raw = self._raw(name)
        if not raw:
            return ""
        try:
            day = date.fromisoformat(raw) if len(raw) == 10 else None
        except ValueError:
            day = None
        if day is None:
            self._ignored(_("%(label)s “%(value)s” is not a date like 2026-01-31, so it was ignored."), label, raw)
            return ""
        if not FIRST_DAY <= day <= LAST_DAY:
            self._ignored(_("%(label)s “%(value)s” is outside %(first)s to %(last)s, so it was ignored."), label, raw,
                          first=FIRST_DAY.isoformat(), last=LAST_DAY.isoformat())
            return ""
        return raw

    def days(self, *, start: str = "from", end: str = "to") -> dict[str, str]:
        """The `from`/`to` pair of a list filter; both kept when reversed (nothing matches), and said so."""
        days = {start: self.day(start, label=_("From")), end: self.day(end, label=_("To"))}
        if days[start] and days[end] and days[start] > days[end]:
            self.notices.append(_("From %(start)s is after To %(end)s: no day is in that range.")
                                % {"start": days[start], "end": days[end]})
        return days

    def page(self, items, per_page: int) -> Page:
        """The asked page; a page that does not exist shows the nearest one that does, and says so."""
        paginator = Paginator(items, per_page)
        raw = self._raw("page")
        number = int(raw) if raw.isascii() and raw.isdigit() and len(raw) <= 18 else None
        page = paginator.get_page(number)
        if raw and number != page.number:
            self._ignored(ngettext("%(label)s “%(value)s” does not exist (there is %(count)s page), so it was ignored.",
                                   "%(label)s “%(value)s” does not exist (there are %(count)s pages), so it was ignored.",
                                   paginator.num_pages), _("Page"), raw, count=paginator.num_pages)
        return page
