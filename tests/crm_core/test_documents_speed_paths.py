"""The PDF renderer's reuse paths: ``<style>`` blocks parsed once and shared font
configurations must give each document exactly its own styles, page size and text."""

from __future__ import annotations

import subprocess
import threading

from crm_core.documents.render_pdf import html_to_pdf


def pdf_text(pdf: bytes) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True, check=True
    ).stdout.decode("utf-8")


def page_size(pdf: bytes) -> str:
    info = subprocess.run(["pdfinfo", "-"], input=pdf, capture_output=True, check=True)
    line = next(x for x in info.stdout.decode().splitlines() if x.startswith("Page size:"))
    return line.split(":", 1)[1].split("pts")[0].strip()


HIDING = "<style>.x { display: none }</style><p class='x'>HIDDEN-X</p><p>SHOWN Ș Ж</p>"
OTHER = "<style>.y { display: none }</style><p class='x'>VISIBLE-X</p><p class='y'>HIDDEN-Y</p>"


def test_a_shared_stylesheet_applies_every_time_and_only_to_its_own_document() -> None:
    for _ in range(2):  # the second render takes the parsed sheet from the cache
        text = pdf_text(html_to_pdf(HIDING))
        assert "SHOWN Ș Ж" in text and "HIDDEN-X" not in text
    text = pdf_text(html_to_pdf(OTHER))
    assert "VISIBLE-X" in text and "HIDDEN-Y" not in text


def test_page_rules_and_media_of_style_blocks_are_honoured() -> None:
    a5 = "<style>@page { size: A5 }</style><p>small</p>"
    assert page_size(html_to_pdf(a5)) == "419.528 x 595.276"
    assert page_size(html_to_pdf(a5)) == "419.528 x 595.276"
    assert page_size(html_to_pdf("<p>default</p>")) == "595.276 x 841.89"
    screen_only = "<style media='screen'>.x { display: none }</style><p class='x'>PRINTED</p>"
    assert "PRINTED" in pdf_text(html_to_pdf(screen_only))


def test_parallel_renders_each_get_their_own_text() -> None:
    results: dict[int, str] = {}

    def work(n: int) -> None:
        results[n] = pdf_text(html_to_pdf(f"<style>p {{ color: #123 }}</style><p>DOC-{n}-Ț</p>"))

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert all(f"DOC-{n}-Ț" in results[n] for n in range(4))


def test_a_data_url_logo_embeds_and_a_local_file_is_refused_without_failing() -> None:
    import base64
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 90, 160)).save(buf, "PNG")
    logo = "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode()
    pdf = html_to_pdf(f"<img src='{logo}' alt=''><p>WITH-LOGO</p>")
    assert b"/Subtype /Image" in pdf and "WITH-LOGO" in pdf_text(pdf)
    pdf = html_to_pdf("<img src='file:///etc/hostname' alt=''><p>NO-FILE</p>")
    assert b"/Subtype /Image" not in pdf and "NO-FILE" in pdf_text(pdf)
