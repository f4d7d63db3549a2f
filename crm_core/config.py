"""All settings, read once from the environment (prefix ``CALLCARD_``) and ``.env``."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="CALLCARD_", env_file=".env", env_file_encoding="utf-8", extra="ignore"
    )

    # core
    database_url: str = "sqlite:///callcard.db"
    default_region: str = Field("RO", description="ISO country code for numbers typed without +")
    secret_key: SecretStr = SecretStr("")
    public_url: str = "http://127.0.0.1:8000"
    default_language: str = "en"
    timezone: str = "Europe/Bucharest"
    session_days: int = 14
    secure_cookies: bool = False
    max_upload_bytes: int = 20 * 1024 * 1024
    attachments_dir: Path = Path("callcard-files")
    login_attempts_per_minute: int = 10
    # event bus: empty = in-process (embedded default); redis://... = Redis pub/sub
    bus_url: str = ""
    redis_url: str = "redis://127.0.0.1:6379/0"

    # telephony
    ami_host: str = ""
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: SecretStr = SecretStr("")
    ami_ping_interval: float = 10.0
    ami_ping_timeout: float = 5.0
    extension_pattern: str = r"^(?:PJSIP|SIP|IAX2|DAHDI)/(\d+)-|^Local/(\d+)@(?!from-pstn)[^-;]*"
    trunk_contexts: list[str] = ["from-pstn", "from-trunk", "from-external"]
    trunk_prefixes: list[str] = ["PJSIP/trunk", "SIP/trunk"]
    callback_task_to: str = Field("owner", description="owner | team: who gets a missed-call task")
    simulator: bool = False
    # click-to-call (AMI Originate): the operator's phone rings first, then Exten is dialed
    originate_channel: str = Field("PJSIP/{ext}", description="channel of the operator's phone")
    originate_context: str = "from-internal"
    originate_dial: str = Field("{e164}", description="Exten to dial: {e164} or {number}")
    originate_timeout: float = 30.0
    originate_forward_timeout: float = 5.0
    cti_lock_ttl: float = Field(15.0, description="seconds a dead CTI listener keeps its lock")

    # notifier
    sms_channel: str = "console"  # console | twilio
    email_channel: str = "console"  # console | smtp
    twilio_account_sid: str = ""
    twilio_auth_token: SecretStr = SecretStr("")
    twilio_from_number: str = ""
    twilio_base_url: str = ""  # tests and on-prem gateways: rewrite api.twilio.com to this
    smtp_host: str = "localhost"
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = "callcard@localhost"
    sms_rate_per_second: float = 10.0
    quiet_hours_start: int = 21
    quiet_hours_end: int = 9
    survey_delay_minutes: int = 5
    survey_period_days: int = 30
    dispatch_interval_seconds: float = 2.0
    # notifier delivery engine (outbox, Celery, retries)
    voice_channel: str = "console"  # console | twilio
    embedded_dispatcher: bool = True  # embedded default: send from the web process
    celery_broker_url: str = ""  # empty: redis_url
    dispatch_batch_size: int = 100
    dispatch_lease_seconds: float = 60.0
    send_timeout_seconds: float = 10.0
    send_concurrency: int = 8
    max_send_attempts: int = 8
    retry_base_seconds: float = 15.0
    retry_max_seconds: float = 3600.0
    unknown_grace_seconds: float = (
        120.0  # an unanswered send is looked up this long before any retry
    )
    # notifier engagement (reminders, surveys, newsletters)
    company_name: str = "Callcard"  # {{ company }} in message templates
    survey_call_queues: list[str] = []  # queues whose answered inbound calls get a survey; [] = all
    survey_min_talk_seconds: int = 10  # shorter answered calls get no survey
    survey_task_types: list[str] = ["visit", "order"]  # completed events of these types: survey
    survey_reply_hours: int = 72  # how long a survey accepts a reply
    engagement_interval_seconds: float = 30.0  # periodic jobs: due task reminders, call surveys
    # voicebots: FastAGI server for Asterisk (``callcard voicebots agi``; in the web process too
    # when ``voice_agi_embedded`` is on in the embedded default)
    voice_agi_host: str = "127.0.0.1"
    voice_agi_port: int = 4573
    voice_agi_embedded: bool = False
    # voice_channel=asterisk: how the outbox dials a client (AMI Originate into the context that
    # runs AGI(agi://host:port/${VOICE_SCRIPT},${MESSAGE_ID}))
    voice_originate_channel: str = "PJSIP/{digits}@trunk"  # {digits}: E.164 without +, {e164}
    voice_originate_context: str = "callcard-voice"
    voice_originate_caller_id: str = ""
    voice_originate_timeout: float = 45.0

    @field_validator("default_region")
    @classmethod
    def _region_upper(cls, value: str) -> str:
        value = value.strip().upper()
        if len(value) != 2 or not value.isalpha():
            raise ValueError("must be a two-letter ISO country code such as RO")
        return value

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def is_embedded(self) -> bool:
        """One process: in-process bus and dispatcher."""
        return not self.bus_url


@lru_cache
def get_settings() -> Settings:
    return Settings()


def secret_key(settings: Settings | None = None) -> str:
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
