"""Pipeline messages show the figures they talk about."""

from __future__ import annotations

from types import SimpleNamespace

from azml2aks.pipeline import Pipeline
from azml2aks.results import ModelVersion


def version(v: str, value: float, aliases=()) -> ModelVersion:
    return ModelVersion(name="wine-model", version=v, run_id="r", job_name="j", metric_name="accuracy",
                        metric_value=value, source="s", aliases=aliases)


def test_the_does_not_beat_the_champion_warning_shows_both_scores():
    pipeline = Pipeline.__new__(Pipeline)  # only the message is under test: no backend, no work dir
    champion = version("3", 0.94, aliases=("champion",))
    pipeline.backend = SimpleNamespace(get_model=lambda name, alias=None: champion)
    message = pipeline._not_champion(version("4", 0.91), "champion")
    assert message.startswith("wine-model:4 (accuracy=0.9100) does not beat the champion wine-model:3 (accuracy=0.9400)")
