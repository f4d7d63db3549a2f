"""Voice scripts, written once and played by Twilio (TwiML) and by Asterisk (FastAGI).

A script is a set of named steps. A step is a short list of actions that ends the caller's turn:

- ``Say``: a sentence, with its text per language (for Twilio's text-to-speech) and the name of
  the sound prompt Asterisk plays instead (``callcard/<prompt>`` in the channel's language);
- ``Record``: an outcome worth keeping (confirmed, cancel requested, a rating, no input...);
  recorded on the outbox message and in the client's history when the step runs;
- ``Gather``: ask for one key; each valid digit leads to a step, anything else (or silence)
  repeats the question after ``retry`` up to ``attempts`` times, then goes to ``give_up``;
- ``Hangup``.

Every step ends with exactly one ``Gather`` or ``Hangup``. ``SCRIPTS`` holds the scripts the
product offers; ``check_script`` validates one (run at import time for the built-in ones).
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

LANGUAGES = ("en", "ro", "ru")
#: Twilio ``<Say>`` language code and voice per language (Amazon Polly voices via Twilio)
TWILIO_VOICES: dict[str, tuple[str, str]] = {
    "en": ("en-US", "Polly.Joanna"),
    "ro": ("ro-RO", "Polly.Carmen"),
    "ru": ("ru-RU", "Polly.Tatyana"),
}
#: folder of our prompts in Asterisk's sounds directory (per language: sounds/<lang>/callcard/)
PROMPT_DIR = "callcard"
#: characters that may not appear in a prompt name (it is sent on an AGI command line)
UNSAFE_PROMPT = re.compile(r"[^A-Za-z0-9_\-]")
#: outcomes a script may record; ``rating`` carries 1..5
OUTCOMES = ("confirmed", "cancel_requested", "rating", "no_input", "played")


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class Say:
    """One sentence: ``text`` per language (may hold ``{placeholders}``), ``prompt`` for Asterisk."""

    prompt: str
    text: Mapping[str, str]

    def text_for(self, language: str, values: Mapping[str, object] | None = None) -> str:
        template = self.text.get(language) or self.text["en"]
        return string.Formatter().vformat(template, (), _Blank(values or {})).strip()

    def prompt_name(self, values: Mapping[str, object] | None = None) -> str:
        """The Asterisk sound name (no extension), e.g. ``callcard/reminder-ask``.

        It ends up in an AGI command line: anything but letters, digits, ``-`` and ``_`` is
        dropped, so a value can never smuggle in a second command or leave the folder.
        """
        name = string.Formatter().vformat(self.prompt, (), _Blank(values or {}))
        return f"{PROMPT_DIR}/{UNSAFE_PROMPT.sub('', name) or 'silence'}"


@dataclass(frozen=True)
class Record:
    outcome: str
    rating: int | None = None


@dataclass(frozen=True)
class Gather:
    prompt: Say
    branches: Mapping[str, str]
    retry: Say
    give_up: str
    timeout_s: int = 6
    attempts: int = 3


@dataclass(frozen=True)
class Hangup:
    pass


Action = Union[Say, Record, Gather, Hangup]  # noqa: UP007 - used at runtime in isinstance


@dataclass(frozen=True)
class Next:
    """What a key press (or silence) leads to: a step, and whether to say the retry line first."""

    step: str
    attempt: int = 1
    retry: bool = False


@dataclass(frozen=True)
class Script:
    name: str
    #: history type code (``crm_core.history.choices``): reminder | survey | other
    history_type: str
    steps: Mapping[str, tuple[Action, ...]]
    start: str = "start"
    defaults: Mapping[str, str] = field(default_factory=dict)

    def step(self, name: str) -> tuple[Action, ...]:
        return self.steps[name]

    def gather(self, step: str) -> Gather | None:
        last = self.steps[step][-1] if step in self.steps else None
        return last if isinstance(last, Gather) else None

    def after_input(self, step: str, digit: str | None, attempt: int) -> Next:
        """Where a caller goes after pressing ``digit`` (``None``/"" = silence) at ``step``."""
        gather = self.gather(step)
        if gather is None:
            raise KeyError(step)
        if digit and digit in gather.branches:
            return Next(gather.branches[digit])
        if attempt < gather.attempts:
            return Next(step, attempt + 1, retry=True)
        return Next(gather.give_up)

    def prompts(self) -> list[Say]:
        """Every sentence of the script (for the installer's list of sound files)."""
        found: list[Say] = []
        for actions in self.steps.values():
            for action in actions:
                says = [action] if isinstance(action, Say) else []
                if isinstance(action, Gather):
                    says = [action.prompt, action.retry]
                for say in says:
                    if say not in found:
                        found.append(say)
        return found


def check_script(script: Script) -> Script:
    """Raise ``ValueError`` naming the step when the script cannot be played."""
    if script.start not in script.steps:
        raise ValueError(f"{script.name}: start step {script.start!r} is missing")
    for name, actions in script.steps.items():
        where = f"{script.name}.{name}"
        if not actions or not isinstance(actions[-1], Gather | Hangup):
            raise ValueError(f"{where}: a step must end with Gather or Hangup")
        for action in actions[:-1]:
            if isinstance(action, Gather | Hangup):
                raise ValueError(f"{where}: Gather/Hangup only at the end of a step")
            if isinstance(action, Record) and action.outcome not in OUTCOMES:
                raise ValueError(f"{where}: unknown outcome {action.outcome!r}")
        last = actions[-1]
        if isinstance(last, Gather):
            targets = [*last.branches.values(), last.give_up]
            for target in targets:
                if target not in script.steps:
                    raise ValueError(f"{where}: leads to missing step {target!r}")
            for digit in last.branches:
                if len(digit) != 1 or digit not in "0123456789*#":
                    raise ValueError(f"{where}: branch {digit!r} is not one key")
            if last.attempts < 1 or last.timeout_s < 1:
                raise ValueError(f"{where}: attempts and timeout must be at least 1")
    for say in script.prompts():
        missing = [lang for lang in LANGUAGES if not say.text.get(lang)]
        if missing:
            raise ValueError(f"{script.name}: prompt {say.prompt!r} has no text in {missing}")
    return script


# --- the built-in scripts -------------------------------------------------------------------

SORRY = Say(
    "sorry",
    {
        "en": "Sorry, I did not get that.",
        "ro": "Ne pare rău, nu am înțeles.",
        "ru": "Извините, я вас не понял.",
    },
)
NO_ANSWER = Say(
    "no-answer-goodbye",
    {
        "en": "We did not receive an answer. Thank you, goodbye.",
        "ro": "Nu am primit niciun răspuns. Vă mulțumim, la revedere.",
        "ru": "Мы не получили ответа. Спасибо, до свидания.",
    },
)
GOODBYE = Say(
    "goodbye",
    {"en": "Thank you, goodbye.", "ro": "Vă mulțumim, la revedere.", "ru": "Спасибо, до свидания."},
)

REMINDER = Script(
    name="reminder",
    history_type="reminder",
    steps={
        "start": (
            Say(
                "reminder-intro",
                {
                    "en": "Hello {name}. This is a reminder from {company}. {body}",
                    "ro": "Bună ziua {name}. Acesta este un memento de la {company}. {body}",
                    "ru": "Здравствуйте, {name}. Это напоминание от {company}. {body}",
                },
            ),
            Gather(
                prompt=Say(
                    "reminder-ask",
                    {
                        "en": "Press 1 to confirm. Press 2 if you need to cancel.",
                        "ro": "Apăsați 1 pentru a confirma. Apăsați 2 dacă doriți să anulați.",
                        "ru": "Нажмите 1, чтобы подтвердить. Нажмите 2, если хотите отменить.",
                    },
                ),
                branches={"1": "confirmed", "2": "cancel"},
                retry=SORRY,
                give_up="no_input",
            ),
        ),
        "confirmed": (
            Record("confirmed"),
            Say(
                "reminder-confirmed",
                {
                    "en": "Thank you, your appointment is confirmed. Goodbye.",
                    "ro": "Vă mulțumim, programarea este confirmată. La revedere.",
                    "ru": "Спасибо, ваша запись подтверждена. До свидания.",
                },
            ),
            Hangup(),
        ),
        "cancel": (
            Record("cancel_requested"),
            Say(
                "reminder-cancel",
                {
                    "en": "We have noted your request to cancel. We will call you back. Goodbye.",
                    "ro": "Am notat cererea de anulare. Vă vom suna înapoi. La revedere.",
                    "ru": "Мы приняли вашу просьбу об отмене и перезвоним вам. До свидания.",
                },
            ),
            Hangup(),
        ),
        "no_input": (Record("no_input"), NO_ANSWER, Hangup()),
    },
)

ANNOUNCEMENT = Script(
    name="announcement",
    history_type="other",
    defaults={"prompt": "announcement"},
    steps={
        "start": (
            Say(
                "announcement-intro",
                {
                    "en": "Hello {name}. This is a message from {company}.",
                    "ro": "Bună ziua {name}. Acesta este un mesaj de la {company}.",
                    "ru": "Здравствуйте, {name}. Это сообщение от {company}.",
                },
            ),
            # the message itself: Twilio reads the outbox body; Asterisk plays the sound named
            # by the message's ``prompt`` variable (default callcard/announcement)
            Say("{prompt}", {"en": "{body}", "ro": "{body}", "ru": "{body}"}),
            Record("played"),
            GOODBYE,
            Hangup(),
        ),
    },
)

_RATED = Say(
    "rating-thanks",
    {
        "en": "Thank you for your rating. Goodbye.",
        "ro": "Vă mulțumim pentru evaluare. La revedere.",
        "ru": "Спасибо за вашу оценку. До свидания.",
    },
)

RATING = Script(
    name="rating",
    history_type="survey",
    steps={
        "start": (
            Say(
                "rating-intro",
                {
                    "en": "Hello {name}. Thank you for choosing {company}.",
                    "ro": "Bună ziua {name}. Vă mulțumim că ați ales {company}.",
                    "ru": "Здравствуйте, {name}. Спасибо, что выбрали {company}.",
                },
            ),
            Gather(
                prompt=Say(
                    "rating-ask",
                    {
                        "en": "Please rate our service from 1 to 5 on your keypad, 5 being excellent.",
                        "ro": "Vă rugăm să evaluați serviciul nostru de la 1 la 5 pe tastatură, 5 fiind excelent.",
                        "ru": "Пожалуйста, оцените наше обслуживание от 1 до 5 на клавиатуре, 5 — отлично.",
                    },
                ),
                branches={str(n): f"rated_{n}" for n in range(1, 6)},
                retry=SORRY,
                give_up="no_input",
            ),
        ),
        **{f"rated_{n}": (Record("rating", rating=n), _RATED, Hangup()) for n in range(1, 6)},
        "no_input": (Record("no_input"), NO_ANSWER, Hangup()),
    },
)

SCRIPTS: dict[str, Script] = {s.name: check_script(s) for s in (REMINDER, ANNOUNCEMENT, RATING)}


def get_script(name: str) -> Script | None:
    return SCRIPTS.get(name)


def pick_language(*candidates: str | None) -> str:
    """The first supported language among the candidates (``ro-RO`` counts as ``ro``), else en."""
    for candidate in candidates:
        code = (candidate or "").strip().lower()[:2]
        if code in LANGUAGES:
            return code
    return "en"
