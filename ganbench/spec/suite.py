"""The suite file: YAML -> validated ``Suite`` -> one frozen, fully resolved ``RunSpec`` per variant x dataset x seed.

Every error names the YAML path of the bad value (``variants[1].d_lr``) and, for names, the close matches.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from ganbench import arithmetic
from ganbench import validate as v
from ganbench.errors import GanbenchError
from ganbench.evidence.gate import Rules, parse_rules
from ganbench.evidence.reproduction import Reference, parse_references
from ganbench.meta import make_run_id
from ganbench.spec.sweep import Sweep, Trial, parse_sweep
from ganbench.spec.sweep import expand as expand_trials

if TYPE_CHECKING:  # the registries import torch: a malformed suite is reported without loading it
    from ganbench.recipes.variants import Recipe

SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")
SUITE_KEYS = ("name", "datasets", "architecture", "variants", "seeds", "train", "device", "deterministic",
              "collectors", "detectors", "loggers", "check", "reference", "sweep")
DEVICE = re.compile(r"^(auto|cpu|cuda|cuda:\d+|mps)$")


@dataclass(frozen=True)
class TrainConfig:
    steps: int = 2000  # generator updates
    batch_size: int = 256
    eval_every: int = 250  # generator steps between evaluations (the last step is always evaluated)
    log_every: int = 10  # per-step metrics are kept every log_every steps
    checkpoint_every: int = 500
    z_dim: int = 64
    eval_samples: int = 2500  # fixed-latent samples per evaluation (2500 as in VEEGAN/PacGAN on 2D data)
    ensemble: bool = False  # train the seeds of each variant together, parameters stacked (ganbench.training.ensemble)
    stop_on_divergence: bool = True  # end a run whose loss passes the divergence bound, as for a non-finite one
    threads: int = 1  # intra-op threads the run trains with, under every executor: reductions split by thread
    keep_best: str | None = None  # an evaluation metric: keep the evaluated G where it was best (best.pt)


@dataclass(frozen=True)
class Component:
    """A registered name with its parameters: a dataset or an architecture."""

    name: str
    params: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RunSpec:
    """One run, fully resolved: everything downstream reads it, nothing mutates it."""

    suite: str
    variant: str
    recipe: Recipe
    dataset: Component
    architecture: Component
    seed: int
    train: TrainConfig
    device: str = "auto"
    deterministic: bool = True
    collectors: tuple[str, ...] | None = None  # None: the dataset's defaults
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)  # threshold overrides per detector
    loggers: tuple[str, ...] = ()  # live views (tensorboard): they change nothing a run computes

    def to_dict(self) -> dict[str, Any]:
        d = dataclasses.asdict(self)
        d["collectors"] = list(self.collectors) if self.collectors is not None else None
        return d

    @functools.cached_property  # hashing the resolved spec is not free, and the runner asks often
    def run_id(self) -> str:
        """Readable and stable: ``<variant>_<dataset>_s<seed>_<digest of result_fields>``, so a rerun finds and
        skips what is done, and only a change that changes results makes a new run."""
        return make_run_id(self.variant, self.dataset.name, self.seed, result_fields(self))


# Fields that cannot change what a run computes: names and prose. The suite's and the variant's names still
# place a run (its directory, its id's readable prefix), so two suites never share results.
NOT_RESULTS = {"suite": None, "variant": None, "recipe": {"description"}, "loggers": None}
# Fields added after run ids existed, with the value every earlier run had: left out of the digest at that
# value, so adding a field keeps stored results. A new field that changes results belongs here.
ADDED_LATER = {"train": {"ensemble": False, "threads": 1, "keep_best": None},
               "recipe": {"instance_noise": 0.0, "lr_schedule": "constant", "lr_decay_start": 0.0, "g_ema": None,
                          "g_ema_start": 0, "augment": (), "augment_p": 1.0, "ada_target": None,
                          "g_ema_rampup": None, "regularizer_schedule": "constant", "regularizer_weight_end": 0.0,
                          "pack": 1, "minibatch_std": 0, "feature_matching": False,
                          "unroll": 0, "conditioning": "none", "conditional_bn": False, "ac_weight": 1.0,
                          "g_labels": "true"}}


def result_fields(spec: RunSpec) -> dict[str, Any]:
    """What a run's id is derived from: every field of the resolved spec that can change its metrics, samples
    or events (recipe, dataset, architecture, seed, training schedule, device, determinism, collectors,
    detector thresholds) -- not the suite's or variant's name, nor a recipe's description."""
    fields = spec.to_dict()
    for key, inner in NOT_RESULTS.items():
        if inner is None:
            del fields[key]
        else:
            fields[key] = {k: x for k, x in fields[key].items() if k not in inner}
    for key, defaults in ADDED_LATER.items():
        fields[key] = {k: x for k, x in fields[key].items() if k not in defaults or x != defaults[k]}
    if arithmetic.label() != arithmetic.PORTABLE:
        fields["arithmetic"] = arithmetic.label()
    return fields


