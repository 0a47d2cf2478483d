"""The transports: each turns its updates into `Inbound`s and delivers `Outbound`s.

`base` is the seam (`Channel`, `Inbound`, `Outbound`, the delivery errors);
`registry` the life of a channel (`ChannelAdapter`: open, bind, routes, start,
stop, close) and the channels by name, each registered by its own module.
`telegram/` and `whatsapp/` wrap their SDKs (nothing else imports them);
`webchat/` (the page and its channel) and `terminal` need none. `chatlocks` and
`textparts` are shared helpers.
"""
