"""The report: statistics checked against hand computation, and the HTML/Markdown from a real small suite."""

import math

import numpy as np
import pandas as pd
import pytest

from ganbench.evidence import statistics as stats
from ganbench.execution.runner import run_suite
from ganbench.metrics import metric_catalog
from ganbench.report import tables
from ganbench.spec.suite import parse_suite
from tests.conftest import tiny_suite


def test_iqm_by_hand():
    # 8 values: the middle 50 % is the 3rd..6th sorted values
    assert stats.iqm(np.array([100, 1, 2, 3, 4, 5, 6, -50])) == pytest.approx((2 + 3 + 4 + 5) / 4)


def test_bootstrap_ci_brackets_the_statistic_and_is_deterministic():
    x = np.array([0.1, 0.4, 0.35, 0.8, 0.5, 0.45])
    low, high = stats.bootstrap_ci(x)
    assert low <= stats.iqm(x) <= high and (low, high) == stats.bootstrap_ci(x)
    assert all(math.isnan(v) for v in stats.bootstrap_ci(np.array([1.0])))
    assert stats.bootstrap_ci(np.array([2.0, 2.0])) == (2.0, 2.0)


def test_probability_of_improvement_by_hand():
    a, b = np.array([1.0, 3.0]), np.array([2.0, 2.0, 3.0])
    # pairs: (1,2)L (1,2)L (1,3)L (3,2)W (3,2)W (3,3)T -> (2 + 0.5) / 6
    assert stats.probability_of_improvement(a, b, higher_is_better=True) == pytest.approx(2.5 / 6)
    assert stats.probability_of_improvement(a, b, higher_is_better=False) == pytest.approx(3.5 / 6)


def test_holm_by_hand():
    # sorted p: 0.01*3=0.03, 0.02*2=0.04, 0.04*1=0.04 (monotone)
    assert stats.holm([0.04, 0.01, 0.02]) == pytest.approx([0.04, 0.03, 0.04])
    assert stats.holm([0.5, 0.6]) == pytest.approx([1.0, 1.0])


def test_min_attainable_p():
    assert stats.min_attainable_p(2, 2) == pytest.approx(2 / 6)
    assert stats.min_attainable_p(5, 5) == pytest.approx(2 / 252)


def _fixed_results():
    final = pd.DataFrame({"variant": ["a"] * 4 + ["b"] * 4, "dataset": ["ring", "ring", "grid", "grid"] * 2,
                          "seed": [0, 1] * 4, "mode_coverage": [1.0, 0.5, 0.2, 0.4, 0.1, 0.2, 0.0, 0.0]})
    return final


def test_cell_stats_by_hand():
    cells = tables.cell_stats(_fixed_results(), ["mode_coverage"]).set_index(["variant", "dataset"])
    row = cells.loc[("a", "ring")]
    assert row.n == 2 and row["mean"] == 0.75 and row["median"] == 0.75 and row.iqm == 0.75


def test_ranking_pools_datasets_and_sorts_best_first():
    final = _fixed_results()
    rates = pd.DataFrame({"variant": ["a", "a", "b", "b"], "dataset": ["ring", "grid"] * 2, "seeds": [2] * 4,
                          "collapse_rate": [0, 0, 1, 0.5], "instability_rate": [0, 0, 1, 0.5],
                          "d_overpowering_rate": [0] * 4, "mode_collapse_rate": [0, 0, 1, 0.5],
                          "divergence_rate": [0] * 4, "time_to_collapse": [np.nan, np.nan, 500, 750],
                          "failed": [0] * 4})
    rank = tables.ranking(final, rates, metric_catalog())
    assert list(rank.variant) == ["a", "b"]
    assert rank.loc[0, "mode_coverage"] == pytest.approx(stats.iqm(np.array([1.0, 0.5, 0.2, 0.4])))
    assert rank.loc[1, "collapse_rate"] == pytest.approx(0.75) and rank.loc[1, "time_to_collapse"] == 625
    assert rank.loc[1, "summary"].startswith("collapses in 75% of seeds")


def test_beat_matrix_averages_over_datasets():
    beats = tables.beat_matrix(_fixed_results(), "mode_coverage", True).set_index(["a", "b"])
    # ring: a={1, .5} vs b={.1, .2}: 4/4 wins; grid: a={.2, .4} vs b={0, 0}: 4/4 wins
    assert beats.loc[("a", "b"), "p"] == 1.0 and beats.loc[("b", "a"), "p"] == 0.0


@pytest.fixture(scope="module")
def small_results(tmp_path_factory):
    out = tmp_path_factory.mktemp("res")
    doc = tiny_suite(name="rep", variants=["vanilla", "lsgan", "wgan-gp"], seeds=2)
    return run_suite(parse_suite(doc), out=out).root


