"""Quiet hours as the admin set them in the browser (the settings' hours stand in otherwise)."""
