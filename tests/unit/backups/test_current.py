"""The current-version cache's generation rules, pure: no database, generations given by hand."""

from __future__ import annotations

import datetime as dt

from phonehome.backups.current import CurrentCache
from phonehome.backups.versions import Current

T = dt.datetime(2026, 11, 25, tzinfo=dt.UTC)
A1 = Current("a", 1, "1" * 64, 1, T)
A2 = Current("a", 2, "2" * 64, 1, T)
B1 = Current("b", 1, "3" * 64, 1, T)


def _cache_at(number: int) -> CurrentCache:
    cache = CurrentCache()
    cache.loaded((number, "elsewhere"), "a", A1)
    cache.loaded((number, "elsewhere"), "b", B1)
    return cache


def test_a_lookup_misses_until_loaded() -> None:
    cache = CurrentCache()
    assert cache.lookup("a") == (False, None)
    cache.loaded((7, None), "a", None)
    assert cache.lookup("a") == (True, None)  # "no such file" is cached too
    assert cache.generation == 7


def test_our_commit_applies_and_keeps_the_rest() -> None:
    cache = _cache_at(7)
    cache.expect(8, "us-1", {"a": A2})
    assert cache.lookup("a") == (True, A1)  # not before the commit is known
    cache.committed(8)
    assert (cache.generation, cache.lookup("a"), cache.lookup("b")) == (8, (True, A2), (True, B1))


def test_reading_our_token_back_proves_the_commit() -> None:
    cache = _cache_at(7)
    cache.expect(8, "us-1", {"a": A2})
    cache.seen((8, "us-1"))
    assert (cache.generation, cache.lookup("a"), cache.lookup("b")) == (8, (True, A2), (True, B1))
    cache.committed(8)  # the writer's own report, later, changes nothing
    assert cache.lookup("a") == (True, A2)


def test_someone_elses_generation_empties_the_cache() -> None:
    cache = _cache_at(7)
    cache.seen((7, "elsewhere"))
    assert cache.lookup("a") == (True, A1)
    cache.seen((8, "the-cli"))
    assert (cache.generation, cache.lookup("a"), cache.lookup("b")) == (8, (False, None), (False, None))


def test_same_number_other_token_is_not_ours() -> None:
    cache = _cache_at(7)
    cache.expect(8, "us-1", {"a": A2})
    cache.abandon(8)  # our commit failed; another process then wrote generation 8
    cache.seen((8, "the-cli"))
    assert cache.lookup("a") == (False, None)
    cache.expect(9, "us-2", {"a": A2})
    cache.seen((9, "the-cli"))
    assert cache.lookup("a") == (False, None)


def test_after_a_gap_only_our_own_names_are_known() -> None:
    cache = _cache_at(7)  # generation 8 was someone else's
    cache.expect(9, "us-1", {"a": A2})
    cache.committed(9)
    assert (cache.generation, cache.lookup("a"), cache.lookup("b")) == (9, (True, A2), (False, None))


def test_a_load_overtaken_by_a_later_commit_is_dropped() -> None:
    cache = _cache_at(7)
    cache.expect(8, "us-1", {"b": None})
    cache.committed(8)
    cache.loaded((7, "elsewhere"), "b", B1)  # read before our commit, answered after it
    assert cache.lookup("b") == (True, None)
