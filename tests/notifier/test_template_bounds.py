"""Admins' templates are bounded in output size and time (issue 13, finding 7)."""

from __future__ import annotations

import time

import pytest

from crm_core.errors import Invalid
from notifier.templates.service import SAMPLE_CLIENT, render, validate

HUGE = [
    "{{ 'a' * 30000000 }}",
    "{{ 30000000 * 'a' }}",
    "{{ ['a'] * 30000000 }}",
    "{{ 9 ** 999999999 }}",
    "{{ 2 ** 64 ** 64 ** 64 ** 64 }}",
    "{{ 'a'|center(30000000) }}",
    "{{ 'a'|indent(30000000, true) }}",
    "{{ '%030000000d'|format(1) }}",
    "{{ 'a'.ljust(30000000) }}",
    "{{ '{:>30000000}'.format(1) }}",
    "{{ ('a' * 100000)|replace('a', 'aaaa') }}",
    "{% for i in 'x' * 90000 %}{{ 'y' * 90000 }}{% endfor %}",
]


@pytest.mark.parametrize("source", HUGE)
def test_a_template_cannot_make_a_huge_text(source):
    started = time.monotonic()
    with pytest.raises(Invalid) as refused:
        validate(source, dict(SAMPLE_CLIENT), field="body")
    assert "body" in str(refused.value.body()["detail"][0]["loc"])
    assert time.monotonic() - started < 5


def test_a_template_that_loops_without_printing_is_stopped_in_time():
    source = (
        "{% for a in 'x' * 3000 %}{% for b in 'x' * 3000 %}{% for c in 'x' * 3000 %}"
        "{% endfor %}{% endfor %}{% endfor %}"
    )
    started = time.monotonic()
    with pytest.raises(Invalid):
        validate(source, dict(SAMPLE_CLIENT), field="body")
    assert time.monotonic() - started < 5


def test_ordinary_templates_still_render():
    body = "Hello {{ first_name }}, {{ '%05d'|format(42) }} {{ 'ab' * 3 }} {{ 2 ** 10 }}"
    assert validate(body, {"first_name": "Ana"}, field="body") == "Hello Ana, 00042 ababab 1024"
    assert render("{{ x|center(9) }}", {"x": "a"}) == "    a    "


def test_the_preview_endpoint_refuses_a_huge_template(client, as_user):
    headers = as_user("root", role="admin")
    answer = client.put(
        "/api/notifier/templates/reminder.call.sms/en",
        json={"body": "{{ 'a' * 30000000 }}"},
        headers=headers,
    )
    assert answer.status_code == 422, answer.text[:200]
    assert len(answer.content) < 10_000
