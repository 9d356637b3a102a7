"""The ``Traffic`` value: an endpoint's live split, checked once and computed in one place. PURE.

Azure's rules (and ours) live here and nowhere else: percentages are whole numbers 0..100;
a live split sums to 100, or to 0 for an endpoint with no traffic; deployment names compare
case-insensitively (the service lowercases traffic keys). Everything that reads, changes or
parses a split goes through this type: the engine's ladder (:meth:`Traffic.at`), the
``traffic``/``promote``/``rollback`` verbs (:meth:`Traffic.parse`, :meth:`Traffic.assign`,
:func:`rollback_target`), and both backends.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from typing import Any


class Traffic(Mapping[str, int]):
    """An immutable ``{deployment: percent}`` split. ``Traffic({"blue": 100})``."""

    __slots__ = ("_split",)

    def __init__(self, split: Mapping[str, int] | Iterable[tuple[str, int]] = (), *, check: bool = True) -> None:
        items = dict(split)
        if check:
            check_split(items)
        self._split = items

    # Mapping ------------------------------------------------------------------------------
    def __getitem__(self, colour: str) -> int:
        return self._split[colour]

    def __iter__(self) -> Iterator[str]:
        return iter(self._split)

    def __len__(self) -> int:
        return len(self._split)

    def __repr__(self) -> str:
        return f"Traffic({self._split})"

    def __str__(self) -> str:
        return " ".join(f"{c}={p}" for c, p in self._split.items()) or "(empty)"

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Mapping):
            return self.live == {c: p for c, p in other.items() if p}
        return NotImplemented

    def __hash__(self) -> int:
        return hash(tuple(sorted(self.live.items())))

    def to_dict(self) -> dict[str, int]:
        return dict(self._split)

    # Reading ------------------------------------------------------------------------------
    @property
    def live(self) -> dict[str, int]:
        """The deployments that receive traffic."""
        return {c: p for c, p in self._split.items() if p > 0}

    @property
    def live_colour(self) -> str | None:
        """The colour with the most live traffic (the first such, on a tie), if any."""
        live = self.live
        return max(live, key=live.__getitem__) if live else None

    @property
    def in_progress(self) -> bool:
        """True while two or more deployments share the traffic (a ladder not yet settled)."""
        return len(self.live) > 1

    def get_ci(self, colour: str, default: int = 0) -> int:
        """The percent of ``colour``, comparing names case-insensitively as the service does."""
        want = colour.lower()
        return next((p for c, p in self._split.items() if c.lower() == want), default)

    # Computing ----------------------------------------------------------------------------
    def at(self, colour: str, percent: int, previous: str | None) -> Traffic:
        """The split giving ``colour`` ``percent`` and ``previous`` the rest; others go to 0."""
        new = {c: 0 for c in self._split}
        new[colour] = percent
        if previous is not None:
            new[previous] = 100 - percent
        return Traffic(new)

    def assign(self, assignments: Mapping[str, int], deployments: Iterable[str]) -> Traffic:
        """``assignments`` over ``deployments`` (names not given go to 0), checked.

        Raises ValueError naming an unknown deployment or a split that does not sum to 100."""
        check_split(dict(assignments))
        names = list(deployments)
        by_lower = {d.lower(): d for d in names}
        unknown = sorted(c for c in assignments if c.lower() not in by_lower)
        if unknown:
            raise ValueError(f"no deployment {unknown[0]!r}; deployments: {', '.join(names) or 'none'}")
        given = {by_lower[c.lower()]: p for c, p in assignments.items()}
        return Traffic({d: given.get(d, 0) for d in names})

    @staticmethod
    def parse(items: Iterable[str]) -> dict[str, int]:
        """``["blue=90", "green=10"]`` -> ``{"blue": 90, "green": 10}``; ValueError when malformed."""
        out: dict[str, int] = {}
        for item in items:
            colour, sep, value = item.partition("=")
            if not sep or not colour or not value.strip().isdigit():
                raise ValueError(f"traffic assignment {item!r} is not COLOUR=PERCENT (e.g. blue=90 green=10)")
            if colour.lower() in {c.lower() for c in out}:
                raise ValueError(f"traffic names {colour!r} twice")
            out[colour] = int(value)
        return out


def check_split(traffic: Mapping[str, Any]) -> None:
    """Raise ValueError unless ``traffic`` is a valid live split (sums to 100, or all 0)."""
    if any(isinstance(p, bool) or not isinstance(p, int) or p < 0 or p > 100 for p in traffic.values()):
        raise ValueError(f"traffic percentages must be whole numbers in 0..100; got {dict(traffic)}")
    total = sum(traffic.values())
    if total not in (0, 100):
        raise ValueError(f"live traffic must sum to 100 (or 0); got {total} in {dict(traffic)}")


def choose_colour(traffic: Mapping[str, int], colours: Iterable[str]) -> str:
    """The colour to deploy: the first configured colour without live traffic."""
    colours = list(colours)
    split = Traffic(traffic, check=False)
    for c in colours:
        if split.get_ci(c) == 0:
            return c
    raise ValueError(f"every colour in {colours} has live traffic ({dict(traffic)}); promote or roll back first")


def promote_target(traffic: Mapping[str, int]) -> str:
    """The colour a bare ``promote`` gives 100 %: the minority colour of a split in progress."""
    live = Traffic(traffic, check=False).live
    if len(live) != 2:
        raise ValueError("no split in progress to promote; name the deployment")
    return min(live, key=live.__getitem__)


def rollback_target(traffic: Mapping[str, int], deployments: Iterable[str],
                    last_promotion: tuple[str, str] | None) -> tuple[str | None, str | None]:
    """(colour to give 100 %, or None with a note) for a bare ``rollback``.

    After a promotion recorded as (new, previous): back to ``previous`` once; a second call
    says it already serves. Otherwise the majority of a split in progress, or the single idle
    colour. ValueError when the split says nothing about where to go."""
    live = Traffic(traffic, check=False).live
    names = list(deployments)
    if last_promotion and len(live) == 1:
        new, previous = last_promotion
        if previous in live:
            return None, f"{previous} already serves 100 %"
        if new in live and previous in names:
            return previous, None
    idle = [c for c in names if c not in live]
    if len(live) == 2 and len(set(live.values())) == 2:
        return max(live, key=live.__getitem__), None
    if len(live) == 1 and len(idle) == 1:
        return idle[0], None
    raise ValueError(f"cannot tell what to roll back to from traffic {dict(traffic)}; name the deployment")
