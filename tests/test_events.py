"""events.number: figures in human lines never show Python's None or exponent notation."""

from __future__ import annotations

import pytest

from azml2aks.events import number


@pytest.mark.parametrize("value, shown", [(None, "-"), (1000.0, "1000"), (1234.56, "1234.6"), (0.91234, "0.912"),
                                          (12.5, "12.5"), (3, "3"), (500.0, "500")])
def test_figures_are_shown_without_none_or_exponents(value, shown):
    assert number(value) == shown


def test_a_gate_line_with_a_threshold_of_a_thousand_shows_1000():
    from azml2aks.rollout import format_step

    line = format_step({"phase": "probe", "percent": 10, "verdict": "pass",
                        "gates": [{"gate": "p99_ms", "value": 812.0, "threshold": 1000.0, "status": "pass"},
                                  {"gate": "metric", "value": None, "threshold": 0.9, "status": "skipped"}]})
    assert "p99_ms 812/1000 pass" in line and "metric -/0.9 skipped" in line
    assert "e+" not in line and "None" not in line
