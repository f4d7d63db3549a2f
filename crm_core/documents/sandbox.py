"""The Jinja2 sandbox that print-form templates (HTML and the XML inside a .docx) run in.

:class:`jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python internals
(``{{ ''.__class__.__mro__ }}`` raises ``SecurityError``); on top of it, as the notifier's
message sandbox does (not imported: a lower part may not name a higher one):

- ``*`` and ``**`` are checked before they run, and so are the widths of the string-growing
  filters, so ``{{ 'a' * 10**9 }}`` never allocates;
- the output is streamed and refused past :data:`MAX_OUTPUT_CHARS` (a few MB: a real
  document is far smaller), whichever route (``render``, docxtpl's ``render``) asks for it;
- a render running past :data:`MAX_RENDER_SECONDS` is stopped (loops that print nothing).
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from typing import Any

import jinja2
from jinja2.exceptions import SecurityError
from jinja2.sandbox import SandboxedEnvironment

MAX_OUTPUT_CHARS = 4_000_000
MAX_RENDER_SECONDS = 5.0
MAX_POWER_BITS = 4096
_WIDTH = re.compile(r"\d+")
_GROWING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "replace"}


class TemplateTooBig(SecurityError):
    """The template would produce more text, or take longer, than a document may."""


def _check_size(length: int) -> None:
    if length > MAX_OUTPUT_CHARS:
        raise TemplateTooBig(f"the result would be longer than {MAX_OUTPUT_CHARS} characters")


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool):
            _check_size(value)
        elif isinstance(value, str) and ("%" in value or "{" in value):
            for width in _WIDTH.findall(value):
                _check_size(int(width) if len(width) < 12 else MAX_OUTPUT_CHARS + 1)


def _bounded_filter(name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
    def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
        _check_arguments((value, *args) if name == "format" else args, kwargs)
        result = filter_(value, *args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result))
        return result

    checked.__name__ = name
    return checked


def _deadline_tracer(deadline: float):
    def on_line(frame, event: str, arg: Any):
        if event == "line" and time.monotonic() > deadline:
            raise TemplateTooBig(f"the template took longer than {MAX_RENDER_SECONDS:g} s")
        return on_line

    def on_call(frame, event: str, arg: Any):
        return on_line if frame.f_code.co_filename == "<template>" else None

    return on_call


class BoundedTemplate(jinja2.Template):
    """A template whose ``render`` streams and stops at the size and time bounds."""

    def render(self, *args: Any, **kwargs: Any) -> str:
        previous = sys.gettrace()
        sys.settrace(_deadline_tracer(time.monotonic() + MAX_RENDER_SECONDS))
        try:
            parts: list[str] = []
            size = 0
            for chunk in self.generate(*args, **kwargs):
                size += len(chunk)
                _check_size(size)
                parts.append(chunk)
            return "".join(parts)
        finally:
            sys.settrace(previous)


class DocumentSandbox(SandboxedEnvironment):
    """Sandboxed, bounded; only the document's data and a few formatting filters in reach."""

    intercepted_binops = frozenset({"*", "**"})
    template_class = BoundedTemplate

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # only ``range`` (the sandbox's own, at most 100,000 items) of Jinja's globals
        self.globals = {"range": self.globals["range"]}
        for name in ("center", "indent", "format", "replace", "wordwrap", "truncate"):
            self.filters[name] = _bounded_filter(name, self.filters[name])

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any):
        if operator == "**":
            growing = isinstance(left, int) and isinstance(right, int) and right > 0
            if growing and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
                raise TemplateTooBig("the number would be too large for a document")
            return left**right
        for size, times in ((left, right), (right, left)):
            if isinstance(size, str | list | tuple) and isinstance(times, int):
                _check_size(len(size) * times)
        return left * right

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any):  # noqa: N805 - as in SandboxedEnvironment.call
        if getattr(__obj, "__name__", "") in _GROWING_METHODS and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            _check_arguments(args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str):
            _check_size(len(result))
        return result
