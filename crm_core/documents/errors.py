"""A template that does not render: 422 naming the template (never a 500)."""

from __future__ import annotations

from crm_core.errors import Invalid


class TemplateFailed(Invalid):
    """``loc`` is ``["template", "<kind>/<language>/<format>"]``."""

    def __init__(self, name: str, message: str) -> None:
        super().__init__(["template", name], f"template {name}: {message}")
