"""Message templates: built-in texts per type and language, admins' versions, sandboxed rendering."""
