"""How often runs that changed nothing show each event, or fail to learn: the null rates the gate tests a build
against when it has no baseline. A property of the detector, the data and the recipe -- measured, not assumed:

- by ``ganbench calibrate`` on the user's own suite or loop (its seed-only runs), pasted into the suite's
  ``check: null_rates:``;
- else by the shipped calibration (``null_rates.json`` beside this module, written by
  ``benchmarks/null_rates.py`` from the loop corpus's healthy runs and the shipped CI suite's seed-only runs);
- else the suite's flat ``event_rate``, which the verdict then calls assumed.

A rate is given as the counts it was measured from (k of n runs), so every verdict can state its uncertainty.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ganbench import validate as v
from ganbench.errors import GanbenchError

NOT_LEARNED = "not_learned"  # the learning rule's kind: runs that did not learn (also a baseline's count's key)
SHIPPED = Path(__file__).with_name("null_rates.json")


@dataclass(frozen=True)
class NullRate:
    k: int  # runs that showed it
    n: int  # runs measured
    source: str  # where the counts come from, as a verdict names it

    @property
    def rate(self) -> float:
        """The Jeffreys estimate (k + 1/2) / (n + 1): never 0, so a calibration that saw nothing still allows for
        what it may have missed."""
        return (self.k + 0.5) / (self.n + 1)

    def describe(self) -> str:
        """'1.2 % [0.3 %, 4.0 %] (2 of 160 runs; SOURCE)'."""
        from ganbench.evidence.statistics import clopper_pearson

        low, high = clopper_pearson(self.k, self.n)
        return f"{self.rate:.1%} [{low:.1%}, {high:.1%}] ({self.k} of {self.n} runs; {self.source})"


@dataclass(frozen=True)
class NullRates:
    """kind (an event kind, or ``not_learned``) -> (k, n), pooled and per dataset."""

    source: str
    counts: dict[str, tuple[int, int]] = field(default_factory=dict)
    datasets: dict[str, dict[str, tuple[int, int]]] = field(default_factory=dict)

    def get(self, kind: str, dataset: str) -> NullRate | None:
        """The rate measured on ``dataset`` where there is one, else the pooled one."""
        counts = self.datasets.get(dataset, {}).get(kind)
        where = f"{self.source}, on {dataset}"
        if counts is None:
            counts, where = self.counts.get(kind), self.source
        return None if counts is None else NullRate(*counts, where)

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "counts": {k: list(c) for k, c in sorted(self.counts.items())},
                "datasets": {d: {k: list(c) for k, c in sorted(kinds.items())}
                             for d, kinds in sorted(self.datasets.items())}}


def _counts(doc: Any, where: str) -> dict[str, tuple[int, int]]:
    out = {}
    for kind, pair in v.mapping(doc, where).items():
        if not (isinstance(pair, list) and len(pair) == 2 and all(isinstance(x, int) for x in pair)
                and 0 <= pair[0] <= pair[1] and pair[1] > 0):
            raise GanbenchError(f"{where}.{kind} must be [k, n]: k of n runs (0 <= k <= n, n > 0)")
        out[str(kind)] = (pair[0], pair[1])
    return out


def parse_null_rates(doc: Any, where: str = "check.null_rates") -> NullRates:
    """``{source: TEXT, counts: {kind: [k, n]}, datasets: {name: {kind: [k, n]}}}``, as ``calibrate`` prints it."""
    doc = v.mapping(doc, where)
    v.check_keys(doc, ("source", "counts", "datasets"), where)
    if "source" not in doc:
        raise GanbenchError(f"{where}.source is missing: say where the rates were measured")
    datasets = {str(name): _counts(kinds, f"{where}.datasets.{name}")
                for name, kinds in v.mapping(doc.get("datasets", {}), f"{where}.datasets").items()}
    return NullRates(v.string(doc["source"], f"{where}.source"), _counts(doc.get("counts", {}), f"{where}.counts"),
                     datasets)


@functools.cache
def shipped() -> NullRates:
    """The calibration shipped with ganbench (docs/gate.md says how it was measured)."""
    return parse_null_rates(json.loads(SHIPPED.read_text()), str(SHIPPED.name))


def measure(results, source: str, kinds: list[str]) -> NullRates:
    """The null rates of ``results`` (runs that changed nothing but their seed): for each event kind of ``kinds``
    and for not learning, how many runs showed it, pooled and per dataset."""
    from ganbench.evidence.states import not_learned

    unlearned = not_learned(results)
    with_event = {kind: set(results.events[results.events.kind == kind].run_id) for kind in kinds}

    def count(runs) -> dict[str, tuple[int, int]]:
        ids = set(runs.run_id)
        n = len(ids)
        found = {kind: (len(ids & seen), n) for kind, seen in with_event.items()}
        return {**found, NOT_LEARNED: (len(ids & unlearned), n)}

    done = results.runs[results.runs.status.isin(["completed", "diverged"])]
    return NullRates(source, count(done), {str(d): count(runs) for d, runs in done.groupby("dataset")})


def pooled(measured: list[NullRates], source: str) -> NullRates:
    """Several measurements' counts added up, pooled and per dataset, under one ``source``."""
    def add(into: dict[str, tuple[int, int]], counts: dict[str, tuple[int, int]]) -> None:
        for kind, (k, n) in counts.items():
            k0, n0 = into.get(kind, (0, 0))
            into[kind] = (k0 + k, n0 + n)

    total, datasets = {}, {}
    for rates in measured:
        add(total, rates.counts)
        for dataset, counts in rates.datasets.items():
            add(datasets.setdefault(dataset, {}), counts)
    return NullRates(source, total, datasets)
