"""``ganbench list`` and ``ganbench show``."""

from __future__ import annotations

import json
from pathlib import Path

import click

from ganbench.catalog import REGISTRIES
from ganbench.cli import cli, handle_errors

KINDS = (*REGISTRIES, "axes")


@cli.command(name="list")
@click.argument("kind", type=click.Choice(KINDS), required=False)
@click.option("--pattern", default="*", show_default=True, help="Only names matching this shell pattern.")
def list_(kind: str | None, pattern: str) -> None:
    """List what is registered, and the recipe axes a variant can set (every kind when KIND is omitted)."""
    for k in [kind] if kind else KINDS:
        if k == "axes":
            _list_axes(pattern)
            continue
        registry = REGISTRIES[k]
        names = registry.list(pattern)
        if k == "variants":
            names = [f"{n:<18} {registry.get(n).description}" for n in names]
        elif k == "datasets":  # a dataset with its own budget says so: a suite without train.steps trains that long
            from ganbench.recipes.variants import DEFAULT_STEPS

            names = [f"{n:<18} {DEFAULT_STEPS[n]} steps unless the suite sets train.steps" if n in DEFAULT_STEPS
                     else n for n in names]
        click.echo(f"{k}:")
        for name in names:
            click.echo(f"  {name}")


def _default_budgets() -> str:
    """'grid 6000 steps': the datasets that train their own steps where a suite sets none."""
    from ganbench.recipes.variants import DEFAULT_STEPS

    return ", ".join(f"{n} {s} steps" for n, s in DEFAULT_STEPS.items())


def _list_axes(pattern: str) -> None:
    """Each axis of a recipe, its default (the registry's base recipe) and the values it takes."""
    from fnmatch import fnmatch

    from ganbench.recipes.variants import AXES, Recipe

    base = Recipe()
    click.echo("axes (set on a variant in a suite; default, then values):")
    for axis, values in AXES.items():
        if fnmatch(axis, pattern):
            default = getattr(base, axis)
            shown = "off" if default in (None, (), {}) else default
            click.echo(f"  {axis:<23}{str(shown):<15}{values}")


@cli.command()
@click.argument("name")
@click.option("--suite", "suite_file", type=click.Path(path_type=Path),
              help="Resolve NAME as this suite file composes it (a variant defined or overridden there).")
@handle_errors
def show(name: str, suite_file: Path | None) -> None:
    """Print the resolved recipe of variant NAME."""
    from ganbench.catalog import VARIANTS
    from ganbench.recipes.variants import RATE_AXES, TUNED
    from ganbench.spec.suite import TrainConfig

    if suite_file is None:
        recipe = VARIANTS.get(name)
        per_data = {dataset: settings[name] for dataset, settings in TUNED.items() if name in settings}
        click.echo(f"# {name}: the registry's recipe; a suite's own (tuned, swept) is --suite SUITE.yaml", err=True)
        if per_data:
            click.echo("# under \"tuned\": the setting it trains with on that dataset unless a suite sets any of "
                       f"{', '.join(RATE_AXES)}; other axes a suite sets win over the setting's", err=True)
        budgets = _default_budgets()
        if budgets:
            click.echo(f"# budget: {budgets}; elsewhere train.steps (default {TrainConfig.steps}), which a suite that "
                       "sets it applies everywhere", err=True)
    else:
        from ganbench.errors import GanbenchError, did_you_mean
        from ganbench.spec.suite import load_suite

        suite = load_suite(suite_file)
        recipes = dict(suite.variants)
        if name not in recipes:
            raise GanbenchError(f"no variant {name!r} in {suite_file}{did_you_mean(name, recipes)}")
        recipe = recipes[name]
        per_data = {}
        for dataset in suite.datasets:  # where the data's tuned rates or budget replace the recipe's or the suite's
            on, steps = suite.recipe(name, dataset), suite.budget(dataset).steps
            if on != recipe:  # the axes tuned there (the description says so too: not shown twice)
                per_data[dataset.name] = {axis: value for axis, value in on.to_dict().items()
                                          if axis != "description" and value != getattr(recipe, axis)}
            if steps != suite.train.steps:
                per_data.setdefault(dataset.name, {})["steps"] = steps
    shown = {"name": name, **recipe.to_dict()}
    if per_data:
        shown["tuned"] = per_data
    click.echo(json.dumps(shown, indent=2))
