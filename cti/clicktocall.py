"""Click-to-call: ring the operator's own phone first, then dial the client (AMI ``Originate``).

Two halves:

- :func:`prepare` (web side, any process): checks who asks and what to dial (422 with the field
  name for a missing extension or a bad number, 404 for a client the operator may not see);
- :class:`Originator` (CTI side, the process holding the AMI connection): refuses when the PBX
  is unreachable (503) or the operator's extension is busy (409), else sends ``Originate`` with
  ``Async: true`` (panoramisk needs it explicitly, see field notes) and returns at once; the call
  that follows is tracked and logged like any other.

In the embedded default the web process holds the AMI connection and calls the originator
directly. In production only the ``callcard cti`` process does: the web process forwards the
request over Redis (a list per direction, request/response with a timeout) with
:func:`originate_via_redis`, and the CTI process serves it with :func:`serve_redis_requests`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.auth.principal import Principal
from crm_core.auth.rights import get_visible_client
from crm_core.clients.models import Phone
from crm_core.errors import Conflict, Invalid, NotFound, ServiceError, Unavailable, said
from crm_core.events import CallOriginate, user_audience
from crm_core.phones import InvalidPhone, to_e164
from cti.config import CtiSettings, get_settings

log = logging.getLogger("callcard.cti.clicktocall")

REQUESTS_KEY = "callcard:cti:originate"
BUSY_STATES = ("ringing", "in_call")


@dataclass
class OriginateRequest:
    extension: str
    number: str  # as the operator/client base has it
    e164: str
    caller_name: str = ""
    user_id: int | None = None


def prepare(
    db: Session,
    actor: Principal,
    *,
    number: str | None = None,
    client_id: int | None = None,
    phone_id: int | None = None,
) -> OriginateRequest:
    """Check the request and work out what to dial."""
    if not actor.extension:
        raise Invalid(
            "extension", "no phone extension is bound to your user; ask an admin to set one"
        )
    if client_id is not None:
        client = get_visible_client(db, actor, client_id)
        if phone_id is None:
            raise Invalid("phone_id", "is required with client_id")
        phone = db.scalar(select(Phone).where(Phone.id == phone_id, Phone.client_id == client.id))
        if phone is None:
            raise NotFound(f"phone {phone_id} of client {client_id} not found")
        number = phone.number
        e164 = phone.e164
    else:
        try:
            e164 = to_e164(number or "")
        except InvalidPhone as exc:
            raise Invalid("number", str(exc)) from None
    return OriginateRequest(
        extension=actor.extension,
        number=number or e164,
        e164=e164,
        caller_name=actor.full_name or actor.username,
        user_id=actor.id,
    )


class AmiActions(Protocol):
    """What the originator needs from the AMI listener."""

    @property
    def connected(self) -> bool: ...

    async def send_action(self, action: dict[str, Any]) -> Any: ...


class Originator:
    """Sends Originate on the CTI process's AMI connection."""

    def __init__(
        self,
        ami: AmiActions,
        settings: CtiSettings | None = None,
        busy: Any | None = None,
        publish: Callable[[CallOriginate], None] | None = None,
    ) -> None:
        self.ami = ami
        self.settings = settings or get_settings()
        self.busy = busy  # callable(extension) -> bool
        self.publish = publish  # progress to the operator's browser
        self._following: set[asyncio.Task] = set()

    async def originate(self, request: OriginateRequest) -> dict[str, Any]:
        if not self.ami.connected:
            raise Unavailable(
                said(
                    "The phone system (PBX) is unreachable: the CTI has no AMI connection right now."
                )
            )
        if self.busy is not None and self.busy(request.extension):
            raise Conflict(
                said("Extension %(extension)s is busy (ringing or in a call); try again after it."),
                params={"extension": request.extension},
            )
        s = self.settings
        action_id = f"c2c-{uuid.uuid4().hex[:16]}"
        action = {
            "Action": "Originate",
            "ActionID": action_id,
            "Channel": s.originate_channel.format(ext=request.extension),
            "Context": s.originate_context,
            "Exten": s.originate_dial.format(e164=request.e164, number=request.number),
            "Priority": "1",
            "CallerID": f'"{request.number}" <{request.e164}>',
            "Timeout": str(int(s.originate_timeout * 1000)),
            "Async": "true",
            "Variable": f"CALLCARD_USER={request.user_id or ''}",
        }
        from panoramisk.actions import Action

        action = Action(action)
        try:
            response = await asyncio.wait_for(self.ami.send_action(action), 5)
        except TimeoutError:
            raise Unavailable(
                said("The PBX did not answer the Originate request within 5 s.")
            ) from None
        except (ConnectionError, OSError) as exc:
            raise Unavailable(
                said("The PBX connection failed while originating: %(error)s"),
                params={"error": str(exc)},
            ) from None
        answer = _first(response)
        ok = getattr(answer, "success", None)
        if ok is None:
            ok = str(_get(answer, "Response") or "success").lower() == "success"
        if not ok:
            raise Unavailable(
                said("The PBX refused the call: %(reason)s"),
                params={"reason": _get(answer, "Message") or "no reason given"},
            )
        log.info("originate %s -> %s (%s)", request.extension, request.e164, action_id)
        if self.publish is not None and request.user_id is not None:
            task = asyncio.ensure_future(self._follow(action, request, action_id))
            self._following.add(task)
            task.add_done_callback(self._following.discard)
        return {
            "status": "ringing_operator",
            "extension": request.extension,
            "number": request.number,
            "e164": request.e164,
            "action_id": action_id,
            "message": f"Your phone ({request.extension}) rings now; pick it up to call "
            f"{request.number}.",
        }

    async def _follow(self, action: Any, request: OriginateRequest, action_id: str) -> None:
        """Tell the operator how it went: ``call.originate`` {status connected|failed, reason}."""
        from cti.listener import ORIGINATE_REASONS

        try:
            result = await asyncio.wait_for(action.future, self.settings.originate_timeout + 10)
            final = result[-1] if isinstance(result, list) else result
            ok = str(_get(final, "Response") or "").lower() == "success"
            code = str(_get(final, "Reason") or "")
            reason = "answered" if ok else ORIGINATE_REASONS.get(code, "failed")
            call_id = _get(final, "Uniqueid") if ok else None  # the call's Linkedid
        except TimeoutError:
            ok, reason, call_id = False, "no outcome from the PBX", None
        except Exception as exc:  # connection lost meanwhile
            ok, reason, call_id = False, f"PBX connection lost ({exc.__class__.__name__})", None
        words = {
            "busy": f"your phone ({request.extension}) is busy",
            "no answer": f"your phone ({request.extension}) was not picked up",
            "hung up": "the call was hung up before it connected",
            "congestion": "the line is congested; try again",
        }
        self.publish(
            CallOriginate(
                audience=user_audience(request.user_id),
                action_id=action_id,
                call_id=call_id,
                extension=request.extension,
                number=request.number,
                e164=request.e164,
                status="connected" if ok else "failed",
                reason=reason,
                message=(
                    f"Calling {request.number}."
                    if ok
                    else f"Call to {request.number} failed: {words.get(reason, reason)}."
                ),
            )
        )