def test_report_html_and_markdown(small_results, invoke, tmp_path):
    result = invoke("report", small_results, "--baseline", small_results)
    assert result.exit_code == 0, result.output
    html = (small_results / "report" / "index.html").read_text()
    md = (small_results / "report" / "report.md").read_text()
    for variant in ("vanilla", "lsgan", "wgan-gp"):
        assert variant in html and variant in md
    assert html.count("data:image/png;base64,") >= 5 and "src='img/" not in html  # self-contained
    for name in ("samples-0", "quality", "discriminator", "gradients", "final"):
        assert (small_results / "report" / "img" / f"{name}.png").exists() and f"img/{name}.png" in md
    for text in ("Ranking", "IQM", "95% CI", "P(A beats B)", "Holm", "Small samples", "Run environment",
                 "Against the baseline", "no clear change", "torch"):
        assert text in html, text


def test_the_environment_table_shows_every_runs_versions_not_the_first_ones(small_results, tmp_path):
    """Runs trained on other versions in one results directory: the table names each version and its runs."""
    import json
    import shutil

    from ganbench.report.render import build_report
    from ganbench.results import load_results

    root = shutil.copytree(small_results, tmp_path / "rep")
    paths = sorted((root / "runs").glob("*/config.json"))
    config = json.loads(paths[-1].read_text())
    config["versions"]["torch"] = "0.0.0-other"
    paths[-1].write_text(json.dumps(config))
    table = next(frame for kind, frame in build_report(load_results(root)).blocks
                 if kind == "table" and list(frame.columns) == ["what", "value"])
    torch_row = table.set_index("what").loc["torch", "value"]
    assert f"0.0.0-other (1 of {len(paths)} runs)" in torch_row
    assert f"({len(paths) - 1} of {len(paths)} runs)" in torch_row


def test_report_escapes_user_strings(small_results):
    from ganbench.report.render import Report

    report = Report("<script>alert(1)</script>")
    report.text("<b>variant</b>")
    page = report.html()
    assert "<script>alert" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page


def test_report_on_a_directory_that_is_not_results(invoke, tmp_path):
    result = invoke("report", tmp_path)
    assert result.exit_code == 2 and "not a ganbench results directory" in result.output
    missing = invoke("report", tmp_path / "nope")  # a typo is told apart from a wrong directory
    assert missing.exit_code == 2 and "nope does not exist" in missing.output


def test_the_dot_plot_marks_seeds_that_collapsed_or_did_not_converge(monkeypatch):
    from ganbench.report import plots

    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"png")
    final = pd.DataFrame({"variant": ["a", "a", "b", "b"], "dataset": "ring", "mode_coverage": [1.0, 0.5, 0.9, 0.1],
                          "state": ["healthy", "collapsed", "healthy", "not converged"]})
    plots.final_distributions(final, ["mode_coverage"], {"a": "C0", "b": "C1"})
    (ax,) = figures[0].axes
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["collapsed", "not converged"]
    marked = [c for c in ax.collections if c.get_label() in ("collapsed", "not converged")]
    assert [list(c.get_offsets()[:, 0]) for c in marked] == [[0.5], [0.1]]


def test_the_dot_plot_is_the_same_picture_whatever_the_global_random_state():
    """The same results draw the same dot plot byte for byte: its jitter comes from no global random state."""
    from ganbench.report import plots

    final = pd.DataFrame({"variant": ["a", "a", "b", "b"], "dataset": "ring", "mode_coverage": [1.0, 0.5, 0.9, 0.1],
                          "state": "healthy"})
    pictures = []
    for seed in (0, 1):
        np.random.seed(seed)
        pictures.append(plots.final_distributions(final, ["mode_coverage"], {"a": "C0", "b": "C1"}))
    assert pictures[0] == pictures[1]


def test_the_report_opens_with_two_sentences_in_plain_words():
    import math

    import pandas as pd

    from ganbench.report.tables import headline

    def row(variant, rank, collapse=0.0, at=math.nan, not_converged=0):
        return {"variant": variant, "seeds": 4, "rank": rank, "ranked_by": "mode_coverage", "ranked_value": 0.9,
                "collapse_rate": collapse, "time_to_collapse": at, "not_converged": not_converged,
                "divergence_rate": 0.0, "failed": 0}
    tied = pd.DataFrame([row("a", 1), row("b", 1), row("c", 3, collapse=0.25, at=1250.0, not_converged=1)])
    assert headline(tied) == (
        "a, b share first place on mode_coverage: no test separates them at 4 seeds; the other 1 rank below them. "
        "Seeds that went wrong: c collapsed in 1 (at step 1250) and did not converge in 1 of 4 seeds.")
    alone = pd.DataFrame([row("a", 1), row("b", 2)])
    assert headline(alone).startswith("a ranks first on mode_coverage (IQM 0.9)")
    assert headline(alone).endswith("Every seed of every variant converged without a collapse.")
    unconverged = pd.DataFrame([{**row("a", 1, not_converged=4), "ranked_by": "sliced_wasserstein",
                                 "ranked_value": 1.62}])
    assert headline(unconverged).startswith(  # the metric it ranked, not the suite's key one
        "a: sliced_wasserstein IQM 1.62 over 4 seeds.")
    single = pd.DataFrame([row("a", 1, collapse=0.25, at=1000.0)])  # a suite of one variant compares nothing
    assert headline(single) == (
        "a: mode_coverage IQM 0.9 over 4 seeds. Seeds that went wrong: a collapsed in 1 (at step 1000) of 4 seeds.")


