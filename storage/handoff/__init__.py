"""Urgent case to counsellor: cases, the queue, take/release/close, relays, alerts, roster.

`cases` opens or raises a case inside a turn; `repo` (`HandoffRepo`) changes and
reads cases for the hand-off; `digests` files alerts into one message per
counsellor; `rows` is the one reader of a `cases` row; `roster` says who is on
duty; `records` holds the values; `schema` the tables.
"""
