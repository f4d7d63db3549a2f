"""The Jinja2 sandbox that admins' templates run in, bounded in output size and time.

:class:`jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python internals but
not from making huge strings (``{{ 'a' * 30000000 }}``, ``{{ 'a'|center(10**9) }}``,
``{{ 9 ** 9 ** 9 }}``) or looping for minutes. Here:

- ``*`` and ``**`` are checked before they run, as are the width and count arguments of the
  filters and string methods that grow a string (``center``, ``indent``, ``format``,
  ``replace``, ``ljust``, ...); a result longer than :data:`MAX_OUTPUT_CHARS` is refused;
- :func:`render_bounded` streams the output, stopping at :data:`MAX_OUTPUT_CHARS`, and stops a
  render that runs longer than :data:`MAX_RENDER_SECONDS` (a line tracer on the template's own
  code, used only where admins' text is first rendered: the check on save and the preview).
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

MAX_OUTPUT_CHARS = 100_000
MAX_RENDER_SECONDS = 1.0
MAX_POWER_BITS = 4096
#: str methods whose integer arguments say how long the result is
_GROWING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "replace"}
_WIDTH = re.compile(r"\d+")


class TemplateTooBig(SecurityError):
    """The template would produce more text, or take longer, than a message may."""


def _check_size(length: int) -> None:
    if length > MAX_OUTPUT_CHARS:
        raise TemplateTooBig(f"the result would be longer than {MAX_OUTPUT_CHARS} characters")


def _check_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    """Numbers and widths inside format strings that ask for more text than a message holds."""
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


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox without globals whose arithmetic and string growth stay within a message."""

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        # no range/cycler/namespace/lipsum: less to reach, and a context is built 200,000
        # times in a bulk run
        self.globals.clear()
        for name in ("center", "indent", "format", "replace", "wordwrap", "truncate"):
            self.filters[name] = _bounded_filter(name, self.filters[name])

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any):
        if operator == "**":
            growing = isinstance(left, int) and isinstance(right, int) and right > 0
            if growing and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
                raise TemplateTooBig("the number would be too large for a message")
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


def _deadline_tracer(deadline: float):
    """A ``sys.settrace`` function stopping template code (compiled as ``<template>``) once
    ``deadline`` has passed: loops that print nothing are stopped too."""

    def on_line(frame, event: str, arg: Any):
        if event == "line" and time.monotonic() > deadline:
            raise TemplateTooBig(f"the template took longer than {MAX_RENDER_SECONDS} s")
        return on_line

    def on_call(frame, event: str, arg: Any):
        if frame.f_code.co_filename == "<template>":
            return on_line
        return None

    return on_call


def render_bounded(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render ``template``, stopping at :data:`MAX_OUTPUT_CHARS` or :data:`MAX_RENDER_SECONDS`."""
    previous = sys.gettrace()
    sys.settrace(_deadline_tracer(time.monotonic() + MAX_RENDER_SECONDS))
    try:
        parts: list[str] = []
        length = 0
        for part in template.generate(**context):
            length += len(part)
            _check_size(length)
            parts.append(part)
        return "".join(parts)
    finally:
        sys.settrace(previous)
