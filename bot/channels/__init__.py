"""The transports: each turns its updates into `Inbound`s and delivers `Outbound`s.

`base` is the seam (`Channel`, `Inbound`, `Outbound`, the delivery errors); `telegram/`
and `whatsapp/` wrap their SDKs (nothing else imports them); `webchat` and `terminal`
need none. `chatlocks` and `textparts` are shared helpers.
"""
