"""The Jinja2 sandbox that people's templates run in (message templates, print forms), bounded
in output size and time.

:class:`jinja2.sandbox.SandboxedEnvironment` keeps a template away from Python internals
(``{{ ''.__class__.__mro__ }}`` raises ``SecurityError``) but not from making huge strings
(``{{ 'a' * 30000000 }}``, ``{{ 'a'|center(10**9) }}``, ``{{ 9 ** 9 ** 9 }}``) or looping for
minutes. Here:

- ``*`` and ``**`` are checked before they run, as are the width and count arguments of the
  filters and string methods that grow a string (``center``, ``indent``, ``format``,
  ``replace``, ``ljust``, ...); a result longer than the sandbox's ``max_output_chars`` is
  refused;
- :func:`render_bounded` streams the output, stopping at ``max_output_chars``, and stops a
  render that runs longer than ``max_render_seconds`` (a line tracer on the template's own
  code, so loops that print nothing stop too).

Each use sets its own bounds in a subclass: a message is short, a print form may run to pages.
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

MAX_POWER_BITS = 4096
#: str methods whose integer arguments say how long the result is
_GROWING_METHODS = {"center", "ljust", "rjust", "zfill", "expandtabs", "format", "replace"}
_GROWING_FILTERS = ("center", "indent", "format", "replace", "wordwrap", "truncate")
_WIDTH = re.compile(r"\d+")


class TemplateTooBig(SecurityError):
    """The template would produce more text, or take longer, than its use allows."""


class BoundedSandbox(SandboxedEnvironment):
    """A sandbox whose arithmetic and string growth stay within ``max_output_chars``, with only
    ``kept_globals`` of Jinja's globals in reach (none: less to reach, and a context is built
    200,000 times in a bulk run)."""

    intercepted_binops = frozenset({"*", "**"})
    max_output_chars = 100_000
    max_render_seconds = 1.0
    kept_globals: tuple[str, ...] = ()

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals = {name: self.globals[name] for name in self.kept_globals}
        for name in _GROWING_FILTERS:
            self.filters[name] = self._bounded_filter(name, self.filters[name])

    def check_size(self, length: int) -> None:
        if length > self.max_output_chars:
            raise TemplateTooBig(
                f"the result would be longer than {self.max_output_chars} characters"
            )

    def _check_arguments(self, args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
        """Numbers and widths inside format strings that ask for more text than allowed."""
        for value in (*args, *kwargs.values()):
            if isinstance(value, int) and not isinstance(value, bool):
                self.check_size(value)
            elif isinstance(value, str) and ("%" in value or "{" in value):
                for width in _WIDTH.findall(value):
                    self.check_size(int(width) if len(width) < 12 else self.max_output_chars + 1)

    def _bounded_filter(self, name: str, filter_: Callable[..., Any]) -> Callable[..., Any]:
        def checked(value: Any, *args: Any, **kwargs: Any) -> Any:
            self._check_arguments((value, *args) if name == "format" else args, kwargs)
            result = filter_(value, *args, **kwargs)
            if isinstance(result, str):
                self.check_size(len(result))
            return result

        checked.__name__ = name
        return checked

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any):
        if operator == "**":
            growing = isinstance(left, int) and isinstance(right, int) and right > 0
            if growing and max(left.bit_length(), 1) * right > MAX_POWER_BITS:
                raise TemplateTooBig("the number would be too large")
            return left**right
        for size, times in ((left, right), (right, left)):
            if isinstance(size, str | list | tuple) and isinstance(times, int):
                self.check_size(len(size) * times)
        return left * right

    def call(__self, __context: jinja2.runtime.Context, __obj: Any, *args: Any, **kwargs: Any):  # noqa: N805 - as in SandboxedEnvironment.call
        if getattr(__obj, "__name__", "") in _GROWING_METHODS and isinstance(
            getattr(__obj, "__self__", None), str
        ):
            __self._check_arguments(args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if isinstance(result, str):
            __self.check_size(len(result))
        return result


def _deadline_tracer(deadline: float, seconds: float):
    """A ``sys.settrace`` function stopping template code (compiled as ``<template>``) once
    ``deadline`` has passed."""

    def on_line(frame, event: str, arg: Any):
        if event == "line" and time.monotonic() > deadline:
            raise TemplateTooBig(f"the template took longer than {seconds:g} s")
        return on_line

    def on_call(frame, event: str, arg: Any):
        return on_line if frame.f_code.co_filename == "<template>" else None

    return on_call


def render_bounded(template: jinja2.Template, context: dict[str, Any]) -> str:
    """Render ``template`` (made by a :class:`BoundedSandbox`), stopping at its sandbox's
    output size or render time."""
    env: BoundedSandbox = template.environment  # type: ignore[assignment]
    seconds = env.max_render_seconds
    previous = sys.gettrace()
    sys.settrace(_deadline_tracer(time.monotonic() + seconds, seconds))
    try:
        parts: list[str] = []
        length = 0
        for part in template.generate(**context):
            length += len(part)
            env.check_size(length)
            parts.append(part)
        return "".join(parts)
    finally:
        sys.settrace(previous)
