"""Figures and records out: the case-level CSV, the read-only figures API with per-office
tokens, and signed case webhooks delivered through a durable queue.

    config    `[figures]` and `[webhooks.<name>]`
    months    a month as the office's calendar has it
    casecsv   the month's cases as CSV, without identities, guarded against formulas
    signing   the webhook signature: HMAC-SHA256 over timestamp and body
    webhooks  the sender: one endpoint at a time, in order, retried with back-off
    api       `/api/v1/figures`, `/api/v1/cases.csv`: bearer tokens scoped to one office
    cli       `lk3 figures cases`, `lk3 api-token add|list|revoke`
"""
