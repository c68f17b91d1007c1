"""The form app: one document of procedurally placed widgets (the task families' canvas)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from envs.minidesk import document as D
from envs.minidesk.desktop import App, Desktop
from envs.minidesk.widgets import Rect, Widget


class FormApp(App, D.DocHost):
    """A window showing one ``DocState``; submitting stores a snapshot of the values.

    Args:
        spec: ``{"title": str, "elements": [Element dicts], "initial": {name: value}, "bg": str}``.
        today: Date shown by calendars.
    """

    name = "form"

    def __init__(self, spec: dict[str, Any], today: dt.date):
        self.spec = spec
        self._today = today
        elements = [D.Element(**e) for e in spec.get("elements", [])]
        self.doc = D.DocState(
            elements,
            title=spec.get("title", "Form"),
            bg=spec.get("bg", ""),
            initial=spec.get("initial"),
        )
        self.doc.focus = spec.get("focus")
        self.doc.open = spec.get("open")

    def title(self) -> str:
        return self.doc.title

    # DocHost
    def navigate(self, url: str) -> None:
        self.doc.clicks.append(url)  # form links are logged like recorded clicks

    def submit(self, doc: D.DocState, element: D.Element) -> None:
        doc.submitted = doc.form_values()

    def script(self, name: str, doc: D.DocState, element: D.Element) -> None:
        if name == "reveal_next":  # a dialog that opens another one (``action``) when closed
            doc.values[element.action] = True

    def today(self) -> dt.date:
        return self._today

    # App
    def build(self, desk: Desktop, rect: Rect, prefix: str) -> list[Widget]:
        return D.build(self.doc, self, desk.theme, rect, prefix)

    def key(self, desk: Desktop, key: str, mods: frozenset[str]) -> bool:
        return D.handle_key(self.doc, self, key, mods, desk.clipboard)

    def type(self, desk: Desktop, text: str) -> None:
        D.type_text(self.doc, self, text, desk.clipboard)

    def state(self) -> dict[str, Any]:
        return {
            "values": self.doc.form_values(),
            "clicks": list(self.doc.clicks),
            "submitted": self.doc.submitted,
        }
