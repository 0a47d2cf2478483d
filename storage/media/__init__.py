"""A family's photos and voice notes during a hand-off, sealed under their data key.

`records` holds the values, `schema` the table, `repo` (`MediaRepo`) the reads and
the writes outside a turn; `receive` and `forget_waiting` run inside the message's
own transactions (`storage.conversation.turns`).
"""
