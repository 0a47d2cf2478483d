"""The crisis check every inbound message passes before anything else happens.

It answers ``urgent``, ``check`` or ``none`` with the ids of the rules that matched, never
the text itself, so its verdict can be logged and stored. It is pure: no I/O beyond loading
its bundled data files (``lexicon.toml``, ``rules.toml``), which admins may extend.

Exceptions::

    SafetyError            anything this package raises on purpose
     └── SafetyDataError   a lexicon, rule or evaluation file is invalid; the message names
                           the file and the path inside it (rule 'x' -> patterns[2]: ...)
"""

from __future__ import annotations

from bot.safety.classifier import Classifier
from bot.safety.errors import SafetyDataError, SafetyError
from bot.safety.levels import Assessment, Level

__all__ = ["Assessment", "Classifier", "Level", "SafetyDataError", "SafetyError"]
