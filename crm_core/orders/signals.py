"""In-transaction hooks of orders (see :mod:`crm_core.signals`): the notifier connects here."""

from __future__ import annotations

from crm_core.signals import Signal

#: (db, order, status: OrderStatus, previous: str | None, actor) after an order entered
#: ``status`` (also for a new order's first status); receivers may write outbox rows.
order_status_changed = Signal("order_status_changed")
