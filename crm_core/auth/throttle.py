"""Failed sign-ins: who the client is, and when to stop listening to guesses.

Failures are counted under the account they were aimed at (the one form of the typed name that
sign-in looks up, :func:`login_name`) and the client's address. Two limits a minute, both from
the settings: one account from one address (``login_attempts_per_minute``), and one account
from all addresses (``login_attempts_per_account_per_minute``, so that changing address does
not buy more guesses). While either is reached the account refuses every sign-in from there,
a correct password included; other accounts are never locked by it (an office behind one NAT
address keeps signing in).

The address is the peer's, unless the peer is one of the configured reverse proxies
(``CALLCARD_TRUSTED_PROXIES``, default none): only then is ``X-Forwarded-For`` believed.
"""

from __future__ import annotations

from datetime import timedelta
from ipaddress import IPv4Network, IPv6Network, ip_address

from sqlalchemy import and_, case, delete, func, select
from sqlalchemy.orm import Session

from crm_core.auth.models import LoginAttempt
from crm_core.config import get_settings
from crm_core.database import utcnow
from crm_core.errors import TooManyRequests

WINDOW = timedelta(minutes=1)
#: failures older than this are deleted when a new one is recorded
KEEP = timedelta(hours=1)


def login_name(username: str) -> str:
    """The one form of a typed username that sign-in looks up and counts failures under."""
    return username.strip().lower()[:80]


def _is_trusted(address: str, proxies: tuple[IPv4Network | IPv6Network, ...]) -> bool:
    try:
        ip = ip_address(address.strip())
    except ValueError:
        return False
    return any(ip.version == net.version and ip in net for net in proxies)


def client_address(
    peer: str, forwarded_for: str | None, proxies: tuple[IPv4Network | IPv6Network, ...]
) -> str:
    """The client's address: the peer's, or, when the peer is a trusted proxy, the right-most
    ``X-Forwarded-For`` hop that is not a trusted proxy (hops to its left are the client's
    word)."""
    if not forwarded_for or not _is_trusted(peer, proxies):
        return peer[:64]
    for hop in reversed([h.strip() for h in forwarded_for.split(",") if h.strip()]):
        if _is_trusted(hop, proxies):
            continue
        try:
            return str(ip_address(hop))
        except ValueError:
            return peer[:64]  # not an address: the proxy did not write this header
    return peer[:64]


def check_allowed(db: Session, account: str, address: str) -> None:
    """Refuse (429) while the account is locked for this address or for every address."""
    settings = get_settings()
    per_account, per_pair = db.execute(
        select(
            func.count(LoginAttempt.id),
            func.coalesce(func.sum(case((LoginAttempt.address == address[:64], 1), else_=0)), 0),
        ).where(LoginAttempt.username == account, LoginAttempt.at >= utcnow() - WINDOW)
    ).one()
    if (
        per_account >= settings.login_attempts_per_account_per_minute
        or per_pair >= settings.login_attempts_per_minute
    ):
        raise TooManyRequests("Too many failed logins; wait a minute and try again.")


def record_failure(db: Session, account: str, address: str) -> None:
    db.execute(delete(LoginAttempt).where(LoginAttempt.at < utcnow() - KEEP))
    db.add(LoginAttempt(username=account[:80], address=address[:64]))
    db.flush()


def forget_failures(db: Session, account: str, address: str) -> None:
    """After a correct sign-in: this address's failures for the account no longer count (those
    from other addresses still do, towards the account's limit)."""
    db.execute(
        delete(LoginAttempt).where(
            and_(LoginAttempt.username == account, LoginAttempt.address == address[:64])
        )
    )
