"""The storage engine: one writer connection, pooled readers, the ordered migration list.

`db` runs every write in `BEGIN IMMEDIATE` on one connection fed by a queue and
reads on separate connections; `migrations` brings a database to this code's
schema (the base tables, then each capability's `schema.py` in order); `clock`
and `rows` hold the small conversions every repository shares.
"""