def test_every_picture_of_a_two_variant_report_names_both_variants(tmp_path, monkeypatch):
    """Each figure says which variant is which without the source: a legend entry, a panel title or an axis
    label per variant; every curve panel labels its y axis."""
    from ganbench.execution.runner import run_suite
    from ganbench.report import plots
    from ganbench.report.render import build_report
    from ganbench.results import load_results
    from ganbench.spec.suite import parse_suite

    figures = []
    monkeypatch.setattr(plots, "_png", lambda fig: figures.append(fig) or b"\\x89PNG")
    root = run_suite(parse_suite(tiny_suite(variants=["nonsaturating", "hinge"], seeds=2)), out=tmp_path).root
    build_report(load_results(root))
    assert len(figures) >= 5
    for fig in figures:
        fig.canvas.draw()  # categorical tick labels are filled in at drawing
        texts = [t.get_text() for legend in fig.legends for t in legend.get_texts()]
        for ax in fig.axes:
            texts += [ax.get_title(), ax.get_xlabel(), ax.get_ylabel()]
            texts += [t.get_text() for t in ax.get_xticklabels() + ax.get_yticklabels()]
            if ax.get_legend() is not None:
                texts += [t.get_text() for t in ax.get_legend().get_texts()]
            if ax.get_xlabel() == "step":  # a curve: its y axis says what it shows
                assert ax.get_ylabel(), ax.get_title()
        named = " ".join(texts)
        assert "nonsaturating" in named and "hinge" in named, fig.axes[0].get_title()


def test_every_runs_samples_are_one_click_away_wherever_the_report_is_written(small_results, tmp_path):
    import re
    import shutil

    from ganbench.report.render import write_report

    root = shutil.copytree(small_results, tmp_path / "rep")
    for out in (None, tmp_path / "elsewhere" / "page"):
        written = write_report(root, out)
        copied = shutil.copytree(written, tmp_path / "copies" / written.parent.name)  # mailed, or a CI artifact
        for folder in (written, copied):
            links = re.findall(r"\]\((img/seeds/[^)]+\.png)\)", (folder / "report.md").read_text())
            assert len(links) == 6 and all((folder / link).exists() for link in links)


def test_the_ranking_shows_the_value_each_rank_stands_on_beside_the_rank(small_results):
    """The number a variant was ranked by sits in the fifth column, in view without scrolling, with its metric's
    name; not-converged variants (a 5-step run) are ranked on sliced Wasserstein and say so."""
    from ganbench.report.render import build_report
    from ganbench.results import load_results

    markdown = build_report(load_results(small_results)).markdown()
    header = next(line for line in markdown.splitlines() if line.startswith("| rank |"))
    assert header.split(" | ")[4] == "ranked on (IQM)"
    rows = [line for line in markdown.splitlines() if line.startswith("| 1")]
    assert rows and all(" | sliced_wasserstein " in row for row in rows)
    assert "ranked by" not in header


def test_the_gallery_shows_the_seeds_that_went_wrong_beside_the_lowest(small_results, tmp_path):
    """The report showed only each variant's lowest seed; a collapsed seed's picture was a link away. Now the
    seeds that went wrong follow it, captioned with their state."""
    import json
    import shutil

    from ganbench.report.render import build_report
    from ganbench.results import load_results

    root = shutil.copytree(small_results, tmp_path / "rep")
    (run,) = [p for p in (root / "runs").iterdir() if p.name.startswith("vanilla_ring_s1_")]
    event = {"kind": "mode_collapse", "step": 5, "evidence": {"collapse": "to one point"}}
    (run / "events.jsonl").write_text(json.dumps(event) + "\n")
    markdown = build_report(load_results(root)).markdown()
    assert "vanilla · ring · seed 1 (collapsed)" in markdown and "vanilla · ring · seed 0" in markdown


def test_a_report_read_through_the_summaries_or_the_read_cache_equals_one_read_from_the_csvs(small_results,
                                                                                              tmp_path):
    import shutil

    from ganbench.report.render import write_report
    from ganbench.results.store import READ_CACHE, SUMMARY

    copy = tmp_path / "rep"
    shutil.copytree(small_results, copy)  # a copy: its read cache no longer matches the runs' files
    shutil.rmtree(copy / "report", ignore_errors=True)
    through = (write_report(copy, tmp_path / "a") / "index.html").read_text()  # the runs' Arrow summaries
    cached = (write_report(copy, tmp_path / "c") / "index.html").read_text()  # the read cache that one wrote
    for summary in [*copy.glob(f"runs/*/{SUMMARY}"), copy / READ_CACHE]:
        summary.unlink()
    assert (write_report(copy, tmp_path / "b") / "index.html").read_text() == through == cached
