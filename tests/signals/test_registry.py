"""The signal-type registry: each type validates, compares and says how it is indexed and which views
it has; storage and matching take those answers from it."""

from __future__ import annotations

import pytest

from stanch.matching.query import hash_query, image_query
from stanch.matching.verdict import Match, best_per_entry
from stanch.signals import hash_media
from stanch.signals.registry import DIGESTS, SIGNAL_TYPES, Md5Signal, PdqSignal, Sha256Signal, signal_type
from stanch.signals.robust import bank_hashes, query_hashes
from stanch.signals.types import ImageSignals
from stanch.store.entries import entry_from_hashes, entry_from_signals
from tests.api.conftest import encoded, picture


def test_every_type_names_its_content_index_and_rank() -> None:
    assert list(SIGNAL_TYPES) == ["sha256", "md5", "pdq", "vpdq"]
    assert [t.rank for t in SIGNAL_TYPES.values()] == [0, 1, 2, 3]
    assert {n: t.index for n, t in SIGNAL_TYPES.items()} == {
        "sha256": "exact", "md5": "exact", "pdq": "hamming", "vpdq": "hamming"}
    assert SIGNAL_TYPES["vpdq"].content_types == ("video",) and "photo" in PdqSignal.content_types
    assert [d.name for d in DIGESTS] == ["md5", "sha256"]
    with pytest.raises(ValueError, match="unknown signal type 'tmk'"):
        signal_type("tmk")


def test_validate_normalises_or_says_what_is_wrong() -> None:
    assert PdqSignal.validate(" " + "AB" * 32 + " ") == "ab" * 32
    assert Md5Signal.validate("F" * 32) == "f" * 32
    for kind, bad in ((PdqSignal, "abc"), (Md5Signal, "0" * 31), (Sha256Signal, "z" * 64), (Md5Signal, 7)):
        with pytest.raises(ValueError):
            kind.validate(bad)


def test_compare() -> None:
    assert PdqSignal.compare("0" * 64, "0" * 63 + "7") == 3
    assert Md5Signal.compare("a" * 32, "a" * 32) == 0 and Md5Signal.compare("a" * 32, "b" * 32) > 256


def test_the_store_indexes_the_views_the_pdq_type_picks() -> None:
    signals = hash_media(encoded(picture(2)), purpose="bank")
    assert isinstance(signals, ImageSignals)
    indexed = {row.pdq.hex() for row in entry_from_signals(signals).hashes if row.indexed}
    assert indexed == {h for _, h, _, on in PdqSignal.index_rows(signals) if on} == set(bank_hashes(signals))
    flat = entry_from_hashes(pdq="f" * 64, quality=10).hashes[0]
    assert not flat.indexed and not PdqSignal.usable(10) and PdqSignal.usable(None)


def test_matching_looks_up_the_views_and_ranks_the_pdq_type_gives() -> None:
    signals = hash_media(encoded(picture(2)))
    assert isinstance(signals, ImageSignals)
    assert [h for _, h in image_query(signals).hashes] == list(query_hashes(signals))
    assert hash_query("f" * 64, quality=10).hashes == ()
    hits = [Match("b", 1, 0, "pdq"), Match("b", 1, 0, "md5"), Match("b", 1, 0, "sha256")]
    assert [(m.signal, m.also) for m in best_per_entry(hits)] == [("sha256", ("md5", "pdq"))]
