"""Comparison reports: statistics across seeds, plots and samples, as self-contained HTML and Markdown."""
