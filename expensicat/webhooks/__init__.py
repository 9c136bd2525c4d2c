"""Webhooks: every change pushed to the endpoints an organization registers, signed."""