@dataclass(frozen=True)
class Suite:
    name: str
    datasets: tuple[Component, ...]
    architecture: Component | None
    variants: tuple[tuple[str, Recipe], ...]
    seeds: tuple[int, ...]
    train: TrainConfig
    device: str = "auto"
    deterministic: bool = True
    collectors: tuple[str, ...] | None = None
    detectors: dict[str, dict[str, Any]] = field(default_factory=dict)
    loggers: tuple[str, ...] = ()
    check: Rules = field(default_factory=Rules)  # the gate's rules (ganbench check)
    reference: tuple[Reference, ...] = ()  # published numbers the suite is held against (the report's table)
    source: str = ""  # the YAML text as given
    sweep: Sweep | None = None  # equal-budget tuning: expand() gives the trials, winners() the scored runs
    # variant -> (the registered variant it builds on, the axes the suite set): what recipe() tunes per dataset
    origins: dict[str, tuple[str, frozenset[str]]] = field(default_factory=dict)
    steps_given: bool = True  # whether the suite set train.steps; if not, recipes.variants.DEFAULT_STEPS applies

    def recipe(self, variant: str, dataset: Component) -> Recipe:
        """The recipe ``variant`` trains with on ``dataset``: its registered base's setting tuned there, where the
        data has one (``recipes.variants.TUNED``) and the suite set no rate."""
        return self._on(dataset, variant, dict(self.variants)[variant])

    def _on(self, dataset: Component, variant: str, recipe: Recipe, settings: frozenset[str] = frozenset()) -> Recipe:
        """``recipe`` (``variant``'s, with ``settings`` set on top) as ``tuned`` makes it for ``dataset``."""
        from ganbench.recipes.variants import tuned

        if variant not in self.origins:  # a Suite built in code, not parsed: its recipes as given
            return recipe
        base, given = self.origins[variant]
        return tuned(recipe, base, given | settings, dataset.name)

    def budget(self, dataset: Component) -> TrainConfig:
        """The training schedule on ``dataset``: the suite's, with the dataset's default steps where the suite
        set none (the grid needs more than the suite default to learn)."""
        from ganbench.recipes.variants import DEFAULT_STEPS

        steps = DEFAULT_STEPS.get(dataset.name)
        return self.train if self.steps_given or steps is None else dataclasses.replace(self.train, steps=steps)

    def _specs(self, recipes, seeds, device: str | None) -> list[RunSpec]:
        """``recipes``: (variant, dataset) -> (variant name, recipe) pairs, one per variant."""
        specs = []
        for dataset in self.datasets:
            arch = self.architecture or Component(**_default_architecture(dataset.name))
            train = self.budget(dataset)
            for variant, recipe in recipes(dataset):
                for seed in seeds:
                    specs.append(RunSpec(self.name, variant, recipe, dataset, arch, seed, train,
                                         device or self.device, self.deterministic, self.collectors,
                                         self.detectors, self.loggers))
        return specs

    def expand(self, device: str | None = None) -> list[RunSpec]:
        """One RunSpec per variant x dataset x seed; ``device`` overrides the suite's. With a sweep: one per
        trial x dataset x selection seed (the winners' runs come from ``winners``)."""
        if self.sweep is None:
            return self._specs(lambda d: [(name, self.recipe(name, d)) for name, _ in self.variants], self.seeds,
                               device)
        return self._specs(lambda d: [(t.name, self.trial_recipe(t, d)) for t in self.trials()],
                           self.sweep.selection_seeds, device)

    def trials(self) -> list[Trial]:
        return expand_trials(self.sweep, [name for name, _ in self.variants]) if self.sweep else []

    def trial_recipe(self, trial: Trial, dataset: Component) -> Recipe:
        from ganbench.recipes.variants import compose

        recipe = compose(dict(self.variants)[trial.variant], trial.settings, f"sweep ({trial.name})")
        recipe = self._on(dataset, trial.variant, recipe, frozenset(trial.settings))
        return dataclasses.replace(recipe, description=f"{trial.name}: trial {trial.index} of {trial.variant}")

    def winners(self, best: dict[str, Trial], device: str | None = None) -> list[RunSpec]:
        """Each variant's best trial under the variant's own name, on the (fresh) reporting seeds."""
        def recipes(dataset):
            return [(name, dataclasses.replace(self.trial_recipe(best[name], dataset),
                                               description=f"best of {self.sweep.trials} trials: {best[name].name}"))
                    for name, _ in self.variants]
        return self._specs(recipes, self.seeds, device)


