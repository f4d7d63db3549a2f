"""Ranked search over the client base (SQLite FTS5 trigram / PostgreSQL pg_trgm)."""
