"""HTML templates -> HTML (Jinja2 sandbox) -> PDF (WeasyPrint).

WeasyPrint may fetch only ``data:`` URLs (the logo is embedded as one): an admin's template
cannot make the server read local files or reach the network. Fonts come from fontconfig;
DejaVu Sans (Debian's fonts-dejavu-core) carries Romanian Ș/Ț and Cyrillic, and every shipped
template asks for it first."""

from __future__ import annotations

import queue
from functools import lru_cache
from typing import Any

import jinja2

from crm_core.documents.context import build_context
from crm_core.documents.errors import TemplateFailed
from crm_core.documents.sandbox import DocumentSandbox
from crm_core.documents.schemas import DocumentData


@lru_cache(maxsize=1)
def html_env() -> DocumentSandbox:
    return DocumentSandbox(autoescape=True, trim_blocks=True, lstrip_blocks=True)


@lru_cache(maxsize=64)
def _compiled(source: str) -> jinja2.Template:
    return html_env().from_string(source)


def render_html(source: str, data: DocumentData | dict[str, Any], name: str) -> str:
    """The HTML of one document; any template failure is a :class:`TemplateFailed`."""
    context = build_context(data) if isinstance(data, DocumentData) else data
    try:
        return _compiled(source).render(context)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailed(name, f"line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:  # SecurityError, TemplateTooBig, UndefinedError
        raise TemplateFailed(name, str(exc) or exc.__class__.__name__) from None
    except (TypeError, ValueError, ArithmeticError, LookupError) as exc:
        raise TemplateFailed(name, f"{exc.__class__.__name__}: {exc}") from None


def _only_data_urls():
    """A fetcher that refuses every scheme but ``data:`` (one per render: WeasyPrint's
    fetchers keep per-request state)."""
    from weasyprint.urls import URLFetcher

    return URLFetcher(allowed_protocols=("data",), allow_redirects=False)


#: Stylesheet text that must not be shared between documents: these rules register state in
#: the font configuration or counter styles of one render.
_UNSHAREABLE_CSS = ("@font-face", "@counter-style", "@import")
_FONT_CONFIGS: queue.SimpleQueue = queue.SimpleQueue()
_MAX_IDLE_FONT_CONFIGS = 4


@lru_cache(maxsize=32)
def _parsed_css(text: str):
    """A ``<style>`` block parsed once (WeasyPrint's CSS objects are read-only after parsing)."""
    from weasyprint import CSS

    return CSS(string=text, url_fetcher=_only_data_urls())


def _take_font_config():
    """A font configuration another render finished with (a new one costs fontconfig setup
    and Pango's font loading, a quarter of a short document's layout time)."""
    from weasyprint.text.fonts import FontConfiguration

    try:
        return _FONT_CONFIGS.get_nowait()
    except queue.Empty:
        return FontConfiguration()


def _give_back(font_config) -> None:
    if _FONT_CONFIGS.qsize() < _MAX_IDLE_FONT_CONFIGS:
        _FONT_CONFIGS.put(font_config)


@lru_cache(maxsize=1)
def _document_class():
    """WeasyPrint's HTML with a small user-agent stylesheet (shipped/print_ua.css) whose plain
    ``<style>`` blocks are parsed once per distinct text and then reused."""
    from pathlib import Path

    from weasyprint import CSS, HTML

    ua = CSS(string=(Path(__file__).parent / "shipped" / "print_ua.css").read_text("utf-8"))

    class PrintFormHTML(HTML):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self.shared_sheets = []
            for style in self.etree_element.iter("style"):
                text = "".join(style.itertext())
                if set(style.keys()) - {"type"} or style.get("type", "text/css") != "text/css":
                    continue  # media queries, other languages: WeasyPrint's own handling
                if any(rule in text for rule in _UNSHAREABLE_CSS):
                    continue
                self.shared_sheets.append(_parsed_css(text))
                style.set("type", "text/x-parsed")  # WeasyPrint skips it; applied as above

        def _ua_stylesheets(self, forms: bool = False):
            return [ua]

        def _ph_stylesheets(self):
            return []

    return PrintFormHTML


def html_to_pdf(html: str) -> bytes:
    document = _document_class()(string=html, url_fetcher=_only_data_urls(), base_url=None)
    if "@font-face" in html:  # fonts an admin embedded: keep them out of the shared configs
        return document.write_pdf(stylesheets=document.shared_sheets)
    font_config = _take_font_config()
    try:
        return document.write_pdf(font_config=font_config, stylesheets=document.shared_sheets)
    finally:
        _give_back(font_config)


def render_pdf(source: str, data: DocumentData, name: str) -> bytes:
    return html_to_pdf(render_html(source, data, name))
