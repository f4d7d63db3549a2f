"""Opt-out / opt-in keywords (English carrier words, our Romanian and Russian equivalents)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from notifier.inbound.compliance import OPT_IN_WORDS, OPT_OUT_WORDS, classify


@pytest.mark.parametrize(
    "body",
    ["STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT", "Dezabonare", "dezabonează",
     "Renunț", "ANULARE", "СТОП", "Стоп", "отписаться", "ОТПИСКА", "отмена"],
)  # fmt: skip
def test_opt_out_words(body):
    assert classify(body) == "opt_out"


@pytest.mark.parametrize(
    "body", ["START", "unstop", "Yes", "pornire", "DA", "старт", "Да", "подписаться"]
)
def test_opt_in_words(body):
    assert classify(body) == "opt_in"


@pytest.mark.parametrize(
    "body", ["stop it please", "5", "can I cancel my appointment?", "", "startup"]
)
def test_ordinary_messages_are_not_keywords(body):
    assert classify(body) is None


@given(
    st.sampled_from(sorted(OPT_OUT_WORDS)),
    st.sampled_from(["", " ", "  ", "\n"]),
    st.sampled_from(["", ".", "!", " ", "!!"]),
    st.sampled_from([str.lower, str.upper, str.capitalize]),
)
def test_opt_out_ignores_case_spaces_and_punctuation(word, before, after, case):
    assert classify(before + case(word) + after) == "opt_out"


@given(st.sampled_from(sorted(OPT_IN_WORDS)), st.sampled_from([str.lower, str.upper, str.title]))
def test_opt_in_ignores_case(word, case):
    assert classify(case(word)) == "opt_in"


def test_word_lists_do_not_overlap():
    assert not OPT_OUT_WORDS & OPT_IN_WORDS
