"""Word templates: a .docx whose text holds Jinja placeholders, filled by docxtpl.

docxtpl renders the XML of the document, its headers and footers through the sandbox given
to it (the same bounds as the HTML forms; values are XML-escaped by autoescape)."""

from __future__ import annotations

import io
import zipfile
from functools import lru_cache

import jinja2
from docxtpl import DocxTemplate

from crm_core.documents.context import build_context
from crm_core.documents.errors import TemplateFailed
from crm_core.documents.sandbox import DocumentSandbox
from crm_core.documents.schemas import DocumentData

DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


@lru_cache(maxsize=1)
def docx_env() -> DocumentSandbox:
    return DocumentSandbox(autoescape=True)


def check_docx(content: bytes, name: str) -> None:
    """A Word file at all (a zip with word/document.xml); otherwise 422 naming the template."""
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            if "word/document.xml" not in archive.namelist():
                raise TemplateFailed(name, "not a Word .docx file (no word/document.xml)")
    except zipfile.BadZipFile:
        raise TemplateFailed(name, "not a Word .docx file") from None


def render_docx(content: bytes, data: DocumentData, name: str) -> bytes:
    check_docx(content, name)
    template = DocxTemplate(io.BytesIO(content))
    try:
        template.render(build_context(data), jinja_env=docx_env(), autoescape=True)
    except jinja2.TemplateSyntaxError as exc:
        raise TemplateFailed(name, f"line {exc.lineno}: {exc.message}") from None
    except jinja2.TemplateError as exc:
        raise TemplateFailed(name, str(exc) or exc.__class__.__name__) from None
    except (TypeError, ValueError, ArithmeticError, LookupError, KeyError) as exc:
        raise TemplateFailed(name, f"{exc.__class__.__name__}: {exc}") from None
    out = io.BytesIO()
    template.save(out)
    return out.getvalue()
