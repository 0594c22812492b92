"""The package's tree is its pipeline: each layer imports only the layers below it (lazy imports included),
so what judges results never reaches back into what produced them."""

import ast
import subprocess
import sys
from pathlib import Path

import ganbench

# bottom to top; a module may import its own layer and those below
LAYERS = [
    ("core", ["ganbench.errors", "ganbench.validate", "ganbench.registry", "ganbench.catalog", "ganbench.meta",
              "ganbench.versions", "ganbench.arithmetic", "ganbench.compat"]),
    ("building blocks", ["ganbench.data", "ganbench.models", "ganbench.metrics", "ganbench.diagnostics",
                         "ganbench.recipes"]),
    ("results", ["ganbench.results"]),
    ("evidence", ["ganbench.evidence"]),
    ("spec", ["ganbench.spec"]),
    ("training", ["ganbench.training"]),
    ("execution", ["ganbench.execution"]),
    ("report", ["ganbench.report"]),
    ("cli", ["ganbench.cli", "ganbench.__main__"]),
]
ROOT = Path(ganbench.__file__).parent


def layer(module: str) -> int | None:
    for rank, (_, prefixes) in enumerate(LAYERS):
        if any(module == p or module.startswith(p + ".") for p in prefixes):
            return rank
    return None


def modules():
    for path in sorted(ROOT.rglob("*.py")):
        parts = path.relative_to(ROOT.parent).with_suffix("").parts
        name = ".".join(parts[:-1] if parts[-1] == "__init__" else parts)
        if name != "ganbench":  # the package's lazy public API names one function of each layer
            yield name, path


def imports(path: Path):
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
            yield node.lineno, next((n for n in reversed(names) if layer(n) is not None), node.module)
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield node.lineno, alias.name


def test_every_module_has_a_layer():
    assert [name for name, _ in modules() if layer(name) is None] == []


def test_no_import_runs_up_a_layer():
    upward = []
    for name, path in modules():
        own = layer(name)
        for line, imported in imports(path):
            rank = layer(imported)
            if rank is not None and rank > own:
                upward.append(f"{path.relative_to(ROOT.parent)}:{line} ({LAYERS[own][0]}) imports {imported} "
                              f"({LAYERS[rank][0]})")
    assert upward == []


def test_what_reads_results_loads_no_torch():
    """Checking results in CI or rendering a report starts without the numerical code."""
    code = ("import sys, ganbench.results, ganbench.evidence.gate, ganbench.evidence.selection, "
            "ganbench.report.render, ganbench.cli.gate_output; print(sorted(m for m in sys.modules if m in "
            "('torch', 'torchvision', 'torchmetrics')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"
