"""Every message on the event bus, declared once as a typed class.

Publishers build an event and hand it to the bus (``bus.publish_sync(event)``), which sends
``event.to_message()``: the same JSON dict the browsers have always received. Readers turn a
received dict back into its class with ``parse_event(message)`` (or ``SomeEvent.parse``).

A message is a dict with a ``type`` and an ``audience`` (keys such as ``user:5``, ``team:2``,
``role:admin``, ``wall``, ``all``). ``sticky`` makes the websocket hub remember it per key
until a message with the same ``sticky`` and ``final: true`` passes.

The classes, by ``type``:

======================  ==================  =========================================
type                    class               audience / sticky
======================  ==================  =========================================
``call.ringing``        CallRinging         the ringing operator; sticky ``call:<id>``
``call.dismissed``      CallDismissed       one operator; sticky, final
``call.answered``       CallAnswered        one operator; sticky
``call.transferred``    CallTransferred     both operators
``call.ended``          CallEnded           one operator; sticky, final
``wall.call``           WallCall            ``wall``
``call.originate``      CallOriginate       the operator who clicked to call
``operator.state``      OperatorState       ``wall`` and the operator
``wall.counters``       WallCountersPushed  ``wall`` (only when pushed with its events)
``outbox.status``       OutboxStatus        ``role:admin``
``task.due``            TaskDue             the assignee
``sms.reply``           SmsReply            chosen by the publisher
``survey.low_rating``   SurveyLowRating     ``wall`` and the manager
``survey.rated``        SurveyRated         ``wall`` and the operator
``users.extensions``    ExtensionsChanged   ``cti`` (no browser): reload the directory
======================  ==================  =========================================

Fields hold wire values (times as ISO strings) so building an event costs a few attribute
writes and ``to_message()`` one dict: the popup path's budget is milliseconds.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any, ClassVar

Message = dict[str, Any]
Audience = tuple[str, ...]

#: keys only the hub reads; they never reach a browser
ROUTING_KEYS = ("audience", "sticky", "final")

bus_message = dataclass(slots=True, frozen=True, kw_only=True)  # every bus message class


def user_audience(user_id: int) -> Audience:
    return (f"user:{user_id}",)


def wall_and_user(user_id: int | None) -> Audience:
    return ("wall", f"user:{user_id}") if user_id else ("wall",)


class BusEvent:
    """Base of every bus message class.

    The wire dict is ``type``, ``audience``, then for a popup message ``sticky``
    (``call:<call_id>``) and ``final``, then the fields in declaration order.
    """

    __slots__ = ()
    type: ClassVar[str]
    sticky: ClassVar[bool] = False  # the hub keeps it for a reconnecting browser
    final: ClassVar[bool] = False  # ... until this message of the same call passes
    wire: ClassVar[tuple[str, ...]] = ()  # the fields on the wire (set below, once)
    addressed: ClassVar[bool] = False  # audience is a field (else fixed or derived)
    audience: Audience

    def to_message(self) -> Message:
        message: Message = {"type": self.type, "audience": list(self.audience)}
        if self.sticky:
            message["sticky"] = f"call:{self.call_id}"  # type: ignore[attr-defined]
            if self.final:
                message["final"] = True
        for name in self.wire:
            message[name] = getattr(self, name)
        return message

    @classmethod
    def parse(cls, message: Message) -> Any:
        """The event of a received dict (missing keys read as None)."""
        values = {name: message.get(name) for name in cls.wire}
        if cls.addressed:
            values["audience"] = tuple(message.get("audience") or ())
        return cls(**values)


# --- calls: the operator's popup ------------------------------------------------------------


@bus_message
class CallRinging(BusEvent):
    type: ClassVar[str] = "call.ringing"
    sticky: ClassVar[bool] = True
    audience: Audience
    call_id: str
    extension: str
    direction: str
    number: str | None
    e164: str | None
    withheld: bool
    name: str | None
    did: str | None
    queue: str | None
    started_at: str
    card: dict[str, Any] | None

    def to_message(self) -> Message:
        message = BusEvent.to_message(self)
        message["known"] = self.card is not None
        return message


@bus_message
class CallDismissed(BusEvent):
    """The popup closes: ``reason`` is ring_stopped, answered_elsewhere or transferred_away."""

    type: ClassVar[str] = "call.dismissed"
    sticky: ClassVar[bool] = True
    final: ClassVar[bool] = True
    audience: Audience
    call_id: str
    reason: str


@bus_message
class CallAnswered(BusEvent):
    type: ClassVar[str] = "call.answered"
    sticky: ClassVar[bool] = True
    audience: Audience
    call_id: str
    extension: str
    by_me: bool
    answered_at: str


@bus_message
class CallTransferred(BusEvent):
    type: ClassVar[str] = "call.transferred"
    audience: Audience
    call_id: str
    from_extension: str | None
    to_extension: str | None


@bus_message
class CallEnded(BusEvent):
    type: ClassVar[str] = "call.ended"
    sticky: ClassVar[bool] = True
    final: ClassVar[bool] = True
    audience: Audience
    call_id: str
    disposition: str
    talk_s: float
    client_id: int | None


@bus_message
class CallOriginate(BusEvent):
    """Click-to-call progress: ``status`` connected or failed, ``message`` for the operator."""

    type: ClassVar[str] = "call.originate"
    audience: Audience
    action_id: str
    call_id: str | None
    extension: str
    number: str
    e164: str | None
    status: str
    reason: str
    message: str


# --- the wall -------------------------------------------------------------------------------


@bus_message
class WallCall(BusEvent):
    """One call's phase (ringing, queued, answered, ended) for the wall's running counters."""

    type: ClassVar[str] = "wall.call"
    audience: ClassVar[Audience] = ("wall",)
    call_id: str
    phase: str | None
    direction: str | None = None
    queue: str | None = None
    extensions: list[str] = field(default_factory=list)
    answered_by: str | None = None
    disposition: str | None = None
    wait_s: float = 0.0
    ring_s: float = 0.0
    talk_s: float = 0.0
    at: str | None = None
    started_at: str | None = None

    @classmethod
    def parse(cls, m: Message) -> WallCall:
        return cls(
            call_id=str(m.get("call_id") or ""),
            phase=m.get("phase"),
            direction=m.get("direction"),
            queue=m.get("queue"),
            extensions=list(m.get("extensions") or []),
            answered_by=m.get("answered_by"),
            disposition=m.get("disposition"),
            wait_s=float(m.get("wait_s") or 0),
            ring_s=float(m.get("ring_s") or 0),
            talk_s=float(m.get("talk_s") or 0),
            at=m.get("at"),
            started_at=m.get("started_at"),
        )


@bus_message
class OperatorState(BusEvent):
    """An operator extension's state (available, ringing, in_call, paused, offline)."""

    type: ClassVar[str] = "operator.state"
    extension: str
    user_id: int | None = None
    username: str | None = None
    state: str | None
    since: str | None = None

    @property
    def audience(self) -> Audience:
        return wall_and_user(self.user_id)

    def fields(self) -> Message:
        """The state without type and audience (the presence snapshot stored in Redis)."""
        return {name: getattr(self, name) for name in self.wire}

    @classmethod
    def parse(cls, m: Message) -> OperatorState:
        return cls(
            extension=str(m.get("extension") or ""),
            user_id=m.get("user_id"),
            username=m.get("username"),
            state=m.get("state"),
            since=m.get("since"),
        )


