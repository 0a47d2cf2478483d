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
