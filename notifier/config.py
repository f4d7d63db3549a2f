"""The notifier's section of the settings (channels, outbox, reminders, surveys)."""

from __future__ import annotations

from pydantic import SecretStr

from crm_core.config import SettingsOf
from cti.config import CtiSettings


class NotifierSettings(CtiSettings):
    """The telephony's settings and the notifier's."""

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
    survey_task_types: list[str] = [
        "visit",
        "order",
    ]  # completed events of these types: survey
    survey_reply_hours: int = 72  # how long a survey accepts a reply
    engagement_interval_seconds: float = 30.0  # periodic jobs: due task reminders, call surveys
    # sales: invoice reminders to the client (0 turns one off), channel sms | email
    invoice_remind_days_before: int = 3
    invoice_remind_days_after: int = 7
    invoice_remind_channel: str = "sms"


get_settings = SettingsOf(NotifierSettings)
