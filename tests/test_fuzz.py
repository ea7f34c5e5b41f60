"""Property: whatever the text, `check` accepts it or refuses it with a located
`SpecError` that renders; nothing else escapes. A few thousand cases here;
`python bench/fuzz.py` runs a long campaign."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings

from spec_strategies import SEEDS, hostile_specs, verdict


@settings(max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hostile_specs)
def test_check_accepts_or_refuses_with_a_located_error(text):
    assert verdict(text) is None


def test_the_seed_specs_themselves_are_accepted():
    assert SEEDS and all(verdict(text) is None for text in SEEDS)