def _default_architecture(dataset: str) -> dict[str, Any]:
    from ganbench.data import DATASETS

    arch = dict(DATASETS.get(dataset).default_architecture)
    return {"name": arch.pop("name"), "params": arch}


def safe_name(value: Any, where: str) -> str:
    """Names become directory names: letters, digits, '.', '_' and '-' only, so none escapes results/."""
    name = v.string(value, where)
    if not SAFE_NAME.match(name) or name in (".", ".."):
        raise GanbenchError(f"{where} {name!r} is not a safe name: use letters, digits, '.', '_', '-' "
                            "(at most 64, starting with a letter or digit)")
    return name


def _component(value: Any, where: str, registry) -> Component:
    """``name`` or ``{name: ..., **params}``."""
    if isinstance(value, str):
        registry.get(value, where)
        return Component(value)
    params = dict(v.mapping(value, where))
    if "name" not in params:
        raise GanbenchError(f"{where} needs a 'name'")
    name = v.string(params.pop("name"), f"{where}.name")
    registry.get(name, f"{where}.name")
    return Component(name, params)


def _variants(value: Any) -> tuple[tuple[tuple[str, Recipe], ...], dict[str, tuple[str, frozenset[str]]]]:
    """The variants' recipes by name, and each one's origin (its registered base, the axes the suite set)."""
    from ganbench.recipes.variants import VARIANTS, compose

    if not isinstance(value, list) or not value:
        raise GanbenchError("variants must be a non-empty list of variant names or {name, base, ...} mappings")
    out: dict[str, Recipe] = {}
    origins = {}
    for i, item in enumerate(value):
        where = f"variants[{i}]"
        if isinstance(item, str):
            name, recipe = item, VARIANTS.get(item, where)
            origin = (name, frozenset())
        else:
            item = dict(v.mapping(item, where))
            name = safe_name(item.pop("name", None), f"{where}.name")
            base_name = item.pop("base", None)
            if base_name is None and name not in VARIANTS:
                raise GanbenchError(f"{where} defines new variant {name!r}: give it a 'base' variant to build on")
            base = VARIANTS.get(v.string(base_name, f"{where}.base") if base_name else name,
                                f"{where}.base" if base_name else where)
            recipe = compose(base, item, where)
            origin = (base_name or name, frozenset(item))
            if item:  # the base's description no longer holds: say what the suite changed
                changed = ", ".join(f"{key}={value}" for key, value in item.items())
                recipe = dataclasses.replace(recipe, description=f"{base_name or name} with {changed} (the "
                                                                 f"registry's: {base.description})")
        if name in out:
            raise GanbenchError(f"{where}: variant {name!r} appears twice")
        out[name], origins[name] = recipe, origin
    return tuple(out.items()), origins


def _seeds(value: Any) -> tuple[int, ...]:
    if isinstance(value, list):
        if not value:
            raise GanbenchError("seeds must be a positive count or a non-empty list of integers")
        seeds = tuple(v.integer(s, f"seeds[{i}]", minimum=0) for i, s in enumerate(value))
        if len(set(seeds)) != len(seeds):
            raise GanbenchError("seeds: the list repeats a seed")
        return seeds
    return tuple(range(v.integer(value, "seeds", minimum=1)))


def _train(value: Any) -> TrainConfig:
    value = v.mapping(value, "train")
    names = [f.name for f in dataclasses.fields(TrainConfig)]
    v.check_keys(value, names, "train")
    flags = {f.name for f in dataclasses.fields(TrainConfig) if f.type == "bool"}
    def parse(key: str, x: Any) -> Any:  # flags are booleans, keep_best a metric's name, the rest counts >= 1
        if key in flags:
            return v.boolean(x, f"train.{key}")
        if key == "keep_best":
            return v.string(x, f"train.{key}")
        return v.integer(x, f"train.{key}", minimum=1)

    return TrainConfig(**{k: parse(k, x) for k, x in value.items()})


