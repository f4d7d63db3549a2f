"""Automated calls as outbox messages: which script a call plays and the address it fetches."""
