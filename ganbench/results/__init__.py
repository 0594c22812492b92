"""Where results are stored: the on-disk layout of a suite's runs, written only through ``store`` and read back
as frames through ``frames`` (``load_results``)."""

from ganbench.results.frames import Results, load_results

__all__ = ["Results", "load_results"]
