"""The contiguity check on its own: holes are re-read, never jumped over, given up only late."""

from __future__ import annotations

from cchc_runtime.offsets import Contiguity
from hypothesis import given
from hypothesis import strategies as st

TP = ("t", 0)


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_contiguous_fetches_are_handed_on_whole() -> None:
    c = Contiguity()
    c.expect(TP, 5)
    v = c.check(TP, [5, 6, 7])
    assert (v.start, v.stop, v.seek_to) == (0, 3, None)
    assert c.expected[TP] == 8


def test_a_fetch_beyond_the_expected_offset_is_not_accepted_and_re_read() -> None:
    c = Contiguity()
    c.expect(TP, 343)
    v = c.check(TP, [346, 347])  # 343–345 stored later than 346 (the broker's race)
    assert (v.start, v.stop, v.seek_to) == (0, 0, 343)
    assert v.new_gap is not None
    assert v.new_gap.size == 3
    assert c.expected[TP] == 343
    # The re-read finds them: handed on in order, counted as recovered, the hole closed.
    v = c.check(TP, [343, 344, 345, 346, 347])
    assert (v.start, v.stop, v.seek_to, v.recovered) == (0, 5, None, 3)
    assert c.gaps == {}
    assert c.expected[TP] == 348


def test_a_hole_inside_a_fetch_cuts_it() -> None:
    c = Contiguity()
    c.expect(TP, 10)
    v = c.check(TP, [10, 11, 14, 15])
    assert (v.start, v.stop, v.seek_to) == (0, 2, 12)
    assert c.expected[TP] == 12


def test_a_hole_that_shrinks_counts_every_record_once() -> None:
    c = Contiguity()
    c.expect(TP, 0)
    assert c.check(TP, [3]).seek_to == 0
    v = c.check(TP, [0, 2, 3])  # 1 still missing
    assert (v.stop, v.seek_to, v.recovered, v.new_gap) == (1, 1, 1, None)
    v = c.check(TP, [1, 2, 3])
    assert (v.stop, v.seek_to, v.recovered) == (3, None, 2)
    assert c.gaps == {}


def test_re_reads_back_off_and_a_hole_is_given_up_only_after_the_bound() -> None:
    clock = Clock()
    c = Contiguity(give_up_after_s=30, first_retry_s=0.02, max_retry_s=0.5, clock=clock)
    c.expect(TP, 0)
    waits = []
    for _ in range(8):
        v = c.check(TP, [2, 3])
        assert v.stop == 0
        assert v.seek_to == 0
        waits.append(v.retry_in_s)
        clock.now += 1
    assert waits[0] == 0.02
    assert waits == sorted(waits)
    assert max(waits) == 0.5
    clock.now = 30.5
    v = c.check(TP, [2, 3])
    assert (v.start, v.stop, v.seek_to, v.given_up) == (0, 2, None, 2)
    assert v.gave_up is not None
    assert (v.gave_up.expected, v.gave_up.found) == (0, 2)
    assert c.expected[TP] == 4


def test_records_already_handed_on_are_never_handed_twice() -> None:
    c = Contiguity()
    c.expect(TP, 5)
    v = c.check(TP, [3, 4, 5, 6])
    assert (v.start, v.stop) == (2, 4)


def test_a_seek_by_the_runtime_moves_the_expectation_and_drops_the_hole() -> None:
    c = Contiguity()
    c.expect(TP, 0)
    c.check(TP, [4])
    c.expect(TP, 7)
    assert c.gaps == {}
    assert c.check(TP, [7]).stop == 1


@given(
    st.lists(st.integers(min_value=1, max_value=6), min_size=1, max_size=40),
    st.randoms(use_true_random=False),
)
def test_any_store_order_hands_every_offset_once_in_order(sizes: list[int], rnd: object) -> None:
    """Batches of the given sizes are reserved in order but stored in a random order; a tailing
    reader fetching whatever is stored from its position sees every offset exactly once."""
    import random

    assert isinstance(rnd, random.Random)
    batches, offset = [], 0
    for size in sizes:
        batches.append(list(range(offset, offset + size)))
        offset += size
    store_order = batches[:]
    rnd.shuffle(store_order)
    stored: set[int] = set()
    c = Contiguity(give_up_after_s=1e9)
    c.expect(TP, 0)
    position, handed = 0, []
    for batch in [*store_order, []]:
        stored.update(batch)
        for _ in range(3):  # a few fetches between stores
            fetched = sorted(o for o in stored if o >= position)
            v = c.check(TP, fetched)
            handed += fetched[v.start : v.stop]
            position = (
                v.seek_to if v.seek_to is not None else (fetched[-1] + 1 if fetched else position)
            )
    assert handed == list(range(offset))
