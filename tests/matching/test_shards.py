"""Index shards on a local Ray runtime (stanch.matching.shards): two shards answer exactly what one
engine holding every bank answers, follow adds and withdrawals, and a dead shard is reported, never
silently left out (SQLite and PostgreSQL)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from stanch.matching.engine import MatchEngine
from stanch.matching.partition import Shard
from stanch.matching.query import ImageQuery, Query, hash_query
from stanch.matching.shards import ShardedEngine, ShardUnavailable
from stanch.matching.sync import BankFollower
from stanch.store import (
    Database,
    add_entries,
    add_entry,
    create_bank,
    entry_from_hashes,
    get_bank,
    withdraw_entry,
)
from tests.index.index_reference import near, random_hashes

pytestmark = [pytest.mark.ray, pytest.mark.usefixtures("ray_runtime")]


def _url(db: Database) -> str:
    return db.engine.url.render_as_string(hide_password=False)


def _fill(db: Database, rng: np.random.Generator) -> np.ndarray:
    """Two banks of 60 pictures' hashes, some with an MD5 too (digests must shard with their entry)."""
    hashes = random_hashes(rng, 120)
    with db.write() as session:
        for name, rows in (("ncii", hashes[:60]), ("partner", hashes[60:])):
            bank = create_bank(session, name)
            add_entries(session, bank, (
                entry_from_hashes(pdq=h.tobytes().hex(), md5=f"{i:032x}" if i % 3 == 0 else None)
                for i, h in enumerate(rows, start=0 if name == "ncii" else 60)
            ))
    return hashes


def _queries(rng: np.random.Generator, hashes: np.ndarray) -> list[Query]:
    planted = ((0, 5), (61, 30), (99, 12))
    near_copies = [hash_query(near(rng, hashes[i], d).tobytes().hex()) for i, d in planted]
    return [*near_copies, hash_query(random_hashes(rng, 1)[0].tobytes().hex()),
            ImageQuery(md5=f"{3:032x}"), ImageQuery(md5=f"{63:032x}")]


def _single(db: Database) -> MatchEngine:
    follower = BankFollower(db, MatchEngine())
    follower.load()
    return follower.engine


def test_two_shards_answer_exactly_what_one_engine_answers_and_follow_the_feed(database: Database) -> None:
    rng = np.random.default_rng(31)
    hashes = _fill(database, rng)
    queries = _queries(rng, hashes)
    engine = ShardedEngine.start(_url(database), 2, poll_interval=0.05, max_restarts=0)
    try:
        sharded, single = engine.match_queries(queries), _single(database).match_queries(queries)
        assert [v.to_dict() for v in sharded] == [v.to_dict() for v in single]
        assert [v.matched for v in sharded] == [True, True, True, False, True, True]
        stats = engine.stats()
        assert stats["shards"] == 2 and stats["image_hashes"] == _single(database).stats()["image_hashes"]
        new = [random_hashes(rng, 1)[0].tobytes().hex() for _ in range(4)]
        with database.write() as session:
            bank = get_bank(session, "ncii")
            ids = [add_entry(session, bank, entry_from_hashes(pdq=h)) for h in new]
        engine.poll()  # what the server that committed does at once (ShardFollower.poll_after_commit)
        assert {ids[0] % 2, ids[1] % 2} == {0, 1}, "the entries landed on both shards"
        assert all(v.matched for v in engine.match_queries([hash_query(h) for h in new]))
        with database.write() as session:
            withdraw_entry(session, get_bank(session, "ncii"), ids[1])
        engine.poll()
        found = [v.matched for v in engine.match_queries([hash_query(h) for h in new])]
        assert found == [True, False, True, True]
    finally:
        engine.stop()


def test_each_shard_holds_only_its_entries(database: Database) -> None:
    _fill(database, np.random.default_rng(32))
    halves = []
    for index in range(2):
        follower = BankFollower(database, MatchEngine(), shard=Shard(index, 2))
        follower.load()
        halves.append(follower.engine.stats()["image_hashes"])
    assert all(halves) and sum(halves) == _single(database).stats()["image_hashes"]


def test_a_restarted_shard_reloads_and_a_dead_one_is_reported(database: Database, tmp_path: Path) -> None:
    import ray

    rng = np.random.default_rng(35)
    hashes = _fill(database, rng)
    queries = _queries(rng, hashes)
    engine = ShardedEngine.start(_url(database), 2, snapshots=tmp_path / "snapshots", poll_interval=0.05)
    try:
        expected = [v.to_dict() for v in engine.match_queries(queries)]
        before = ray.get(engine.actors[0].stats.remote())["process"]
        ray.kill(engine.actors[0], no_restart=False)  # Ray restarts it: it reloads from its snapshot
        _until(lambda: _process(engine.actors[0]) not in (None, before), "the shard did not come back")
        assert [v.to_dict() for v in engine.match_queries(queries)] == expected
        ray.kill(engine.actors[1], no_restart=True)  # gone for good: refused, not answered without it
        _until(lambda: _process(engine.actors[1]) is None, "the killed shard still answers")
        with pytest.raises(ShardUnavailable, match="index shard 1 of 2 is unavailable"):
            engine.match_queries(queries)
    finally:
        engine.stop()


def test_the_api_serves_from_shards_and_answers_503_without_one(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    import ray
    from fastapi.testclient import TestClient

    from stanch.api.app import create_app
    from stanch.store import create_key

    monkeypatch.setenv("STANCH_INDEX_SHARDS", "2")
    with database.write() as session:
        create_bank(session, "ncii")
        keys = {scope: create_key(session, scope, [scope])[1] for scope in ("match", "bank")}
    pdq = random_hashes(np.random.default_rng(36), 1)[0].tobytes().hex()
    with TestClient(create_app(db=database, poll_interval=0.05)) as client:
        runtime = client.app.state.stanch  # type: ignore[attr-defined]
        assert isinstance(runtime.matcher, ShardedEngine)
        added = client.post("/v1/banks/ncii/entries", json={"pdq": pdq},
                            headers={"Authorization": f"Bearer {keys['bank']}"})
        assert added.status_code == 201, added.text
        match = {"Authorization": f"Bearer {keys['match']}"}
        answer = client.post("/v1/match", json={"pdq": pdq}, headers=match)
        assert answer.status_code == 200 and answer.json()["matched"], "matchable when the POST returned"
        ray.kill(runtime.matcher.actors[0], no_restart=True)
        # The kill is asynchronous: a lookup sent at once may still be answered by the shard.
        _until(lambda: _process(runtime.matcher.actors[0]) is None, "the killed shard still answers")
        refused = client.post("/v1/match", json={"pdq": pdq}, headers=match)
        assert refused.status_code == 503 and "index shard 0 of 2" in refused.json()["detail"]


def _process(actor: object) -> int | None:
    """The process id a shard actor answers with, or None while it does not answer."""
    import ray
    from ray.exceptions import GetTimeoutError, RayActorError

    try:
        return int(ray.get(actor.stats.remote(), timeout=5)["process"])  # type: ignore[attr-defined]
    except (RayActorError, GetTimeoutError):
        return None


def _until(condition: Callable[[], bool], failure: str) -> None:
    """Wait for ``condition`` (Ray kills and restarts actors asynchronously), at most two minutes."""
    deadline = time.monotonic() + 120
    while not condition():
        assert time.monotonic() < deadline, failure
        time.sleep(0.2)

