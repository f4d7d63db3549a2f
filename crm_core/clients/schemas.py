"""What the client API accepts and returns."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    EmailStr,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from crm_core.apitypes import name, no_bad_characters
from crm_core.phones import InvalidPhone, to_e164


def Text(max_length: int) -> Any:  # noqa: N802 - reads like a type in the models below
    return Annotated[str, Field(max_length=max_length), AfterValidator(no_bad_characters)]


ClientKind = Literal["person", "organization"]
ClientStatus = Literal["lead", "active", "inactive"]
PhoneKind = Literal["mobile", "work", "home", "fax", "other"]
EmailKind = Literal["work", "personal", "other"]
AddressKind = Literal["work", "home", "billing", "delivery", "other"]
Tag = Annotated[str, Field(min_length=1, max_length=60), AfterValidator(no_bad_characters)]
DbInt = Annotated[int, Field(ge=1, le=2**31 - 1)]
Percent = Annotated[
    Decimal,
    Field(ge=0, le=100, decimal_places=2),
    AfterValidator(lambda v: v.quantize(Decimal("0.01"))),
]


class PhoneIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: PhoneKind = "mobile"
    number: Text(64) = Field(description="Any format: +40 721 234 567, 0721234567, 0040...")
    _e164: str = PrivateAttr("")

    @field_validator("number")
    @classmethod
    def _dialable(cls, value: str) -> str:
        value = value.strip()
        try:
            to_e164(value)
        except InvalidPhone as exc:
            raise ValueError(str(exc)) from None
        return value

    @model_validator(mode="after")
    def _normalise(self) -> PhoneIn:
        self._e164 = to_e164(self.number)
        return self

    @property
    def e164(self) -> str:
        return self._e164


class PhoneOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    number: str
    e164: str


class EmailIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: EmailKind = "work"
    address: EmailStr = Field(max_length=254)


class EmailOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    kind: str
    address: str


class AddressIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    kind: AddressKind = "work"
    street: Text(250) = ""
    city: Text(120) = ""
    region: Text(120) = ""
    postal_code: Text(20) = ""
    country: Annotated[str, Field(pattern=r"^([A-Za-z]{2})?$")] = ""


class AddressOut(AddressIn):
    id: int


class HandleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", from_attributes=True)

    network: Text(40) = Field(description="telegram, whatsapp, viber, facebook, ...")
    handle: Text(200)

    @field_validator("network", "handle")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()


class HandleOut(HandleIn):
    id: int


class _ClientFields(BaseModel):
    model_config = ConfigDict(extra="forbid")

    first_name: name(120) = ""
    last_name: name(120) = ""
    middle_name: name(120) = ""
    org_name: name(250) = Field("", description="Organization name (kind organization)")
    job_title: Text(120) = ""
    organization_id: DbInt | None = Field(None, description="Organization a person belongs to")
    owner_id: DbInt | None = None
    team_id: DbInt | None = None
    category: Annotated[
        str, Field(min_length=1, max_length=40), AfterValidator(no_bad_characters)
    ] = "regular"
    status: ClientStatus = "active"
    source: Text(80) = ""
    birthday: date | None = None
    discount_percent: Percent = Decimal("0")
    comment: Text(20000) = ""
    language: Annotated[str, Field(pattern=r"^([a-z]{2}(-[A-Za-z]{2})?)?$")] = ""
    timezone: Text(64) = ""
    tags: list[Tag] = Field(default_factory=list, max_length=50)
    phones: list[PhoneIn] = Field(default_factory=list, max_length=20)
    emails: list[EmailIn] = Field(default_factory=list, max_length=20)
    addresses: list[AddressIn] = Field(default_factory=list, max_length=20)
    handles: list[HandleIn] = Field(default_factory=list, max_length=20)
    custom: dict[str, Any] = Field(default_factory=dict, description="Custom field key -> value")


class ClientIn(_ClientFields):
    kind: ClientKind = "person"


class ClientUpdate(BaseModel):
    """Partial update: only the fields sent change; a list sent replaces the whole list."""

    model_config = ConfigDict(extra="forbid")

    first_name: name(120) | None = None
    last_name: name(120) | None = None
    middle_name: name(120) | None = None
    org_name: name(250) | None = None
    job_title: Text(120) | None = None
    organization_id: DbInt | None = None
    owner_id: DbInt | None = None
    team_id: DbInt | None = None
    category: (
        Annotated[str, Field(min_length=1, max_length=40), AfterValidator(no_bad_characters)] | None
    ) = None
    status: ClientStatus | None = None
    source: Text(80) | None = None
    birthday: date | None = None
    discount_percent: Percent | None = None
    comment: Text(20000) | None = None
    language: Annotated[str, Field(pattern=r"^([a-z]{2}(-[A-Za-z]{2})?)?$")] | None = None
    timezone: Text(64) | None = None
    tags: list[Tag] | None = Field(None, max_length=50)
    phones: list[PhoneIn] | None = Field(None, max_length=20)
    emails: list[EmailIn] | None = Field(None, max_length=20)
    addresses: list[AddressIn] | None = Field(None, max_length=20)
    handles: list[HandleIn] | None = Field(None, max_length=20)
    custom: dict[str, Any] | None = None


class Ref(BaseModel):
    id: int
    name: str


class ContactPerson(BaseModel):
    id: int
    display_name: str
    job_title: str
    phones: list[str] = Field(default_factory=list, description="E.164")


class ClientOut(BaseModel):
    id: int
    kind: str
    first_name: str
    last_name: str
    middle_name: str
    org_name: str
    display_name: str
    job_title: str
    organization: Ref | None
    owner: Ref | None
    team: Ref | None
    category: str
    is_vip: bool
    status: str
    source: str
    birthday: date | None
    discount_percent: Decimal
    comment: str
    language: str
    timezone: str
    tags: list[str]
    phones: list[PhoneOut]
    emails: list[EmailOut]
    addresses: list[AddressOut]
    handles: list[HandleOut]
    custom: dict[str, Any]
    contacts: list[ContactPerson] = Field(
        default_factory=list, description="Contact persons (organizations only)"
    )
    last_rating: int | None
    last_rated_at: datetime | None
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None


class ClientSummary(BaseModel):
    """One row of a list or search result."""

    id: int
    kind: str
    display_name: str
    organization: Ref | None
    category: str
    is_vip: bool
    status: str
    team_id: int | None
    owner_id: int | None
    phone: str | None = Field(description="First phone, E.164")
    email: str | None
    tags: list[str]
    created_at: datetime
    updated_at: datetime
    deleted_at: datetime | None = None


class ClientPage(BaseModel):
    items: list[ClientSummary]
    total: int = Field(description="Matching clients, counted up to `count_limit`")
    total_exact: bool = Field(
        description="False when more than `count_limit` match: `total` is then a lower bound"
    )
    count_limit: int
    limit: int
    offset: int
    page: int
    page_size: int


class MergeIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    source_id: DbInt = Field(description="Client folded into this one and then deleted")


class DuplicateOut(BaseModel):
    detail: str
    code: str = "duplicate"
    field: str
    existing: Ref


class ClientFilter(BaseModel):
    """List filters; every one is index-backed. Custom fields: ``cf.<key>=value``."""

    model_config = ConfigDict(extra="forbid")

    team: DbInt | None = None
    owner: DbInt | None = None
    category: Text(40) | None = None
    tag: Text(60) | None = None
    status: ClientStatus | None = None
    city: Text(120) | None = None
    kind: ClientKind | None = None
    organization: DbInt | None = Field(None, description="Contact persons of this organization")
    created_from: datetime | None = None
    created_to: datetime | None = None
    deleted: bool = Field(False, description="Admins only: list deleted clients instead")
    custom: dict[Text(60), Text(2000)] = Field(default_factory=dict)
    sort: Annotated[str, Field(max_length=40)] = "display_name"
    limit: Annotated[int, Field(ge=1, le=200)] | None = None
    offset: Annotated[int, Field(ge=0, le=10_000_000)] | None = None
    page: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    page_size: Annotated[int, Field(ge=1, le=200)] | None = None
