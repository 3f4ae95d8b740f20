"""Arrival schedules and sweep spacing."""

import itertools

import pytest

from bench.load import arrivals, sweep_rates


def test_constant_arrivals_are_evenly_spaced_and_bounded():
    a = arrivals(10.0, "constant", 1.0, 1000, 1)
    assert len(a) == 10
    assert a[0] == 0.0
    assert a[1] - a[0] == pytest.approx(0.1)
    assert len(arrivals(10.0, "constant", 100.0, 25, 1)) == 25


def test_poisson_arrivals_seeded_and_rate_close():
    a = arrivals(200.0, "poisson", 50.0, 100000, 7)
    assert a == arrivals(200.0, "poisson", 50.0, 100000, 7)
    assert len(a) / 50.0 == pytest.approx(200.0, rel=0.05)
    gaps = [y - x for x, y in itertools.pairwise(a)]
    mean = sum(gaps) / len(gaps)
    var = sum((g - mean) ** 2 for g in gaps) / len(gaps)
    assert var**0.5 / mean == pytest.approx(1.0, rel=0.1)  # exponential: CV = 1


def test_sweep_rates_strictly_between():
    assert sweep_rates(2.0, 10.0, 3) == [4.0, 6.0, 8.0]
    assert sweep_rates(2.0, 10.0, 0) == []
