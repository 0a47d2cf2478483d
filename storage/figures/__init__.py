"""Figures and records out: case webhooks' durable queue, API tokens, the case-level rows.

Everything here is codes, counts and times: nothing is decrypted, nothing names a family.
"""
