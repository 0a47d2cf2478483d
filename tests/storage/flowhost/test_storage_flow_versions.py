"""Published flow versions are immutable."""

from __future__ import annotations

import pytest
from storage_support import at

from storage.errors import VersionConflictError
from storage.store import Store


async def test_publishing_a_new_version_is_reported_once(store: Store) -> None:
    assert await store.flows.publish("intake", "1", "source v1", at(0)) is True
    assert await store.flows.publish("intake", "1", "source v1", at(5)) is False
    assert await store.flows.sources() == ["source v1"]


async def test_changing_a_published_version_is_refused(store: Store) -> None:
    await store.flows.publish("intake", "1", "source v1", at(0))
    with pytest.raises(
        VersionConflictError, match="flow 'intake' version '1' is already published"
    ):
        await store.flows.publish("intake", "1", "source v1 edited", at(5))
    assert await store.flows.sources() == ["source v1"]


async def test_sources_come_by_flow_then_publishing_order(store: Store) -> None:
    await store.flows.publish("intake", "2", "intake v2", at(10))
    await store.flows.publish("crisis", "1", "crisis v1", at(20))
    await store.flows.publish("intake", "10", "intake v10", at(30))
    assert await store.flows.sources() == ["crisis v1", "intake v2", "intake v10"]


async def test_files_published_beside_the_flows_can_be_left_out(store: Store) -> None:
    """A library's globals.toml and faq.toml are published like flows (each office points
    at its own); the older flow versions a library holds are read without them."""
    await store.flows.publish("intake", "1", "intake v1", at(0))
    await store.flows.publish("faq", "a", "faq a", at(10))
    await store.flows.publish("globals", "b", "globals b", at(20))
    assert await store.flows.sources(leaving_out=("globals", "faq")) == ["intake v1"]
    assert len(await store.flows.sources()) == 3
    await store.flow_current.set_current("faq", "a", at(30), office_id=1)
    assert await store.flow_current.current() == {"faq": "a"}


async def test_every_offices_pointers_come_in_one_read(store: Store) -> None:
    """What a running process compares with its shelves now and then: each office's
    pointers, an office with none yet (just added) among them, empty."""
    await store.flows.publish("intake", "1", "intake v1", at(0))
    await store.flows.publish("intake", "2", "intake v2", at(10))
    ambon = await store.offices.add("ambon", "LK3 Kota Ambon", at(20))
    tual = await store.offices.add("tual", "LK3 Kota Tual", at(20))
    await store.flow_current.set_current("intake", "1", at(30), office_id=1)
    await store.flow_current.set_current("intake", "2", at(30), office_id=ambon.id)
    assert await store.flow_current.by_office() == {
        1: {"intake": "1"},
        ambon.id: {"intake": "2"},
        tual.id: {},
    }
