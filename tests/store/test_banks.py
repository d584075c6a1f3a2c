"""Banks and entries: create, add, withdraw, expiry, allow-list banks, digests, trust."""

from __future__ import annotations

from datetime import timedelta

import pytest

from stanch.signals import FrameHash, ImageSignals, PdqVariant, VideoSignals
from stanch.signals.pdq import DIHEDRAL_NAMES
from stanch.store import (
    BankExists,
    Provenance,
    UnknownBank,
    UnknownEntry,
    active_entry_counts,
    add_entry,
    create_bank,
    entry_from_hashes,
    entry_from_signals,
    find_by_digest,
    get_bank,
    get_entry,
    iter_entries,
    iter_index_rows,
    list_banks,
    update_bank,
    utcnow,
    withdraw_entry,
    withdraw_expired,
)

PDQ = "f" * 64


def _hex(i: int) -> str:
    return f"{i:064x}"


def test_create_and_get_bank_with_defaults(session) -> None:
    bank = create_bank(session, "ncii")
    assert (bank.threshold, bank.trust, bank.kind) == (31, "block", "match")
    assert get_bank(session, "ncii").id == bank.id
    assert [b.name for b in list_banks(session)] == ["ncii"]
    assert bank.created.tzinfo is not None


def test_bank_name_rules_and_duplicates(session) -> None:
    create_bank(session, "partner-list_1.v2")
    with pytest.raises(BankExists):
        create_bank(session, "partner-list_1.v2")
    for bad in ("", "has space", "slash/", "-leading"):
        with pytest.raises(ValueError, match="not allowed"):
            create_bank(session, bad)
    with pytest.raises(ValueError, match="trust"):
        create_bank(session, "x", trust="maybe")
    with pytest.raises(ValueError, match="kind"):
        create_bank(session, "y", kind="deny")
    with pytest.raises(UnknownBank, match="stanch bank create nope"):
        get_bank(session, "nope")


def test_allow_list_bank_and_settings_update(session) -> None:
    bank = create_bank(session, "benign", kind="allow", trust="review", threshold=10)
    assert (bank.kind, bank.trust, bank.threshold) == ("allow", "review", 10)
    update_bank(session, "benign", threshold=20)
    assert get_bank(session, "benign").threshold == 20


def test_entry_inherits_bank_trust_unless_given(session) -> None:
    bank = create_bank(session, "external", trust="review")
    inherited = add_entry(session, bank, entry_from_hashes(pdq=_hex(1)))
    blocked = add_entry(session, bank, entry_from_hashes(pdq=_hex(2), provenance=Provenance(trust="block")))
    assert get_entry(session, bank, inherited).trust == "review"
    assert get_entry(session, bank, blocked).trust == "block"


def test_image_signals_store_every_hash_and_index_what_bank_hashes_picks(session) -> None:
    dihedral = tuple(_hex(10 + i) for i in range(8))
    signals = ImageSignals(
        md5="a" * 32,
        sha256="b" * 64,
        pdq=dihedral[0],
        quality=90,
        pdq_dihedral=dihedral,
        variants=(PdqVariant("trimmed", _hex(99), 80), PdqVariant("content", _hex(98), 20)),
    )
    bank = create_bank(session, "media")
    entry_id = add_entry(session, bank, entry_from_signals(signals, Provenance(source="photo.jpg")))
    stored = next(iter_entries(session, bank))
    assert stored.entry.id == entry_id and stored.entry.source == "photo.jpg"
    assert [h.role for h in stored.hashes] == [*DIHEDRAL_NAMES, "trimmed", "content"]
    indexed = {pdq.hex() for _, _, _, pdq in iter_index_rows(session)}
    assert indexed == {*dihedral, _hex(99)}  # the low-quality view is kept but not indexed


def test_video_entry_keeps_frames(session) -> None:
    frames = tuple(FrameHash(_hex(i), 90, float(i)) for i in range(3))
    signals = VideoSignals(md5="c" * 32, sha256="d" * 64, frames=frames, duration=3.0)
    bank = create_bank(session, "videos")
    add_entry(session, bank, entry_from_signals(signals))
    stored = next(iter_entries(session, bank))
    assert stored.entry.kind == "video" and stored.entry.duration == 3.0
    assert [(f.pdq.hex(), f.ts) for f in stored.frames] == [(f.pdq, f.ts) for f in frames]


def test_withdrawn_entry_leaves_matching_at_once(session) -> None:
    bank = create_bank(session, "ncii")
    keep = add_entry(session, bank, entry_from_hashes(pdq=_hex(1)))
    gone = add_entry(session, bank, entry_from_hashes(pdq=_hex(2)))
    entry = withdraw_entry(session, bank, gone)
    assert entry.withdrawn_at is not None and entry.withdrawn_reason == "withdrawn"
    assert withdraw_entry(session, bank, gone).withdrawn_at == entry.withdrawn_at  # idempotent
    assert [row[1] for row in iter_index_rows(session)] == [keep]
    assert [s.entry.id for s in iter_entries(session, bank)] == [keep]
    assert len(list(iter_entries(session, bank, include_withdrawn=True))) == 2
    assert active_entry_counts(session) == {bank.id: 1}


def test_remove_unknown_or_foreign_entry_is_refused(session) -> None:
    a, b = create_bank(session, "a"), create_bank(session, "b")
    entry_id = add_entry(session, a, entry_from_hashes(pdq=_hex(1)))
    with pytest.raises(UnknownEntry):
        withdraw_entry(session, b, entry_id)
    with pytest.raises(UnknownEntry):
        withdraw_entry(session, a, entry_id + 100)


def test_expired_entries_stop_counting_and_are_withdrawn_by_the_sweep(session) -> None:
    bank = create_bank(session, "ncii")
    past = utcnow() - timedelta(minutes=1)
    expired = add_entry(session, bank, entry_from_hashes(pdq=_hex(1), provenance=Provenance(expires=past)))
    tomorrow = Provenance(expires=utcnow() + timedelta(days=1))
    later = add_entry(session, bank, entry_from_hashes(pdq=_hex(2), provenance=tomorrow))
    assert [row[1] for row in iter_index_rows(session)] == [later]
    assert withdraw_expired(session) == [expired]
    assert get_entry(session, bank, expired).withdrawn_reason == "expired"
    assert withdraw_expired(session) == []


def test_digest_lookup_finds_active_entries_only(session) -> None:
    bank = create_bank(session, "videos")
    first = add_entry(session, bank, entry_from_hashes(md5="A" * 32, kind="video"))
    second = add_entry(session, bank, entry_from_hashes(sha256="b" * 64))
    assert [e.id for e in find_by_digest(session, md5="a" * 32)] == [first]
    assert [e.id for e in find_by_digest(session, sha256="B" * 64)] == [second]
    withdraw_entry(session, bank, first)
    assert find_by_digest(session, md5="a" * 32) == []


def test_bad_hashes_are_refused(session) -> None:
    with pytest.raises(ValueError, match="64 hex digits"):
        entry_from_hashes(pdq="abc")
    with pytest.raises(ValueError, match="MD5"):
        entry_from_hashes(md5="xyz")
    with pytest.raises(ValueError, match="at least one"):
        entry_from_hashes()


def test_low_quality_bare_hash_is_kept_but_not_indexed(session) -> None:
    bank = create_bank(session, "ncii")
    add_entry(session, bank, entry_from_hashes(pdq=_hex(5), quality=10))
    add_entry(session, bank, entry_from_hashes(pdq=_hex(6)))
    assert [pdq.hex() for _, _, _, pdq in iter_index_rows(session)] == [_hex(6)]
