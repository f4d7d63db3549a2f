"""The sandbox that print-form templates (HTML and the XML inside a .docx) run in: the shared
:class:`crm_core.sandbox.BoundedSandbox` with a document's bounds, every render bounded (both
routes, ``render`` and docxtpl's ``render``, go through the template class)."""

from __future__ import annotations

from typing import Any

import jinja2

from crm_core.sandbox import BoundedSandbox, render_bounded


class BoundedTemplate(jinja2.Template):
    """A template whose ``render`` streams and stops at its sandbox's size and time bounds."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        return render_bounded(self, dict(*args, **kwargs))


class DocumentSandbox(BoundedSandbox):
    """A few MB and a few seconds (a real document is far smaller); only ``range`` (the
    sandbox's own, at most 100,000 items) of Jinja's globals."""

    template_class = BoundedTemplate
    max_output_chars = 4_000_000
    max_render_seconds = 5.0
    kept_globals = ("range",)
