"""Per-hour call figures kept exact by the call log (the reports read these, not the calls)."""
