"""Every registry, and the built-in names in each with the module that registers them.

Kept free of torch so that listing names, validating a suite's spelling and ``--help`` answer without
loading the numerical code: a built-in is imported the first time it is looked up. A test checks that the
modules named here register exactly these names.
"""

from __future__ import annotations

from ganbench.registry import Registry


def _builtins(module: str, *names: str) -> dict[str, str]:
    return dict.fromkeys(names, module)


VARIANTS = Registry("variant", _builtins(
    "ganbench.recipes.variants", "vanilla", "nonsaturating", "lsgan", "wgan", "wgan-gp", "sngan", "hinge", "rsgan",
    "ragan", "dragan", "r3gan", "label-smoothing"))
OBJECTIVES = Registry("objective", _builtins(
    "ganbench.recipes.objectives", "minimax", "nonsaturating", "least_squares", "wasserstein", "hinge", "relativistic",
    "relativistic_average"))
REGULARIZERS = Registry("regularizer", _builtins(
    "ganbench.recipes.regularizers", "gradient_penalty", "dragan", "r1", "r2", "lecam", "bcr", "weight_clip"))
DATASETS = Registry("dataset", {
    **_builtins("ganbench.data.toy", "ring", "grid", "overlapping_gaussians"),
    **_builtins("ganbench.data.dirac", "dirac"),
    **_builtins("ganbench.data.images", "digits", "stacked_digits", "mnist", "stacked_mnist", "fashion_mnist",
                "cifar10", "image_folder")})
ARCHITECTURES = Registry("architecture", {
    **_builtins("ganbench.models.mlp", "mlp", "maxout"),
    **_builtins("ganbench.models.dcgan", "dcgan"),
    **_builtins("ganbench.models.resnet", "resnet"),
    **_builtins("ganbench.models.linear", "linear")})
COLLECTORS = Registry("collector", {
    **_builtins("ganbench.metrics.training", "losses", "d_outputs", "grad_norms", "param_norms",
                 "spectral_norms", "g_conditioning"),
    **_builtins("ganbench.metrics.fid", "fid", "kid"),
    **_builtins("ganbench.metrics.distances", "sliced_wasserstein"),
    **_builtins("ganbench.metrics.manifold", "precision_recall", "density_coverage"),
    **_builtins("ganbench.metrics.inception", "inception_score"),
    **_builtins("ganbench.metrics.modes", "mode_coverage"),
    **_builtins("ganbench.metrics.conditional", "conditional"),
    **_builtins("ganbench.metrics.orbit", "dirac"),
    **_builtins("ganbench.metrics.overfitting", "d_heldout", "memorization")})
DETECTORS = Registry("detector", _builtins(
    "ganbench.diagnostics.detectors", "d_overpowering", "mode_collapse", "divergence", "generator_stalled",
    "far_from_data", "d_pinned", "g_no_gradient", "oscillation", "nonconvergence", "d_overfitting", "memorization",
    "past_best", "label_ignored", "class_collapse", "class_diversity"))
EXECUTORS = Registry("executor", _builtins("ganbench.execution.executors", "sequential", "processes", "ray"))
LOGGERS = Registry("logger", _builtins("ganbench.training.loggers", "tensorboard", "wandb", "mlflow"))

# kind (as `ganbench list` names it) -> registry
REGISTRIES = {"variants": VARIANTS, "objectives": OBJECTIVES, "regularizers": REGULARIZERS, "datasets": DATASETS,
              "architectures": ARCHITECTURES, "collectors": COLLECTORS, "detectors": DETECTORS,
              "executors": EXECUTORS, "loggers": LOGGERS}
