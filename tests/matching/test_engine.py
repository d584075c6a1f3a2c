"""MatchEngine on its own (no database): verdicts from banked entries, adds and removals at once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from stanch.matching.engine import BankedEntry, MatchEngine
from stanch.matching.query import hash_query
from stanch.matching.verdict import BankRule
from stanch.signals.pdq import DIHEDRAL_NAMES

A = bytes.fromhex("d8f8f0cce0f4e84ef8f0f0b0b8f0e0e0c6c6e6e2f2f2f0f0e0c0c0c0e0f0f8fc")
B = bytes(x ^ 0xFF for x in A)


def flipped(value: bytes, bits: int) -> bytes:
    """``value`` with its first ``bits`` bits inverted."""
    number = int.from_bytes(value, "big") ^ (((1 << bits) - 1) << (256 - bits))
    return number.to_bytes(32, "big")


def engine_with(*rules: BankRule) -> MatchEngine:
    engine = MatchEngine()
    for rule in rules:
        engine.set_bank(rule)
    return engine


def lookup(engine: MatchEngine, value: bytes, **kwargs: object) -> dict:
    return engine.match_image(hash_query(value.hex(), **kwargs)).to_dict()  # type: ignore[arg-type]


def test_every_entry_within_the_threshold_is_found_with_its_distance() -> None:
    engine = engine_with(BankRule(1, "ncii", 31))
    engine.add([BankedEntry(10, 1, hashes=(("original", A),)), BankedEntry(11, 1, hashes=(("original", B),))])
    for bits in (0, 1, 17, 31):
        verdict = lookup(engine, flipped(A, bits))
        assert [(m["entry"], m["distance"]) for m in verdict["matches"]] == [(10, bits)]
    assert lookup(engine, flipped(A, 32))["matched"] is False


def test_the_view_that_matched_is_named() -> None:
    engine = engine_with(BankRule(1, "ncii", 31))
    dihedral = tuple(zip(DIHEDRAL_NAMES, [flipped(B, i) for i in range(0, 80, 10)], strict=True))
    engine.add([BankedEntry(5, 1, hashes=dihedral)])
    assert lookup(engine, flipped(B, 40))["matches"][0]["hash"] == "flipx"
    engine.add([BankedEntry(6, 1, hashes=(("original", flipped(A, 100)), ("trimmed", A)))])
    assert lookup(engine, A)["matches"][0]["hash"] == "trimmed"


def test_add_replaces_and_remove_stops_matching_at_once() -> None:
    engine = engine_with(BankRule(1, "ncii", 31))
    entry = BankedEntry(7, 1, hashes=(("original", A),), md5="a" * 32)
    engine.add([entry])
    engine.add([BankedEntry(7, 1, hashes=(("original", B),))])
    assert lookup(engine, A)["matched"] is False
    assert lookup(engine, B)["matched"] is True
    engine.remove([entry])
    assert lookup(engine, B)["matched"] is False
    assert engine.match_image(hash_query(md5="a" * 32)).matched is False


def test_expired_entries_never_match() -> None:
    engine = engine_with(BankRule(1, "ncii", 31))
    past, future = datetime.now(UTC) - timedelta(seconds=1), datetime.now(UTC) + timedelta(days=1)
    engine.add([BankedEntry(1, 1, hashes=(("original", A),), expires=past)])
    engine.add([BankedEntry(2, 1, hashes=(("original", B),), md5="b" * 32, expires=future)])
    assert lookup(engine, A)["matched"] is False
    assert lookup(engine, B)["matched"] is True


def test_an_entry_trusted_less_than_its_bank_goes_to_review() -> None:
    engine = engine_with(BankRule(1, "ncii", 31, "block"))
    engine.add([BankedEntry(1, 1, hashes=(("original", A),), trust="review")])
    engine.add([BankedEntry(2, 1, hashes=(("original", B),))])
    assert lookup(engine, A)["action"] == "review"
    assert lookup(engine, B)["action"] == "block"


def test_bank_settings_change_takes_effect_at_once() -> None:
    engine = engine_with(BankRule(1, "ncii", 31))
    engine.add([BankedEntry(1, 1, hashes=(("original", A),))])
    engine.set_bank(BankRule(1, "ncii", 5, "review"))
    assert lookup(engine, flipped(A, 6))["matched"] is False
    assert lookup(engine, flipped(A, 5))["action"] == "review"
    engine.set_bank(BankRule(1, "ncii", 5, "review", "allow"))
    assert lookup(engine, A)["action"] == "allow"


def test_batched_lookups_give_each_query_its_own_verdict() -> None:
    engine = engine_with(BankRule(1, "a", 31), BankRule(2, "b", 31, "review"))
    engine.add([BankedEntry(1, 1, hashes=(("original", A),)), BankedEntry(2, 2, hashes=(("original", B),))])
    queries = [hash_query(B.hex()), hash_query(flipped(A, 3).hex()), hash_query(flipped(A, 90).hex())]
    verdicts = engine.match_images(queries)
    assert [v.action for v in verdicts] == ["review", "block", "none"]
    assert verdicts[1].matches[0].distance == 3
