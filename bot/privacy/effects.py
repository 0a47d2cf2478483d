"""What the rights a family exercises in the chat do to a turn (the `privacy` flow).

Consent is recorded or withdrawn with the turn; an export goes out at the reply
it was asked at; an erasure and a quick exit are carried out by the commit and
the privacy worker.
"""

from __future__ import annotations

import re

from bot.core.effects import PlanDraft, register
from flows.exchange import Effect, FlowError
from storage.records import ConsentRecord

__all__ = ["delete_data", "export_data", "quick_exit", "record_consent", "withdraw_consent"]

_VERSION = re.compile(r"[A-Za-z0-9_.-]{1,32}")


def record_consent(effect: Effect, draft: PlanDraft) -> None:
    version = effect.param("version")
    if not _VERSION.fullmatch(version):
        draft.errors.append(FlowError("bad_version", "effect record_consent: not a version"))
        version = "unknown"
    draft.consent = ConsentRecord(given=effect.param("given") == "yes", version=version)


def withdraw_consent(effect: Effect, draft: PlanDraft) -> None:
    version = draft.ctx.values.get("consent_version", "")
    draft.consent = ConsentRecord(given=False, version=version, withdrawal=True)


def export_data(effect: Effect, draft: PlanDraft) -> None:
    draft.export_at = len(draft.replies)


def delete_data(effect: Effect, draft: PlanDraft) -> None:
    draft.erase = True
    draft.erase_at = len(draft.replies)


def quick_exit(effect: Effect, draft: PlanDraft) -> None:
    draft.quick_exit = True


register("record_consent", record_consent)
register("withdraw_consent", withdraw_consent)
register("export_data", export_data)
register("delete_data", delete_data)
register("quick_exit", quick_exit)
