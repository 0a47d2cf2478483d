"""The registry of effect names a flow may emit, and their parameters.

Why a registry: effects are things the host does in the world; a typo in a file
(`open_cse`) must fail at load time, not be silently ignored at 2 a.m.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EffectDef:
    name: str
    required: tuple[str, ...] = ()
    optional: tuple[str, ...] = ()
    allowed: tuple[tuple[str, tuple[str, ...]], ...] = ()  # param -> permitted literal values

    def allowed_values(self, param: str) -> tuple[str, ...] | None:
        for key, values in self.allowed:
            if key == param:
                return values
        return None


# The urgency codes a flow may give a case. flows/ imports neither bot/ nor storage/,
# so the checker keeps this copy of storage.records.URGENCIES (their one home
# everywhere else); tests/test_layout.py holds the two equal.
URGENCIES = ("darurat", "segera", "biasa")

EFFECTS: dict[str, EffectDef] = {}


def register(effect: EffectDef) -> EffectDef:
    """Adds an effect name to the registry (one place: new effects are a code change)."""
    EFFECTS[effect.name] = effect
    return effect


register(
    EffectDef("open_case", required=("category", "urgency"), allowed=(("urgency", URGENCIES),))
)
register(EffectDef("offer_slots", optional=("mode",)))
register(EffectDef("handoff", optional=("reason",)))
register(EffectDef("set_language", required=("language",)))
register(
    EffectDef("record_consent", required=("given", "version"), allowed=(("given", ("yes", "no")),))
)
register(EffectDef("end"))
# Nothing below the running flow is resumed: a crisis goes on from safety (flows.workspace).
register(EffectDef("leave_interrupted"))
# Families' rights (the `privacy` flow); the host carries them out in the turn's commit.
register(EffectDef("withdraw_consent"))  # stop processing; erase at the next retention run
register(EffectDef("export_data"))  # send the person what the service holds about them
register(EffectDef("delete_data"))  # erase the person's data now (only after a yes/no question)
register(EffectDef("quick_exit"))  # cancel waiting replies; delete the chat where possible
# Booking a consultation (the `booking` flow); the host commits each with the turn.
# The one home of the consultation modes (bot.config reads the office's from here).
BOOKING_MODES = ("kantor", "telepon", "chat", "kunjungan")
register(
    EffectDef(
        "hold_slot",
        required=("slot", "mode"),
        optional=("detail",),
        allowed=(("mode", BOOKING_MODES),),
    )
)  # hold the chosen time for a few minutes while the family confirms
register(EffectDef("confirm_booking", required=("slot",)))  # the held time becomes a booking
register(EffectDef("release_hold"))  # the family let the held time go
register(EffectDef("cancel_booking"))  # cancel the family's upcoming booking
register(EffectDef("confirm_attendance"))  # "1" to a reminder: they will come
# Feedback after a case is closed (the `feedback` flow): the 1-5 the family chose, counted
# once per closed case for the monthly figures, with no link to the family.
register(EffectDef("record_rating", required=("rating",)))
# Which office the family is with (docs/offices.md): an office code, usually the answer to
# "which regency or city?"; the host writes it with the turn, before any case it opens.
register(EffectDef("set_office", required=("office",)))
