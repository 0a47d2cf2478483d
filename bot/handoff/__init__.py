"""Everything from an urgent case to a counsellor, and back to the family.

A case's life (storage.handoff holds it; each arrow is one transaction)::

    opened ──► alerted ──► taken ──► relayed ⇄ (family writes, counsellor answers)
      │  ▲        │ realerted/widened    │
      │  └────────┘ (escalation)         ├──► released ──► back to the queue (alerted again)
      │                                  └──► closed (outcome, referral; feedback flow offered)
      └── raised: a more urgent concern on a live case raises it, never lowers it

    service     `Handoff`: take, release, close, relay, copy, note, refer; the family's
                turn while a counsellor holds their case (`family_turn`)
    handlers    the two turn handlers it adds to the pipeline: the staff desk (before
                the crisis check) and the held-case relay (after it)
    desk        the counsellor desk: /link, /help, /jadwal, case commands, take presses
    escalation  the background job: alerts for waiting cases, re-alerts, widening
    alerts      how an alert or a digest of several reads, and its take buttons
    delivery    how the outbox sender handles hand-off rows: digests, edits, copies
    roster      `lk3 roster`: who is on call, by weekday and office time
"""
