"""Call log: finished calls, their history entries, callback tasks for missed calls, notes."""
