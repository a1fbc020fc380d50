"""A bounded fuzz run: mutated return sheets never crash the reader (the long run: python -m bench.fuzz)."""

from __future__ import annotations

from bench.fuzz import CRASH, fuzz


def test_mutated_workbooks_always_get_a_coded_answer():
    result = fuzz(400, seed=20261128)
    assert result["inputs"] == 400
    assert result["crashes"] == 0, result["crash_details"]
    outcomes = result["outcomes"]
    assert CRASH not in outcomes
    # the mutations really reach different failure modes, and some inputs still read cleanly
    assert {"corrupt_file", "truncated_file", "unsafe_xml"} <= set(outcomes)
    assert outcomes.get("accepted", 0) > 0
