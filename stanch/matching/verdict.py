"""From hits to a verdict a platform can act on: which banks matched, how, and what to do.

Pure rules, no index and no database, so they are read and tested in one place:

- a hit in an allow-list bank wins over everything: action ``allow`` (the content is known and must not
  be actioned), and ``matched`` is false;
- otherwise a hit in a ``block`` bank gives ``block``, a hit only in ``review`` banks gives ``review``;
- no hit gives ``none``;
- a PDQ hash of quality below 50 does not match alone: the query builders (``stanch.matching.query``,
  following ``stanch.signals.robust.query_hashes``) leave it out and the verdict says so; an exact
  digest hit (MD5, SHA-256) always counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Literal

from stanch.signals.pdq import MIN_QUALITY
from stanch.signals.registry import SIGNAL_TYPES

Action = Literal["block", "review", "allow", "none"]
Signal = Literal["pdq", "md5", "sha256", "vpdq"]
Trust = Literal["block", "review"]


@dataclass(frozen=True)
class BankRule:
    """What matching needs to know of a bank: its name, threshold, trust and kind."""

    id: int
    name: str
    threshold: int
    trust: Trust = "block"
    kind: Literal["match", "allow"] = "match"


@dataclass(frozen=True)
class Match:
    """One banked entry that the query matched, and how.

    ``hash`` names the banked hash that matched (``original``, a dihedral such as ``flipx``, or a
    robustness variant such as ``trimmed``) and ``query`` the query's hash that matched it; both are
    empty for exact digests. ``segment`` is the matched stretch of a video, in seconds; ``also`` the
    other signals that matched the same entry (a file that is an exact copy also matches by PDQ).
    """

    bank: str
    entry: int
    distance: int
    signal: Signal
    hash: str = ""
    query: str = ""
    kind: Literal["match", "allow"] = "match"
    trust: Trust = "block"
    segment: dict[str, Any] | None = None
    also: tuple[str, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the HTTP API and ``stanch match``."""
        out: dict[str, Any] = {
            "bank": self.bank,
            "entry": self.entry,
            "distance": self.distance,
            "signal": self.signal,
        }
        if self.hash:
            out["hash"] = self.hash
        if self.query:
            out["query"] = self.query
        if self.kind == "allow":
            out["allow_list"] = True
        else:
            out["trust"] = self.trust
        if self.segment is not None:
            out["segment"] = self.segment
        if self.also:
            out["also"] = list(self.also)
        return out


@dataclass(frozen=True)
class Verdict:
    """The answer to "is this upload banked content?": a decision, the matches behind it, and notes."""

    matched: bool
    action: Action
    matches: tuple[Match, ...] = ()
    notes: tuple[str, ...] = ()
    quality: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The JSON form used by the HTTP API and ``stanch match``."""
        out: dict[str, Any] = {
            "matched": self.matched,
            "action": self.action,
            "matches": [m.to_dict() for m in self.matches],
        }
        if self.quality is not None:
            out["quality"] = self.quality
        if self.notes:
            out["notes"] = list(self.notes)
        out.update(self.extra)
        return out


def decide(hits: list[Match], quality: int | None = None, extra: dict[str, Any] | None = None) -> Verdict:
    """Turn the hits of one query into its verdict (rules in the module docstring)."""
    notes: list[str] = []
    if quality is not None and quality < MIN_QUALITY:
        notes.append(
            f"PDQ quality {quality} is below {MIN_QUALITY}: a hash this flat matches too much to count alone,"
            " so it was not looked up; exact digests (MD5, SHA-256) and any robustness view of quality"
            f" {MIN_QUALITY} or more still count"
        )
    matches = tuple(sorted(best_per_entry(hits), key=_order))
    action = _action(matches)
    if action == "allow" and any(m.kind == "match" for m in matches):
        notes.append("an allow-list bank matched, which overrides the other banks' matches: do not action")
    return Verdict(action in ("block", "review"), action, matches, tuple(notes), quality, dict(extra or {}))


def best_per_entry(hits: list[Match]) -> list[Match]:
    """One match per banked entry: the strongest of its hits (an exact digest before a perceptual hash
    at the same distance), with ``also`` naming the other signals that matched it."""
    grouped: dict[tuple[str, int], list[Match]] = {}
    for hit in hits:
        grouped.setdefault((hit.bank, hit.entry), []).append(hit)
    merged = []
    for group in grouped.values():
        best = min(group, key=lambda h: (h.distance, _SIGNAL_RANK[h.signal]))
        others = tuple(sorted({h.signal for h in group} - {best.signal}, key=_SIGNAL_RANK.__getitem__))
        merged.append(replace(best, also=others))
    return merged


_SIGNAL_RANK = {name: kind.rank for name, kind in SIGNAL_TYPES.items()}


def _action(matches: tuple[Match, ...]) -> Action:
    if any(m.kind == "allow" for m in matches):
        return "allow"
    if any(m.trust == "block" for m in matches):
        return "block"
    if matches:
        return "review"
    return "none"


def _order(match: Match) -> tuple[int, int, str, int]:
    rank = 0 if match.kind == "allow" else (1 if match.trust == "block" else 2)
    return (rank, match.distance, match.bank, match.entry)