def _first(response: Any) -> Any:
    if isinstance(response, list):
        return response[0] if response else {}
    return response


def _get(message: Any, key: str) -> Any:
    if message is None:
        return None
    getter = getattr(message, "get", None)
    if getter is None:
        return getattr(message, key, None)
    value = getter(key)
    return getter(key.lower()) if value is None else value


#: the originator of the CTI service running in this process (embedded default), if any
current_originator: Originator | None = None


async def originate(
    request: OriginateRequest, settings: CtiSettings | None = None
) -> dict[str, Any]:
    """Run the request here if this process holds the AMI connection, else forward it."""
    settings = settings or get_settings()
    if current_originator is not None:
        return await current_originator.originate(request)
    if settings.bus_url:
        return await originate_via_redis(request, settings)
    raise Unavailable(
        "Click-to-call is not available: no PBX is configured (set CALLCARD_AMI_HOST) "
        "and no CTI process is running."
    )


async def originate_via_redis(
    request: OriginateRequest, settings: CtiSettings, timeout: float | None = None
) -> dict[str, Any]:
    import redis.asyncio as aioredis

    timeout = timeout or settings.originate_forward_timeout
    request_id = uuid.uuid4().hex
    reply_key = f"{REQUESTS_KEY}:reply:{request_id}"
    payload = {
        "id": request_id,
        "reply_to": reply_key,
        "expires": time.time() + timeout,
        "request": asdict(request),
    }
    client = aioredis.Redis.from_url(settings.bus_url)
    try:
        await client.rpush(REQUESTS_KEY, json.dumps(payload))
        answer = await client.blpop([reply_key], timeout=timeout)
    except Exception as exc:
        raise Unavailable(f"Could not reach the CTI process over Redis: {exc}") from None
    finally:
        await client.aclose()
    if answer is None:
        raise Unavailable(
            "The CTI process did not answer in time; is `callcard cti` running and connected?"
        )
    result = json.loads(answer[1])
    if result.get("ok"):
        return result["result"]
    raise _ERRORS.get(result.get("status", 503), Unavailable)(result.get("detail", "failed"))


_ERRORS: dict[int, type[ServiceError]] = {409: Conflict, 503: Unavailable, 404: NotFound}


async def serve_redis_requests(originator: Originator, url: str) -> None:
    """CTI process: answer click-to-call requests forwarded by the web processes."""
    import redis.asyncio as aioredis

    client = aioredis.Redis.from_url(url)
    try:
        while True:
            try:
                item = await client.blpop([REQUESTS_KEY], timeout=1)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log.warning("click-to-call queue unreachable (%s); retrying", exc)
                await asyncio.sleep(1)
                continue
            if item is None:
                continue
            try:
                payload = json.loads(item[1])
                if payload.get("expires", 0) < time.time():
                    log.warning("dropping expired click-to-call request %s", payload.get("id"))
                    continue
                request = OriginateRequest(**payload["request"])
            except Exception:
                log.warning("malformed click-to-call request skipped")
                continue
            try:
                answer = {"ok": True, "result": await originator.originate(request)}
            except ServiceError as exc:
                answer = {"ok": False, "status": exc.status_code, "detail": exc.message}
            except Exception as exc:
                log.exception("originate failed")
                answer = {"ok": False, "status": 503, "detail": f"originate failed: {exc}"}
            await client.rpush(payload["reply_to"], json.dumps(answer, default=str))
            await client.expire(payload["reply_to"], 30)
    finally:
        await client.aclose()
