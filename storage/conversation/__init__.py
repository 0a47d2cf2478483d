"""A family's conversation: contacts, the inbox, sessions, the turn, the outbox, receipts.

`turns` holds the two transactions every message goes through (receive, commit
its turn); the other modules are the tables those transactions touch.
"""
