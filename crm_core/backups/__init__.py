"""Backups that restore: one archive of the database and every attachment (docs/backups.md)."""
