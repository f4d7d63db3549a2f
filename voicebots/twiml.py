"""Render one step of a voice script as TwiML for Twilio.

``Say`` becomes ``<Say voice=... language=...>``; a ``Gather`` becomes
``<Gather input="dtmf" numDigits="1" timeout=... action=... actionOnEmptyResult="true">`` with
the question nested inside, so silence also comes back to the action URL (as an empty
``Digits``) and the script decides between the retry and the goodbye. ``Record`` actions are
not audible: the caller of ``render_step`` records them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from twilio.twiml.voice_response import VoiceResponse

from voicebots.scripts import TWILIO_VOICES, Gather, Hangup, Say, Script

#: gather_url(step, attempt) -> the absolute URL Twilio posts the key press to
GatherUrl = Callable[[str, int], str]


def _say(target, say: Say, language: str, values: Mapping[str, object]) -> None:
    text = say.text_for(language, values)
    if not text:
        return
    code, voice = TWILIO_VOICES[language]
    target.say(text, voice=voice, language=code)


def render_step(
    script: Script,
    step: str,
    *,
    language: str,
    values: Mapping[str, object],
    gather_url: GatherUrl,
    attempt: int = 1,
    retry: bool = False,
) -> str:
    response = VoiceResponse()
    actions = script.step(step)
    gather = actions[-1] if isinstance(actions[-1], Gather) else None
    if retry and gather is not None:
        _say(response, gather.retry, language, values)
    # on a retry only the question is asked again, not the introduction
    for action in actions if not retry else actions[-1:]:
        if isinstance(action, Say):
            _say(response, action, language, values)
        elif isinstance(action, Gather):
            node = response.gather(
                input="dtmf",
                num_digits=1,
                timeout=action.timeout_s,
                action=gather_url(step, attempt),
                method="POST",
                action_on_empty_result=True,
            )
            _say(node, action.prompt, language, values)
        elif isinstance(action, Hangup):
            response.hangup()
    return str(response)
