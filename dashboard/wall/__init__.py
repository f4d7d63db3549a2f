"""The wall dashboard: running counters fed by bus events, rebuilt from the database at start."""