def parse_detectors(value: Any) -> dict[str, dict[str, Any]]:
    """Threshold overrides per detector; each value must have its threshold's type (int, float, or a name)."""
    from ganbench.diagnostics import DETECTORS, detector_params

    parsers = {int: v.integer, str: v.string}  # by the parameter's type; the rest are floats
    out = {}
    for name, params in v.mapping(value, "detectors").items():
        DETECTORS.get(name, "detectors")
        params = v.mapping(params, f"detectors.{name}")
        types = detector_params(name)
        v.check_keys(params, types, f"detectors.{name}")
        out[name] = {k: parsers.get(types[k], v.number)(x, f"detectors.{name}.{k}") for k, x in params.items()}
    return out


def _registered_names(value: Any, key: str) -> tuple[str, ...]:
    """A list of names registered under ``key`` (collectors, loggers)."""
    from ganbench.catalog import REGISTRIES

    if not isinstance(value, list):
        raise GanbenchError(f"{key} must be a list of {REGISTRIES[key].kind} names")
    for i, name in enumerate(value):
        REGISTRIES[key].get(v.string(name, f"{key}[{i}]"), f"{key}[{i}]")
    return tuple(value)


def parse_suite(doc: Any, source: str = "") -> Suite:
    """Validate a loaded YAML document into a Suite."""
    if doc is None:
        raise GanbenchError("the suite file is empty")
    doc = v.mapping(doc, "the suite file")
    v.check_keys(doc, SUITE_KEYS, "")
    for key in ("name", "datasets", "variants"):
        if key not in doc:
            raise GanbenchError(f"missing required key {key!r}")
    datasets = doc["datasets"]
    if not isinstance(datasets, list) or not datasets:
        raise GanbenchError("datasets must be a non-empty list of dataset names or {name: ...} mappings")
    arch = doc.get("architecture")
    device = v.string(doc.get("device", "auto"), "device")
    if not DEVICE.match(device):
        raise GanbenchError(f"device must be auto, cpu, cuda, cuda:N or mps; got {device!r}")
    from ganbench.data import DATASETS
    from ganbench.diagnostics import event_kinds
    from ganbench.metrics import metric_catalog
    from ganbench.models import ARCHITECTURES

    variants, origins = _variants(doc["variants"])
    suite = Suite(
        name=safe_name(doc["name"], "name"),
        datasets=tuple(_component(d, f"datasets[{i}]", DATASETS) for i, d in enumerate(datasets)),
        architecture=None if arch is None else _component(arch, "architecture", ARCHITECTURES),
        variants=variants,
        origins=origins,
        seeds=_seeds(doc.get("seeds", 1)),
        train=_train(doc.get("train", {})),
        steps_given="steps" in (doc.get("train") or {}),
        device=device,
        deterministic=v.boolean(doc.get("deterministic", True), "deterministic"),
        collectors=None if doc.get("collectors") is None else _registered_names(doc["collectors"], "collectors"),
        detectors=parse_detectors(doc.get("detectors", {})),
        loggers=_registered_names(doc.get("loggers", []), "loggers"),
        check=parse_rules(doc.get("check", {}), metric_catalog(), event_kinds()),
        source=source or yaml.safe_dump(doc, sort_keys=False),  # results always keep the suite they ran
    )
    if doc.get("sweep") is not None:
        suite = dataclasses.replace(suite, sweep=parse_sweep(doc["sweep"], [name for name, _ in suite.variants],
                                                             suite.seeds))
        trials = suite.trials()  # compose every trial now: a bad value is an input error, not a failed run
        for trial in trials:
            for dataset in suite.datasets:
                suite.trial_recipe(trial, dataset)
        if suite.sweep.metric is not None and suite.sweep.metric not in metric_catalog():
            raise GanbenchError(f"sweep.metric: no collector logs {suite.sweep.metric!r}")
        if len({t.name for t in trials} | {name for name, _ in suite.variants}) != len(trials) + len(suite.variants):
            raise GanbenchError("sweep: a trial's name equals another variant's; rename the variant")
    if doc.get("reference") is not None:
        suite = dataclasses.replace(suite, reference=parse_references(
            doc["reference"], {name for name, _ in suite.variants}, {d.name for d in suite.datasets},
            metric_catalog()))
    _check_components(suite)
    return suite


