from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Principal:
    """Who is acting: the user behind a request, a CLI command or a background job."""

    id: int | None
    username: str
    role: str  # admin | manager | operator | wall | system
    team_id: int | None = None
    extension: str | None = None
    language: str = "en"
    full_name: str = ""
    timezone: str = ""  # the user's IANA zone; empty: the company's

    @property
    def is_admin(self) -> bool:
        return self.role in ("admin", "system")

    @property
    def sees_all_clients(self) -> bool:
        return self.role in ("admin", "manager", "system")

    @property
    def can_delete(self) -> bool:
        return self.role in ("admin", "manager", "system")

    @property
    def can_export(self) -> bool:
        return self.role in ("admin", "manager", "system")

    @property
    def is_staff_user(self) -> bool:
        return self.role in ("admin", "manager", "operator")


SYSTEM = Principal(id=None, username="system", role="system")