@bus_message
class WallCountersPushed(BusEvent):
    """The wall's snapshot. Pushed to wall sockets it carries ``events`` (what changed) and,
    last, its audience; the page's first snapshot (``events`` None) has neither key."""

    type: ClassVar[str] = "wall.counters"
    audience: ClassVar[Audience] = ("wall",)
    version: int
    at: str | None
    day: str
    now: dict[str, Any]
    today: dict[str, Any]
    operators: list[dict[str, Any]]
    csat: dict[str, Any]
    overdue: list[dict[str, Any]]
    sales: dict[str, Any] | None = None
    events: list[list[Any]] | None = None

    def to_message(self) -> Message:
        message: Message = {"type": self.type}
        for name in self.wire[:-1]:
            message[name] = getattr(self, name)
        if self.events is not None:
            message["events"] = self.events
            message["audience"] = list(self.audience)
        return message


# --- the notifier: outbox, tasks, inbound SMS, surveys ------------------------------------


@bus_message
class OutboxStatus(BusEvent):
    type: ClassVar[str] = "outbox.status"
    audience: ClassVar[Audience] = ("role:admin",)
    message_id: int
    status: str


@bus_message
class TaskDue(BusEvent):
    """A task reminder for its assignee (``audience=user_audience(assignee_id)``)."""

    type: ClassVar[str] = "task.due"
    audience: Audience
    task_id: int
    title: str
    due_at: str
    client_id: int | None
    kind: str


@bus_message
class SmsReply(BusEvent):
    """An SMS from a client (or an unknown number); the publisher chooses who is told."""

    type: ClassVar[str] = "sms.reply"
    audience: Audience
    client_id: int | None
    number: str
    body: str
    at: str


@bus_message
class SurveyLowRating(BusEvent):
    type: ClassVar[str] = "survey.low_rating"
    rating: int
    client_id: int
    task_id: int
    manager_user_id: int | None
    operator_user_id: int | None
    at: str

    @property
    def audience(self) -> Audience:
        return wall_and_user(self.manager_user_id)


@bus_message
class SurveyRated(BusEvent):
    type: ClassVar[str] = "survey.rated"
    rating: Any  # 1..5; a reader checks it (a message from elsewhere may carry anything)
    client_id: int | None = None
    call_id: str | None = None
    survey_id: int | None = None
    operator_user_id: int | None = None
    team_id: int | None = None
    at: str | None

    @property
    def audience(self) -> Audience:
        return wall_and_user(self.operator_user_id)


EVENT_CLASSES: dict[str, type[BusEvent]] = {
    cls.type: cls
    for cls in (
        CallRinging,
        CallDismissed,
        CallAnswered,
        CallTransferred,
        CallEnded,
        CallOriginate,
        WallCall,
        OperatorState,
        WallCountersPushed,
        OutboxStatus,
        TaskDue,
        SmsReply,
        SurveyLowRating,
        SurveyRated,
    )
}
for _cls in EVENT_CLASSES.values():
    _names = [f.name for f in fields(_cls)]  # type: ignore[arg-type]
    _cls.wire = tuple(name for name in _names if name != "audience")
    _cls.addressed = "audience" in _names


def parse_event(message: Message) -> BusEvent | None:
    """The typed event of a received message; None for a type nobody declared here."""
    cls = EVENT_CLASSES.get(message.get("type"))  # type: ignore[arg-type]
    return cls.parse(message) if cls is not None else None


def as_message(event: BusEvent | Message) -> Message:
    """What goes on the wire: a typed event's dict (a plain dict passes as it is)."""
    return event.to_message() if isinstance(event, BusEvent) else event


@bus_message
class ExtensionsChanged(BusEvent):
    """A user's extension, role, team or active flag changed: the CTI reloads its extension
    directory at once, so the next call to that extension pops up for the right person."""

    type: ClassVar[str] = "users.extensions"
    audience: Audience = ("cti",)
