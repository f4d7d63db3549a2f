"""The telephony section of the settings (AMI, call tracking, click-to-call)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from crm_core.config import CoreSettings, SettingsOf


class CtiSettings(CoreSettings):
    """The client base's settings and the telephony's."""

    ami_host: str = ""
    ami_port: int = 5038
    ami_username: str = ""
    ami_secret: SecretStr = SecretStr("")
    ami_ping_interval: float = 10.0
    ami_ping_timeout: float = 5.0
    #: seconds an AMI message may wait for its end before the stream is taken as broken
    ami_message_stall_timeout: float = 3.0
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


get_settings = SettingsOf(CtiSettings)