def _check_components(suite: Suite) -> None:
    """Build each dataset and architecture once, so bad parameters are input errors, not failed runs."""
    from ganbench.catalog import COLLECTORS, REGULARIZERS
    from ganbench.data import make_dataset
    from ganbench.metrics.base import default_collectors
    from ganbench.models import build_models

    for i, component in enumerate(suite.datasets):
        dataset = make_dataset(component.name, component.params, f"datasets[{i}]")
        arch = suite.architecture or Component(**_default_architecture(component.name))
        build_models(arch.name, arch.params, dataset.sample_shape, suite.train.z_dim, "none")
        for name, recipe in suite.variants:
            for penalty, _ in recipe.penalties():
                if REGULARIZERS.get(penalty).images_only and len(dataset.sample_shape) != 3:
                    raise GanbenchError(f"variant {name!r}: the {penalty} regularizer works on images, and "
                                        f"datasets[{i}] {component.name!r} has samples of shape "
                                        f"{dataset.sample_shape}")
            if recipe.minibatch_std and suite.train.batch_size % recipe.minibatch_std:
                raise GanbenchError(f"variant {name!r}: minibatch_std groups of {recipe.minibatch_std} samples must "
                                    f"divide train.batch_size ({suite.train.batch_size})")
            if recipe.conditional and not dataset.num_classes:
                raise GanbenchError(f"variant {name!r}: conditioning {recipe.conditioning} trains on class labels, and "
                                    f"datasets[{i}] {component.name!r} has none (labeled: ring, grid, digits, "
                                    "mnist, fashion_mnist, cifar10, image_folder with class subfolders)")
            if recipe.augment and len(dataset.sample_shape) != 3:
                raise GanbenchError(f"variant {name!r}: augment ({', '.join(recipe.augment)}) works on images, and "
                                    f"datasets[{i}] {component.name!r} has samples of shape {dataset.sample_shape}")
        conditional = [name for name, recipe in suite.variants if recipe.conditional]
        for name in suite.collectors or ():
            collector = COLLECTORS.get(name, "collectors")
            try:
                collector.check(dataset)
            except GanbenchError as exc:
                raise GanbenchError(f"collectors: {exc} (datasets[{i}] {component.name!r})") from None
            if conditional and collector.calls_networks:
                raise GanbenchError(f"collectors: {name} calls D or G without class labels, and variant "
                                    f"{conditional[0]!r} is conditional: leave {name} out of this suite")
        logged = suite.collectors or default_collectors(dataset, bool(conditional))
        _check_metric("train.keep_best", suite.train.keep_best, logged, i, component.name)
        _check_metric("detectors.past_best.metric", suite.detectors.get("past_best", {}).get("metric"), logged, i,
                      component.name, lower_is_better=True)


def _check_metric(where: str, metric: str | None, collectors: tuple[str, ...], i: int, dataset: str,
                  lower_is_better: bool = False) -> None:
    """``metric`` (``train.keep_best``, ``past_best``'s) is one that every evaluation logs and that has a better
    direction (the lower one, where the reader assumes it)."""
    from ganbench.meta import directed
    from ganbench.metrics.base import metric_catalog

    if metric is None:
        return
    catalog = metric_catalog(collectors)
    candidates = [m for m in directed(catalog) if not (lower_is_better and catalog[m].higher_is_better)]
    if metric not in candidates:
        raise GanbenchError(f"{where}: {metric!r} is not an evaluation metric of datasets[{i}] {dataset!r} "
                            f"with its collectors{' where lower is better' if lower_is_better else ''}; one of: "
                            f"{', '.join(candidates)}")


SHIPPED = Path(__file__).resolve().parent.parent / "suites"  # the repository's suites/, packaged with ganbench


def shipped_suites() -> list[str]:
    """The names of the suites that ship with ganbench (``quick``, ``papers/dirac``, ...), as suites/shipped.txt
    lists them: a user's own suite saved in that folder is not one."""
    lines = (SHIPPED / "shipped.txt").read_text(encoding="utf-8").splitlines()
    return sorted(line.strip() for line in lines if line.strip() and not line.startswith("#"))


def load_suite(path: str | Path) -> Suite:
    """Read and validate a suite file (``yaml.safe_load`` only: a suite never runs code). A name that is no file
    but a shipped suite's (``quick``, ``papers/dirac``) loads that suite."""
    path = Path(path)
    if not path.exists() and path.suffix in ("", ".yaml") and path.with_suffix("").as_posix() in shipped_suites():
        path = SHIPPED / path.with_suffix(".yaml")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        names = ", ".join(shipped_suites())
        raise GanbenchError(f"suite file not found: {path} (or give a shipped suite by name: {names})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise GanbenchError(f"cannot read suite file {path}: {exc}") from None
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise GanbenchError(f"{path}: invalid YAML{at}: {getattr(exc, 'problem', None) or exc}") from None
    return parse_suite(doc, text)
