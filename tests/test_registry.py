import pytest

from ganbench.catalog import REGISTRIES
from ganbench.errors import GanbenchError
from ganbench.recipes.variants import VARIANTS
from ganbench.registry import Registry


def test_duplicate_names_are_errors():
    reg = Registry("thing")
    reg.add("a", 1)
    with pytest.raises(ValueError, match="duplicate thing name 'a'"):
        reg.add("a", 2)


def test_unknown_name_suggests_close_matches():
    with pytest.raises(GanbenchError, match=r"unknown variant 'lsgn' at variants\[0\]; did you mean 'lsgan'"):
        VARIANTS.get("lsgn", "variants[0]")


def test_unknown_name_without_close_match_lists_choices():
    with pytest.raises(GanbenchError, match="choose from: .*wgan-gp"):
        VARIANTS.get("zzzzzz")


def test_pattern_listing():
    assert VARIANTS.list("wgan*") == ["wgan", "wgan-gp"]
    assert {"vanilla", "nonsaturating", "lsgan", "wgan", "wgan-gp", "sngan", "hinge", "label-smoothing"} <= set(
        VARIANTS.list())


def test_register_decorator():
    reg = Registry("thing")

    @reg.register("f")
    def f():
        return 1

    assert reg.get("f") is f and "f" in reg and list(reg) == ["f"]


def test_the_catalog_names_exactly_what_its_modules_register():
    """`ganbench list` reads names from the catalog without importing them: it must not drift from the code."""
    for registry in REGISTRIES.values():
        registry.load_builtins()
        registered = {name for name, obj in registry._items.items()
                      if getattr(obj, "__module__", "ganbench").startswith("ganbench")}
        assert registered == set(registry._builtins), registry.kind


def test_a_builtin_is_imported_on_first_lookup():
    registry = Registry("thing", {"tool": "json"})
    assert registry.list() == ["tool"] and "tool" in registry
    with pytest.raises(KeyError):  # json registers nothing here: the catalog lied
        registry.get("tool")
