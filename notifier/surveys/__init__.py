"""SMS rating surveys after answered calls and completed visits/orders; CSAT aggregates."""
