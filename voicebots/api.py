"""Twilio voice webhooks: the first prompt of a call and each key press.

Twilio fetches ``/api/voice/{script}/{message_id}`` when the client answers, then posts the
key to ``/api/voice/{script}/{message_id}/gather?step=..&attempt=..``. Every request must carry
a valid ``X-Twilio-Signature`` for ``settings.public_url`` + path + query (the address Twilio
was given, whatever proxy sits in between); anything else gets 403 and is not processed.
"""

from __future__ import annotations

import logging

from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session
from twilio.request_validator import RequestValidator

from crm_core.database import request_session
from notifier.voice_calls.service import VOICE_WEBHOOK_PATH, twiml_url
from voicebots import service
from voicebots.config import get_settings
from voicebots.scripts import Record
from voicebots.twiml import render_step

log = logging.getLogger("callcard.voicebots")
router = APIRouter(prefix=VOICE_WEBHOOK_PATH, tags=["voice"])
TWIML = "application/xml"


def public_url(request: Request) -> str:
    """The URL Twilio signed: the configured public base, this path and query."""
    base = get_settings().public_url.rstrip("/")
    query = request.url.query
    return f"{base}{request.url.path}" + (f"?{query}" if query else "")


async def twilio_params(request: Request) -> dict[str, str]:
    """The request's form fields, once its Twilio signature is checked (else 403)."""
    token = get_settings().twilio_auth_token.get_secret_value()
    params: dict[str, str] = {}
    if request.method == "POST":
        form = await request.form()
        params = {key: str(value) for key, value in form.items()}
    signature = request.headers.get("X-Twilio-Signature", "")
    if (
        not token
        or not signature
        or not RequestValidator(token).validate(public_url(request), params, signature)
    ):
        log.warning("voice webhook %s refused: bad or missing Twilio signature", request.url.path)
        raise HTTPException(403, "Invalid Twilio signature")
    return params


def _invalid_query(name: str, message: str) -> RequestValidationError:
    return RequestValidationError([{"loc": ("query", name), "msg": message, "type": "value_error"}])


def _gather_url(script: str, message_id: int):
    first = twiml_url(script, message_id)

    def url(step: str, attempt: int) -> str:
        return f"{first}/gather?step={step}&attempt={attempt}"

    return url


def _play(
    db: Session,
    call: service.VoiceCall,
    step: str,
    params: dict[str, str],
    *,
    digit: str | None = None,
    attempt: int = 1,
    retry: bool = False,
) -> Response:
    if not retry:
        for action in call.script.step(step):
            if isinstance(action, Record):
                service.record_outcome(
                    db,
                    call.script.name,
                    call.message_id,
                    action,
                    via="twilio",
                    digit=digit,
                    call_sid=params.get("CallSid"),
                )
    twiml = render_step(
        call.script,
        step,
        language=call.language,
        values=call.values,
        gather_url=_gather_url(call.script.name, call.message_id),
        attempt=attempt,
        retry=retry,
    )
    return Response(twiml, media_type=TWIML)


RESPONSES = {
    200: {"content": {TWIML: {}}, "description": "TwiML for Twilio"},
    403: {"description": "Bad or missing Twilio signature: nothing was processed"},
    404: {"description": "No such script, or no voice message for it"},
}
FIRST = "Twilio voice webhook: the first prompt of an automated call (TwiML)"


@router.get(
    "/{script}/{message_id}",
    summary=FIRST + " (GET)",
    operation_id="voice_first_prompt_get",
    response_class=Response,
    responses=RESPONSES,
)
@router.post(
    "/{script}/{message_id}",
    summary=FIRST,
    operation_id="voice_first_prompt",
    response_class=Response,
    responses=RESPONSES,
)
def first_prompt(
    script: str,
    message_id: int,
    params: dict[str, str] = Depends(twilio_params),
    db: Session = request_session,
) -> Response:
    call = service.open_call(db, script, message_id)
    return _play(db, call, call.script.start, params)


@router.post(
    "/{script}/{message_id}/gather",
    summary="Twilio voice webhook: the key the client pressed (TwiML for what comes next)",
    operation_id="voice_gather",
    response_class=Response,
    responses=RESPONSES,
)
def gather(
    script: str,
    message_id: int,
    step: str = Query(..., max_length=40, description="the question that was asked"),
    attempt: int = Query(1, ge=1, le=20, description="how many times it was asked"),
    params: dict[str, str] = Depends(twilio_params),
    db: Session = request_session,
) -> Response:
    call = service.open_call(db, script, message_id)
    question = call.script.gather(step)
    if question is None:
        raise _invalid_query("step", f"{step!r} is not a question of {call.script.name!r}")
    if attempt > question.attempts:
        raise _invalid_query("attempt", f"must be at most {question.attempts}")
    digits = (params.get("Digits") or "").strip()
    digit = digits if len(digits) == 1 else ("?" if digits else None)
    nxt = call.script.after_input(step, digit, attempt)
    log.info(
        "voice %s message %s: step %s attempt %s digit %r -> %s",
        call.script.name,
        message_id,
        step,
        attempt,
        digits,
        nxt.step,
    )
    return _play(
        db, call, nxt.step, params, digit=digits or None, attempt=nxt.attempt, retry=nxt.retry
    )
