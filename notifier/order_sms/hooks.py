"""Connects the order status SMS to crm_core's orders signal (imported by notifier.hooks)."""

from __future__ import annotations

from crm_core.orders.signals import order_status_changed
from notifier.order_sms.service import on_order_status_changed

order_status_changed.connect(on_order_status_changed)
