"""Voice scripts rendered to TwiML for each script and language, parsed back as XML."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from urllib.parse import parse_qs, urlsplit

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from voicebots.agi import prompt_list
from voicebots.scripts import (
    LANGUAGES,
    SCRIPTS,
    TWILIO_VOICES,
    Gather,
    Hangup,
    Record,
    Say,
    Script,
    check_script,
    pick_language,
)
from voicebots.twiml import render_step

VALUES = {"name": "Ana", "company": "Dental Plus", "body": "Tomorrow at 10:00."}


def url(step: str, attempt: int) -> str:
    return f"https://crm.example.com/api/voice/x/7/gather?step={step}&attempt={attempt}"


def render(script: str, step: str, language: str, **kw) -> ET.Element:
    xml = render_step(SCRIPTS[script], step, language=language, values=VALUES, gather_url=url, **kw)
    assert xml.startswith("<?xml")
    return ET.fromstring(xml)


@pytest.mark.parametrize("language", LANGUAGES)
def test_reminder_asks_for_one_key_in_the_clients_language(language):
    root = render("reminder", "start", language)
    assert root.tag == "Response"
    intro, gather = list(root)
    code, voice = TWILIO_VOICES[language]
    assert intro.tag == "Say"
    assert intro.attrib == {"language": code, "voice": voice}
    assert "Ana" in intro.text and "Dental Plus" in intro.text
    assert intro.text.endswith("Tomorrow at 10:00.")
    assert gather.tag == "Gather"
    assert gather.attrib["input"] == "dtmf"
    assert gather.attrib["numDigits"] == "1"
    assert gather.attrib["actionOnEmptyResult"] == "true"
    assert gather.attrib["method"] == "POST"
    assert gather.attrib["timeout"] == "6"
    query = parse_qs(urlsplit(gather.attrib["action"]).query)
    assert query == {"step": ["start"], "attempt": ["1"]}
    (question,) = list(gather)
    assert question.tag == "Say" and question.attrib["language"] == code
    assert "1" in question.text and "2" in question.text


def test_texts_differ_per_language():
    texts = {lang: render("reminder", "start", lang)[1][0].text for lang in LANGUAGES}
    assert texts["en"].startswith("Press 1 to confirm")
    assert texts["ro"].startswith("Apăsați 1")
    assert texts["ru"].startswith("Нажмите 1")


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize(
    "script,step",
    [
        ("reminder", "confirmed"),
        ("reminder", "cancel"),
        ("reminder", "no_input"),
        ("rating", "rated_5"),
        ("rating", "no_input"),
        ("announcement", "start"),
    ],
)
def test_final_steps_speak_then_hang_up(script, step, language):
    root = render(script, step, language)
    tags = [child.tag for child in root]
    assert tags[-1] == "Hangup"
    assert set(tags[:-1]) == {"Say"} and tags[:-1]
    for say in root.findall("Say"):
        assert say.text and say.attrib["language"] == TWILIO_VOICES[language][0]


@pytest.mark.parametrize("language", LANGUAGES)
def test_rating_question_and_announcement_text(language):
    root = render("rating", "start", language)
    gather = root.find("Gather")
    assert gather is not None and gather.attrib["numDigits"] == "1"
    assert "5" in gather[0].text
    announcement = render("announcement", "start", language)
    assert [s.text for s in announcement.findall("Say")][1] == "Tomorrow at 10:00."


def test_retry_says_sorry_then_only_the_question_again():
    root = render("reminder", "start", "en", attempt=2, retry=True)
    sorry, gather = list(root)
    assert sorry.text == "Sorry, I did not get that."
    assert parse_qs(urlsplit(gather.attrib["action"]).query)["attempt"] == ["2"]
    assert gather[0].text.startswith("Press 1 to confirm")


def test_missing_values_leave_no_braces():
    xml = render_step(SCRIPTS["reminder"], "start", language="en", values={}, gather_url=url)
    assert "{" not in xml and "}" not in xml


def test_digits_lead_to_steps_and_give_up_after_the_attempts():
    script = SCRIPTS["reminder"]
    assert script.after_input("start", "1", 1).step == "confirmed"
    assert script.after_input("start", "2", 3).step == "cancel"
    wrong = script.after_input("start", "7", 1)
    assert (wrong.step, wrong.attempt, wrong.retry) == ("start", 2, True)
    silent = script.after_input("start", None, 2)
    assert (silent.step, silent.attempt, silent.retry) == ("start", 3, True)
    assert script.after_input("start", "9", 3).step == "no_input"
    rating = SCRIPTS["rating"]
    for n in range(1, 6):
        step = rating.after_input("start", str(n), 1).step
        assert Record("rating", rating=n) in rating.step(step)
    assert rating.after_input("start", "6", 3).step == "no_input"


def test_broken_scripts_are_refused_with_the_step_named():
    say = Say("x", {"en": "a", "ro": "b", "ru": "c"})
    with pytest.raises(ValueError, match="leads to missing step 'nowhere'"):
        check_script(
            Script("s", "other", {"start": (Gather(say, {"1": "nowhere"}, say, "start"),)})
        )
    with pytest.raises(ValueError, match="must end with Gather or Hangup"):
        check_script(Script("s", "other", {"start": (say,)}))
    with pytest.raises(ValueError, match="no text in \\['ru'\\]"):
        check_script(Script("s", "other", {"start": (Say("y", {"en": "a", "ro": "b"}), Hangup())}))


def test_language_choice_and_prompt_list():
    assert pick_language(None, "ro-RO", "en") == "ro"
    assert pick_language("de", "", "ru") == "ru"
    assert pick_language("xx") == "en"
    names = [name for name, _, _ in prompt_list()]
    assert len(names) == len(set(names))
    assert {"callcard/reminder-intro", "callcard/reminder-ask", "callcard/sorry"} <= set(names)
    assert "callcard/announcement" in names and "callcard/rating-ask" in names


KEYS = st.one_of(st.none(), st.sampled_from(list("0123456789*#")), st.text(max_size=4))


@settings(max_examples=100, deadline=None)
@given(
    script_name=st.sampled_from(sorted(SCRIPTS)),
    language=st.sampled_from(LANGUAGES),
    presses=st.lists(KEYS, max_size=8),
)
def test_any_key_presses_end_in_one_outcome_and_a_hangup(script_name, language, presses):
    """Whatever the caller types (or not), the call ends politely with exactly one outcome."""
    script = SCRIPTS[script_name]
    step, attempt, retry = script.start, 1, False
    outcomes: list[Record] = []
    presses = list(presses)
    for _ in range(50):
        xml = render_step(
            script,
            step,
            language=language,
            values=VALUES,
            gather_url=url,
            attempt=attempt,
            retry=retry,
        )
        root = ET.fromstring(xml)
        if not retry:
            outcomes += [a for a in script.step(step) if isinstance(a, Record)]
        if root[-1].tag == "Hangup":
            break
        assert root[-1].tag == "Gather"
        key = presses.pop(0) if presses else None
        digit = key if key and len(key) == 1 else ("?" if key else None)
        nxt = script.after_input(step, digit, attempt)
        step, attempt, retry = nxt.step, nxt.attempt, nxt.retry
    else:
        pytest.fail("the call never ended")
    assert len(outcomes) == 1


def test_cli_lists_the_prompts_and_the_runtime_is_opt_in():
    from typer.testing import CliRunner

    from callcard.cli import app
    from callcard.settings import Settings
    from voicebots.runtime import embedded_services

    result = CliRunner().invoke(app, ["voicebots", "prompts"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "file,script,text_en"
    assert (
        "callcard/reminder-ask,reminder,Press 1 to confirm. Press 2 if you need to cancel." in lines
    )
    assert embedded_services(Settings()) == []
    (server,) = embedded_services(Settings(voice_agi_embedded=True, voice_agi_port=4999))
    assert (server.name, server.port) == ("voicebots-fastagi", 4999)


def test_prompt_names_cannot_carry_agi_commands():
    say = SCRIPTS["announcement"].step("start")[1]
    assert say.prompt_name({"prompt": "closed-monday"}) == "callcard/closed-monday"
    evil = say.prompt_name({"prompt": "x\nEXEC System rm -rf /"})
    assert evil == "callcard/xEXECSystemrm-rf"
    assert say.prompt_name({"prompt": "../../etc/passwd"}) == "callcard/etcpasswd"
    assert say.prompt_name({"prompt": " "}) == "callcard/silence"
