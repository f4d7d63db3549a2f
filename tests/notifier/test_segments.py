"""SMS segment counting (GSM-7 / UCS-2) and the segments API."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from notifier.sms_segments.service import count_segments, transliterate_romanian

GSM_BASIC = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 .,!?@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ"


def test_gsm7_boundaries():
    assert (count_segments("a" * 160).encoding, count_segments("a" * 160).segments) == ("GSM-7", 1)
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3


def test_extension_characters_count_double_and_are_never_split():
    info = count_segments("€" * 80)
    assert (info.units, info.segments) == (160, 1)
    assert count_segments("€" * 81).segments == 2
    # 306 units would fit two parts of 153, but the escape pair cannot straddle parts 1 and 2
    assert count_segments("a" * 152 + "€" + "a" * 152).units == 306
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 153).segments == 2
    assert count_segments("[]{}|^~\\").units == 16


def test_ucs2_boundaries_and_emoji():
    assert count_segments("ș" * 70).encoding == "UCS-2"
    assert count_segments("ș" * 70).segments == 1
    assert count_segments("ș" * 71).segments == 2
    assert count_segments("ș" * 134).segments == 2
    assert count_segments("ș" * 135).segments == 3
    assert count_segments("😀" * 35).units == 70
    assert count_segments("😀" * 35).segments == 1
    assert count_segments("😀" * 36).segments == 2
    assert count_segments("Привет").encoding == "UCS-2"


def test_one_romanian_letter_switches_the_whole_message_and_transliteration_saves_it():
    text = (
        "Buna ziua, va reamintim de programarea de mâine la ora 10:00 la clinica noastră din Iași. "
        * 2
    )
    plain = count_segments(text)
    saved = count_segments(text, transliterate=True)
    assert plain.encoding == "UCS-2" and plain.segments == 3
    assert saved.encoding == "GSM-7" and saved.segments == 2
    assert "Iasi" in saved.text and "maine" in saved.text


def test_transliteration_covers_comma_and_cedilla_forms():
    assert transliterate_romanian("ș ş ț ţ ă â î Ș Ş Ț Ţ Ă Â Î") == "s s t t a a i S S T T A A I"


@given(st.text(alphabet=GSM_BASIC, max_size=700))
def test_plain_gsm_text_costs_what_the_formula_says(text):
    info = count_segments(text)
    n = len(text)
    expected = 0 if n == 0 else 1 if n <= 160 else -(-n // 153)
    assert (info.encoding, info.segments, info.units) == ("GSM-7", expected, n)


@given(st.text(alphabet="абвгдеёжзийклмнопрстуфхцчшщъыьэюя șțăîâ", min_size=1, max_size=400))
def test_cyrillic_and_romanian_text_costs_what_the_ucs2_formula_says(text):
    info = count_segments(text)
    n = len(text)
    if any(c not in " " for c in text):
        assert info.encoding == "UCS-2"
        assert info.segments == (1 if n <= 70 else -(-n // 67))


def test_segments_api(client, as_user):
    headers = as_user("ana")
    r = client.post("/api/notifier/segments", json={"text": "Salut ș"}, headers=headers)
    assert r.status_code == 200
    assert r.json()["encoding"] == "UCS-2" and r.json()["segments"] == 1
    r = client.post(
        "/api/notifier/segments", json={"text": "Salut ș", "transliterate": True}, headers=headers
    )
    assert r.json()["encoding"] == "GSM-7" and r.json()["text"] == "Salut s"
    r = client.get("/api/notifier/segments", params={"text": "a" * 161}, headers=headers)
    assert r.json()["segments"] == 2 and r.json()["characters"] == 161
    bad = client.post("/api/notifier/segments", json={}, headers=headers)
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "text"]
    assert client.post("/api/notifier/segments", json={"text": "x"}).status_code == 401
