"""Threads that write at the same time share one write, and each learns the outcome of its own."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

from search.group_commit import GroupCommit


def held_first_write(fail_on=None):
    """(write, writes, first_started, release): a write function whose first call blocks until
    `release` is set, recording every batch it gets and raising OSError for a batch holding `fail_on`."""
    first_started, release = threading.Event(), threading.Event()
    writes: list[list] = []

    def write(items: list) -> None:
        writes.append(items)
        if len(writes) == 1:
            first_started.set()
            assert release.wait(10)
        if fail_on is not None and fail_on in items:
            raise OSError("disk full")

    return write, writes, first_started, release


def test_callers_arriving_during_a_write_share_the_next_one():
    write, writes, first_started, release = held_first_write()
    group: GroupCommit[int] = GroupCommit(write)
    with ThreadPoolExecutor(max_workers=6) as pool:
        leader = pool.submit(group.submit, [0])
        assert first_started.wait(10)
        followers = [pool.submit(group.submit, [n, n + 100]) for n in range(1, 6)]
        while len(group._waiting) < 5:  # all five queued behind the running write
            threading.Event().wait(0.01)
        release.set()
        for future in [leader, *followers]:
            assert future.result(10) is None

    assert writes[0] == [0]
    assert len(writes) == 2, "the five callers that waited were written together"
    assert sorted(writes[1]) == sorted(x for n in range(1, 6) for x in (n, n + 100))


def test_a_failed_write_raises_in_every_caller_it_held_and_not_in_later_ones():
    write, calls, first_started, release = held_first_write(fail_on="bad")
    group: GroupCommit[str] = GroupCommit(write)
    with ThreadPoolExecutor(max_workers=3) as pool:
        leader = pool.submit(group.submit, ["first"])
        assert first_started.wait(10)
        held = [pool.submit(group.submit, ["bad"]), pool.submit(group.submit, ["good"])]
        while len(group._waiting) < 2:
            threading.Event().wait(0.01)
        release.set()
        assert leader.result(10) is None
        for future in held:
            with pytest.raises(OSError, match="disk full"):
                future.result(10)
    group.submit(["after"])
    assert calls[-1] == ["after"]


def test_a_lone_caller_writes_at_once():
    writes: list[list[int]] = []
    group: GroupCommit[int] = GroupCommit(writes.append)
    group.submit([1, 2])
    group.submit([3])
    assert writes == [[1, 2], [3]]
