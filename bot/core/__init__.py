"""The message path: every stored message to its replies in the outbox, and the sender.

    pipeline    per contact, in order: crisis check, turn handlers, flow step, one commit
    turns       what one message leads to, decided without I/O (`TurnPlan`, `Reply`)
    scheduling  a bounded number of turns at once, a message in danger first
    outbox      the sender: due replies through their channel, at least once, paced
    ratelimit   sending limits per channel and per chat
    texts       the bot's own words outside any flow (`texts.toml`)
    eventloop   uvloop where installed; failpoints: where a test may kill the process

Feature packages (handoff, booking, privacy, flowhost) plug into this path; this
package names none of them beyond the wiring in `bot.app`.
"""
