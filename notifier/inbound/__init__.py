"""Inbound SMS: one code path for Twilio's webhook and the simulated handset."""
