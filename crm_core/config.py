"""Settings, read once from the environment (prefix ``CALLCARD_``) and ``.env``.

Each part declares its own section, extending the section of the part below it (this module
holds the bottom one, :class:`CoreSettings`); the root composes them into one class. Every
section reads the same variables, so one process sees one configuration whatever section a
part asks for; any part's ``get_settings.cache_clear()`` makes every part read them again.
"""

from __future__ import annotations

from ipaddress import IPv4Network, IPv6Network, ip_network
from pathlib import Path
from typing import Generic, TypeVar

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def _split(value: str) -> list[str]:
    return [item.strip() for item in value.split(",") if item.strip()]


class CoreSettings(BaseSettings):
    """The client base, sign-in, files, the event bus."""

    model_config = SettingsConfigDict(
        env_prefix="CALLCARD_",
        env_file=".env",
        env_file_encoding="utf-8",
        extra="ignore",
    )

    database_url: str = "sqlite:///callcard.db"
    default_region: str = Field("RO", description="ISO country code for numbers typed without +")
    secret_key: SecretStr = SecretStr("")
    public_url: str = "http://127.0.0.1:8000"
    default_language: str = "en"
    timezone: str = "Europe/Bucharest"
    session_days: int = Field(14, ge=1, description="lifetime of API bearer tokens, in days")
    browser_session_hours: int = Field(
        12, ge=1, description="lifetime of a browser sign-in (session cookie), in hours"
    )
    secure_cookies: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    max_body_bytes: int = 2 * 1024 * 1024  # JSON and form bodies of signed-in requests
    max_anonymous_body_bytes: int = 64 * 1024  # bodies sent without credentials
    attachments_dir: Path = Path("callcard-files")
    login_attempts_per_minute: int = Field(
        10, ge=1, description="failed logins a minute for one account from one address"
    )
    login_attempts_per_account_per_minute: int = Field(
        20, ge=1, description="failed logins a minute for one account from all addresses"
    )
    trusted_proxies: str = Field(
        "",
        description="comma-separated addresses or networks of reverse proxies whose "
        "X-Forwarded-For is believed; empty: none, the peer address is the client",
    )
    # event bus: empty = in-process (embedded default); redis://... = Redis pub/sub
    bus_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"
    # sales: HMAC-SHA256 secret of POST /api/sales/payments/webhook (empty: webhook refused)
    payment_webhook_secret: SecretStr = SecretStr("")
    # backups (crm_core.backups, docs/backups.md)
    backup_dir: Path | None = Field(
        None,
        description="where archives go (any directory: a mounted NAS); "
        "empty: callcard-backups beside the attachments folder",
    )
    backup_schedule: str = Field(
        "03:00", description="daily backup time HH:MM in `timezone`; empty: no scheduled backup"
    )
    backup_keep_daily: int = Field(7, ge=0, description="newest archive of each of N last days")
    backup_keep_weekly: int = Field(4, ge=0, description="newest archive of each of N last weeks")
    backup_keep_monthly: int = Field(12, ge=0, description="newest of each of N last months")
    backup_encryption_key: SecretStr = Field(
        SecretStr(""), description="passphrase encrypting archives (AES-GCM); empty: plain"
    )
    backup_compress: bool = True
    backup_verify: bool = Field(True, description="restore each archive into a scratch database")
    # reports: answered within this many seconds counts toward the service level (then rebuild)
    service_level_seconds: int = Field(20, ge=1, le=3600)
    # call log: the folder holding the PBX's recordings (MixMonitor files, e.g. a mount of
    # /var/spool/asterisk/monitor); empty: no player. Only files inside it are ever served.
    recordings_dir: str = ""

    @field_validator("default_region")
    @classmethod
    def _region_upper(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter ISO country code such as RO")
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_parse(cls, value: str) -> str:
        for item in _split(value):
            try:
                ip_network(item, strict=False)
            except ValueError:
                raise ValueError(f"{item!r} is not an IP address or network") from None
        return value

    @property
    def trusted_proxy_networks(self) -> tuple[IPv4Network | IPv6Network, ...]:
        """The reverse proxies whose X-Forwarded-For is believed (CALLCARD_TRUSTED_PROXIES)."""
        return tuple(ip_network(item, strict=False) for item in _split(self.trusted_proxies))

    @property
    def is_embedded(self) -> bool:
        """One process: in-process bus and dispatcher."""
        return not self.bus_url


Section = TypeVar("Section", bound=CoreSettings)
_read: dict[type[CoreSettings], CoreSettings] = {}


class SettingsOf(Generic[Section]):
    """``get_settings()`` of one part: its section, read once per process and cached; the
    cache is one for every part, so ``cache_clear()`` makes every part read again."""

    def __init__(self, section: type[Section]) -> None:
        self.section = section

    def __call__(self) -> Section:
        found = _read.get(self.section)
        if found is None:
            found = _read[self.section] = self.section()
        return found  # type: ignore[return-value]

    @staticmethod
    def cache_clear() -> None:
        _read.clear()


get_settings = SettingsOf(CoreSettings)


def secret_key(settings: CoreSettings | None = None) -> str:
    """The signing key; an empty one gets a random per-install key stored beside the database."""
    settings = settings or get_settings()
    value = settings.secret_key.get_secret_value()
    if value:
        return value
    import secrets

    path = Path(".callcard-secret")
    if path.exists():
        return path.read_text().strip()
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value
