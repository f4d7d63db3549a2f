"""Languages of the UI: gettext catalogs (Babel) and locale-aware formatting.

The language of a request is kept in a context variable so that templates, JSON messages and
formatting helpers all follow the same choice (the user's ``language``, or ``?lang=`` on the
login page and on wall screens).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel import dates as babel_dates
from babel import numbers as babel_numbers
from babel.support import NullTranslations, Translations

LANGUAGES: dict[str, str] = {"en": "English", "ro": "Română", "ru": "Русский"}
DEFAULT = "en"
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
DOMAIN = "messages"

_current: ContextVar[str] = ContextVar("callcard_language", default=DEFAULT)


def normalize(language: str | None) -> str:
    """A supported language code for ``language`` ('ro-RO' -> 'ro'), else the default."""
    if not language:
        return DEFAULT
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else DEFAULT


def from_accept_language(header: str | None) -> str | None:
    """The first supported language in an Accept-Language header, or None."""
    for part in (header or "").split(","):
        code = part.split(";")[0].strip().lower().split("-")[0]
        if code in LANGUAGES:
            return code
    return None


@lru_cache
def translations(language: str) -> NullTranslations:
    """The language's catalogs: ``messages`` plus one catalog per business area (``sales.po``,
    ``admin.po``...) beside it, merged; English texts are the message ids themselves."""
    language = normalize(language)
    if language == "en":
        return NullTranslations()
    merged = Translations.load(str(LOCALE_DIR), [language], DOMAIN)
    folder = LOCALE_DIR / language / "LC_MESSAGES"
    for mo in sorted(folder.glob("*.mo")):
        if mo.stem != DOMAIN:
            merged.merge(Translations.load(str(LOCALE_DIR), [language], mo.stem))
    return merged


def set_language(language: str | None) -> str:
    code = normalize(language)
    _current.set(code)
    return code


def current_language() -> str:
    return _current.get()


def gettext(message: str, **params: object) -> str:
    text = translations(_current.get()).gettext(message)
    return text % params if params else text


def ngettext(singular: str, plural: str, n: int, **params: object) -> str:
    """The plural form for ``n``; ``%(num)s`` is ``n`` as the reader writes numbers
    ("11,151", "11 151")."""
    text = translations(_current.get()).ngettext(singular, plural, n)
    params.setdefault("num", format_number(n))
    return text % params


def pgettext(context: str, message: str, **params: object) -> str:
    """A message whose English text means different things (the noun "Call", the verb "Call")."""
    text = translations(_current.get()).pgettext(context, message)
    return text % params if params else text


def npgettext(context: str, singular: str, plural: str, n: int, **params: object) -> str:
    text = translations(_current.get()).npgettext(context, singular, plural, n)
    params.setdefault("num", format_number(n))
    return text % params


_ = gettext


def lazy(message: str) -> str:
    """Mark a string for extraction where it is defined; translate it where it is shown."""
    return message


# --- formatting -----------------------------------------------------------------------------


@lru_cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


#: the signed-in user's zone for this request ("": the company's, ``CoreSettings.timezone``)
_zone_name: ContextVar[str] = ContextVar("callcard_timezone", default="")


def set_timezone(name: str | None) -> str:
    """Format times in ``name`` (a user's zone) from now on in this request; returns the zone
    in force, which is the company's when ``name`` is empty or unknown."""
    _zone_name.set(name or "")
    return local_zone().key


@contextmanager
def reading_as(language: str | None, zone: str | None) -> Iterator[None]:
    """Translate and format for another reader (``language``, ``zone``) within the block, then
    for the request's own again: an API answer or a popup made for one user outside a page."""
    language_token = _current.set(normalize(language))
    zone_token = _zone_name.set(zone or "")
    try:
        yield
    finally:
        _zone_name.reset(zone_token)
        _current.reset(language_token)


def local_zone() -> ZoneInfo:
    """The zone times are shown in: the user's (:func:`set_timezone`), else the company's."""
    name = _zone_name.get()
    if name:
        try:
            return _zone(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    from crm_core.config import get_settings

    return _zone(get_settings().timezone)


# Babel looks the AM/PM names up anew on every call (about 1 ms each: every English time on a
# page paid it); they depend on their arguments only: looked up once, kept as a plain dict.
_period_names = babel_dates.get_period_names
babel_dates.get_period_names = lru_cache(maxsize=64)(
    lambda width="wide", context="stand-alone", locale=None: dict(
        _period_names(width, context, locale)
    )
)


@lru_cache
def _parsed_locale(code: str) -> Locale:
    return Locale.parse(code)


def _locale() -> Locale:
    return _parsed_locale(_current.get())


def format_datetime(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return babel_dates.format_datetime(value, fmt, tzinfo=local_zone(), locale=_locale())


def format_date(value: date | datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(local_zone()).date()
    return babel_dates.format_date(value, fmt, locale=_locale())


def format_time(value: datetime | None, fmt: str = "short") -> str:
    if value is None:
        return ""
    return babel_dates.format_time(value, fmt, tzinfo=local_zone(), locale=_locale())


def format_number(value: float | int | None, digits: int | None = None) -> str:
    if value is None:
        return "—"
    if digits is not None:
        pattern = "#,##0" + ("." + "0" * digits if digits else "")
        return babel_numbers.format_decimal(value, pattern, locale=_locale())
    return babel_numbers.format_decimal(value, locale=_locale())


def format_percent(value: float | None) -> str:
    if value is None:
        return "—"
    return babel_numbers.format_percent(value, locale=_locale())


def format_duration(seconds: float | int | None) -> str:
    """Clock-style duration (``4:05``, ``1:02:03``): the same in every language."""
    if seconds is None:
        return "—"
    seconds = int(round(seconds))
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def format_ago(value: datetime | None, now: datetime | None = None) -> str:
    if value is None:
        return ""
    from crm_core.database import utcnow

    delta: timedelta = value - (now or utcnow())
    return babel_dates.format_timedelta(delta, add_direction=True, locale=_locale())


class PageReader:
    """The reader of the moment (the language and zone set above) as the parts below see one
    (:class:`crm_core.wording.Reader`): they word the texts they store for whoever reads them."""

    gettext = staticmethod(gettext)
    ngettext = staticmethod(ngettext)
    pgettext = staticmethod(pgettext)
    reading = staticmethod(reading_as)

    @staticmethod
    def moment(value: datetime) -> str:
        return format_datetime(value)

    @staticmethod
    def day(value: date) -> str:
        return format_date(value)


PAGE_READER = PageReader()
