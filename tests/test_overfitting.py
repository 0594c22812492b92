"""Held-out reals, D's overfitting, memorization, per-layer spectral norms and the best snapshot: each measure held
to a case whose answer is known."""

from __future__ import annotations

import math

import pandas as pd
import pytest
import torch
from torch import nn

from ganbench.data import make_dataset
from ganbench.diagnostics.base import run_detectors
from ganbench.errors import GanbenchError
from ganbench.metrics.base import EvalContext, StepRecord
from ganbench.metrics.overfitting import DHeldOut, Memorization, copy_statistics
from ganbench.metrics.training import SpectralNorms, layer_sigmas
from ganbench.recipes.objectives import make_objective
from ganbench.spec.suite import parse_suite

CPU = torch.device("cpu")


def _rows(image: torch.Tensor) -> set[bytes]:
    return {bytes(r) for r in (image.flatten(1) * 255).round().to(torch.uint8).numpy()}


def test_held_out_reals_never_enter_a_training_batch():
    tenth = make_dataset("digits", {"size": 16, "train_fraction": 0.1}, "datasets[0]")
    training = _rows(tenth.training_set())
    assert len(training) == len(tenth.pool)
    batches = _rows(tenth.sample(4000, torch.Generator().manual_seed(3)))
    held = _rows(tenth.held_out(4000, torch.Generator().manual_seed(4)))
    assert batches <= training and not held & _rows(tenth.images)  # the test split: no training image at all
    assert held <= _rows(tenth.test[0]) and tenth.describe()["held_out_images"] == len(tenth.test[0])
    with pytest.raises(GanbenchError, match="no held-out reals"):
        make_dataset("ring", {}).held_out(4, torch.Generator())
    with pytest.raises(GanbenchError, match="collector d_heldout .* Ring has none"):
        parse_suite({"name": "x", "datasets": ["ring"], "variants": ["hinge"], "collectors": ["d_heldout"]})


class LookupD(nn.Module):
    """+1 on the training images it memorized, -1 on anything else: a D that overfits completely."""

    def __init__(self, memorized: torch.Tensor) -> None:
        super().__init__()
        self.memorized = _rows(memorized)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.tensor([[1.0] if r in self.memorized else [-1.0] for r in
                             (bytes(b) for b in (x.flatten(1) * 255).round().to(torch.uint8).numpy())])


def _record(step: int, d: nn.Module, real_out: torch.Tensor, fake_out: torch.Tensor) -> StepRecord:
    return StepRecord(step, torch.tensor(0.0), torch.tensor(0.0), real_out, fake_out, d, nn.Linear(1, 1))


def test_d_heldout_reads_adas_heuristics_off_a_d_with_a_known_answer():
    tenth = make_dataset("digits", {"size": 16, "train_fraction": 0.1}, "datasets[0]")
    collector = DHeldOut(tenth, make_objective("nonsaturating", {}), CPU)
    real_out = torch.tensor([[2.0], [1.0], [0.5], [-1.0]])  # r_t = (1 + 1 + 1 - 1) / 4
    values = collector.on_step(_record(100, LookupD(tenth.training_set()), real_out, -torch.ones(4, 1)))
    assert {k: float(v) for k, v in values.items()} == {
        "d_overfit_rt": 0.5, "d_real_train": 1.0, "d_real_heldout": -1.0, "d_overfit_gap": 2.0, "d_overfit_rv": 1.0,
        "d_overfit_auc": 1.0}
    constant = collector.on_step(_record(100, nn.Sequential(nn.Flatten(), nn.Linear(256, 1)).requires_grad_(False)
                                         .apply(lambda m: isinstance(m, nn.Linear) and (
                                             nn.init.zeros_(m.weight), nn.init.ones_(m.bias))),
                                         real_out, -torch.ones(4, 1)))
    assert float(constant["d_overfit_gap"]) == 0 and float(constant["d_overfit_rv"]) == 0
    assert float(constant["d_overfit_auc"]) == 0.5  # every pair tied
    assert set(collector.on_step(_record(120, LookupD(tenth.training_set()), real_out, real_out))) == {"d_overfit_rt"}
    wgan = DHeldOut(tenth, make_objective("wasserstein", {}), CPU)  # no boundary at 0: no r_t
    assert "d_overfit_rt" not in wgan.on_step(_record(100, LookupD(tenth.training_set()), real_out, real_out))


def test_layer_spectral_norms_on_fixed_networks():
    linear = nn.Linear(2, 2, bias=False)
    with torch.no_grad():
        linear.weight.copy_(torch.tensor([[3.0, 0.0], [0.0, -2.0]]))
    conv = nn.Conv2d(1, 1, 1, bias=False)
    with torch.no_grad():
        conv.weight.fill_(0.5)
    net = nn.Sequential(linear, nn.ReLU(), nn.Flatten(), conv)
    assert {k: float(v) for k, v in layer_sigmas(net).items()} == pytest.approx({"0": 3.0, "3": 0.5})
    sn = nn.utils.parametrizations.spectral_norm(nn.Linear(8, 8))
    for _ in range(50):
        sn(torch.randn(4, 8))  # power iterations converge on the normalized weight's sigma, 1
    u = sn.parametrizations.weight[0]._u.clone()
    values = SpectralNorms(None, None, CPU).on_step(_record(50, sn, torch.zeros(1, 1), torch.zeros(1, 1)))
    assert float(values["sigma_d/"]) == pytest.approx(1.0, abs=1e-3) and float(values["sigma_g/"]) > 0
    assert torch.equal(sn.parametrizations.weight[0]._u, u) and sn.training  # reading it moved nothing
    assert SpectralNorms(None, None, CPU).on_step(_record(51, sn, torch.zeros(1, 1), torch.zeros(1, 1))) == {}


def test_copy_statistics_count_injected_copies_and_only_them():
    gen = torch.Generator().manual_seed(0)
    train, held, fresh = (torch.randn(n, 16, generator=gen, dtype=torch.float64) for n in (500, 400, 1000))
    copied = fresh.clone()
    copied[:100] = train[:100] + 1e-3 * torch.randn(100, 16, generator=gen, dtype=torch.float64)  # rho = 10 %
    healthy, copier = copy_statistics(fresh, held, train, 1 / 3), copy_statistics(copied, held, train, 1 / 3)
    assert healthy["copy_rate"] == copier["copy_rate_heldout"] == healthy["copy_rate_heldout"] == 0.0
    assert copier["copy_rate"] == 0.1 and copier["copy_p"] < 1e-10 and healthy["copy_p"] == 1.0
    assert copier["nn_distance_z"] < -3 < healthy["nn_distance_z"]


def _stream(**series: dict[int, float]) -> pd.DataFrame:
    return pd.DataFrame([(step, name, value) for name, values in series.items() for step, value in values.items()],
                        columns=["step", "name", "value"])


@pytest.mark.slow
def test_a_generator_returning_training_images_trips_memorization_and_fresh_digits_do_not():
    digits = make_dataset("digits", {"size": 16})
    collector = Memorization(digits, make_objective("nonsaturating", {}), CPU)
    gen = torch.Generator().manual_seed(5)
    train = digits.training_set()
    copier = (train[torch.randint(len(train), (1000,), generator=gen)] + 0.02 * torch.randn(
        1000, *train.shape[1:], generator=gen)).clamp(-1, 1)
    fresh = digits.held_out(1000, torch.Generator().manual_seed(6))  # real digits the run never saw
    rows = {}
    for step, fake in ((500, copier), (1000, copier), (1500, fresh), (2000, fresh)):
        rows[step] = collector.evaluate(EvalContext(step, fake, fake, digits))
    assert rows[500]["copy_rate"] > 0.9 and rows[500]["copy_p"] < 1e-10
    assert rows[1500]["copy_p"] > 0.01 and abs(rows[1500]["copy_rate"] - rows[1500]["copy_rate_heldout"]) < 0.02
    metrics = _stream(**{name: {step: row[name] for step, row in rows.items()} for name in rows[500]})
    events = run_detectors(metrics, only=["memorization"])
    assert [(e.kind, e.step) for e in events] == [("memorization", 500)]
    healthy = _stream(**{name: {s: rows[1500 + (s % 2) * 500][name] for s in (500, 1000, 1500, 2000)}
                         for name in rows[500]})
    assert run_detectors(healthy, only=["memorization"]) == []


def test_memorization_also_fires_on_samples_that_hug_the_training_set_as_a_whole():
    """13 training digits: the near-copy rates of generated and held-out samples matched, while the generated
    samples' distances to the training set fell far below fresh reals' (z -19)."""
    steps = (500, 1000, 1500, 2000)
    rows = dict(copy_rate=dict.fromkeys(steps, 0.05), copy_rate_heldout=dict.fromkeys(steps, 0.05),
                copy_p=dict.fromkeys(steps, 0.6), nn_distance_z=dict(zip(steps, (-1.0, -5.0, -9.0, -12.0))))
    (event,) = run_detectors(_stream(**rows), only=["memorization"])
    assert (event.step, event.evidence["tests"]) == (1000, ["distances"])
    rows["nn_distance_z"] = dict(zip(steps, (-1.0, -3.0, -2.5, -3.05)))  # above the 0.1 % quantile, -3.09
    assert run_detectors(_stream(**rows), only=["memorization"]) == []


def test_d_overfitting_fires_where_the_running_median_of_the_auc_crosses():
    auc = {50 * i: (0.5 if i <= 20 else 0.7) for i in range(1, 41)}
    auc[1300] = 0.4  # one low reading inside the rise: the median of 20 crosses one reading later
    events = run_detectors(_stream(d_overfit_auc=auc, d_overfit_gap={s: 2 * v for s, v in auc.items()}),
                           only=["d_overfitting"])
    assert [(e.kind, e.step) for e in events] == [("d_overfitting", 1550)]  # 10 of its 20 readings high
    assert events[0].evidence["window"] == [600, 1550] and events[0].evidence["d_overfit_auc_median"] == 0.6
    assert run_detectors(_stream(d_overfit_auc={50 * i: 0.59 for i in range(1, 60)}), only=["d_overfitting"]) == []
    assert run_detectors(_stream(d_overfit_rv={50 * i: 0.9 for i in range(1, 60)}), only=["d_overfitting"]) == []


def test_past_best_names_the_best_snapshot_and_ignores_noise_near_zero():
    fid = {250: 205.9, 500: 87.8, 750: 43.3, 1000: 37.0, 1250: 45.1, 1500: 51.0, 1750: 57.6}
    (event,) = run_detectors(_stream(fid=fid), only=["past_best"])
    # 45.1 is within a quarter of the best: the final streak of worse evaluations begins after it
    assert (event.step, event.evidence["best_step"], event.evidence["best"]) == (1500, 1000, 37.0)
    assert event.evidence["final"] == 57.6
    recovered = {**fid, 1750: 38.0}
    assert run_detectors(_stream(fid=recovered), only=["past_best"]) == []
    ring = {250: 5.0, 500: 0.5, 750: 0.02, 1000: 0.03, 1250: 0.035, 1500: 0.04}  # +100 % of a tiny best: noise
    assert run_detectors(_stream(fid=ring), only=["past_best"]) == []


@pytest.mark.slow
@pytest.mark.parametrize("ensemble", [False, True])
def test_the_overfitting_collectors_change_nothing_a_run_trains(tmp_path, monkeypatch, ensemble):
    """D and G read in eval mode without gradients, weights read without a power iteration: a spectral-normalized
    DCGAN (BatchNorm in G) trains the same bytes with or without them, alone or in a seed ensemble."""
    from ganbench.execution.runner import run_suite
    from ganbench.metrics.overfitting import DHeldOut as Held
    from ganbench.metrics.training import GConditioning
    from ganbench.results.store import read_metrics
    from tests.conftest import TINY_TRAIN, tiny_suite

    for collector in (Held, SpectralNorms, GConditioning):
        monkeypatch.setattr(collector, "every", 5)
    train = {**TINY_TRAIN, "steps": 20, "eval_every": 10, "checkpoint_every": 10, "z_dim": 8, "ensemble": ensemble}
    doc = tiny_suite(datasets=[{"name": "digits", "size": 16, "train_fraction": 0.1}], variants=["sngan"], seeds=2,
                     architecture={"name": "dcgan", "width": 8}, train=train, collectors=["losses", "d_outputs"])
    plain = run_suite(parse_suite(doc), out=tmp_path / "plain")
    doc = {**doc, "collectors": ["losses", "d_outputs", "d_heldout", "spectral_norms", "g_conditioning",
                                 "memorization"]}
    watched = run_suite(parse_suite(doc), out=tmp_path / "watched")
    for a, b in zip(plain.runs, watched.runs):
        before = read_metrics(plain.root / "runs" / a["id"] / "metrics.csv")
        after = read_metrics(watched.root / "runs" / b["id"] / "metrics.csv")
        assert after[after.name.isin(before.name.unique())].reset_index(drop=True).equals(before)
        names = set(after.name)
        assert {"d_overfit_rv", "d_overfit_rt", "copy_rate", "copy_p", "sigma_d_product",
                "g_jacobian_log_condition"} <= names
        assert any(n.startswith("sigma_d/") for n in names) and any(n.startswith("sigma_g/") for n in names)


def test_ada_is_allowed_only_where_the_sign_of_d_decides_and_its_p_stays_in_bounds():
    from ganbench.recipes.augment import AdaptiveP

    variant = {"name": "ada", "augment": ["translation"], "ada_target": 0.6}
    for base in ("nonsaturating", "vanilla", "hinge", "label-smoothing"):
        parse_suite({"name": "x", "datasets": ["digits"], "variants": [{**variant, "base": base}]})
    parse_suite({"name": "x", "datasets": ["digits"], "variants": [
        {**variant, "base": "lsgan", "objective_params": {"a": -1, "b": 1, "c": 0}}]})
    for base, objective in (("wgan-gp", "wasserstein"), ("lsgan", "least_squares"), ("rsgan", "relativistic"),
                            ("ragan", "relativistic_average")):
        with pytest.raises(GanbenchError, match=f"decides nothing under objective '{objective}'"):
            parse_suite({"name": "x", "datasets": ["digits"], "variants": [{**variant, "base": base}]})
    ada = AdaptiveP(0.6, batch_size=50000, interval=1)  # one move crosses the whole range
    for out in (torch.ones(1, 8, 1), torch.ones(1, 8, 1), -torch.ones(1, 8, 1), -torch.ones(1, 8, 1)):
        ada.observe(out)
        assert 0.0 <= float(ada.p) <= 1.0
    assert float(ada.p) == 0.0


def test_the_best_snapshot_table_names_each_cells_best_step_beside_its_final_value():
    from types import SimpleNamespace

    from ganbench.report.tables import best_snapshots

    fid = {"a": {500: 80.0, 1000: 37.0, 1500: 57.6}, "b": {500: 70.0, 1000: 40.0, 1500: 39.0}}
    metrics = pd.DataFrame([(run, step, "fid", v) for run, curve in fid.items() for step, v in curve.items()],
                           columns=["run_id", "step", "name", "value"])
    events = pd.DataFrame([{"run_id": "a", "kind": "past_best", "step": 1500}])
    final = pd.DataFrame({"run_id": ["a", "b"], "variant": "plain", "dataset": "digits", "fid": [57.6, 39.0]})
    (row,) = best_snapshots(SimpleNamespace(metrics=metrics, events=events), final, "fid", False).to_dict("records")
    assert row["best step"] == "1,250 (1,000–1,500)" and row["ended past best"] == "1 of 2"
    assert row["best"]["median"] == pytest.approx(38.0) and row["final"]["median"] == pytest.approx(48.3)


def test_g_conditioning_reads_the_jacobian_of_a_known_generator():
    from ganbench.metrics.training import GConditioning

    g = nn.Linear(3, 4, bias=False)
    with torch.no_grad():
        g.weight.copy_(torch.tensor([[4.0, 0, 0], [0, 2.0, 0], [0, 0, 0.5], [0, 0, 0]]))  # J = W everywhere
    record = StepRecord(250, torch.tensor(0.0), torch.tensor(0.0), torch.zeros(1, 1), torch.zeros(1, 1),
                        nn.Linear(1, 1), g, latent_shape=(3,))
    values = {k: float(v) for k, v in GConditioning(None, None, CPU).on_step(record).items()}
    assert values == pytest.approx({"g_jacobian_log_condition": math.log(8), "g_jacobian_log_sigma_max": math.log(4),
                                    "g_jacobian_log_sigma_min": math.log(0.5)})
    assert g.training and g.weight.grad is None
    assert GConditioning(None, None, CPU).on_step(StepRecord(251, *list(vars(record).values())[1:])) == {}


def test_the_stability_table_shows_the_events_that_happened_and_names_the_silent_detectors():
    from ganbench.report.render import Report, _events_section

    rates = pd.DataFrame({"variant": ["a", "b"], "dataset": "digits", "seeds": 4, "past_best_rate": [0.5, 0.0],
                          "memorization_rate": [0.0, 0.0], "collapse_rate": 0.0, "instability_rate": [0.5, 0.0],
                          "time_to_collapse": float("nan")})
    report = Report("t")
    _events_section(report, rates)
    text = report.markdown()
    assert "No run raised memorization." in text and "| past_best |" in text and "| memorization |" not in text



def _kept_best(out, ensemble: bool) -> dict[str, dict]:
    """Train two tiny seeds with ``train.keep_best: fid``; check each best.pt against its metrics.csv."""
    from ganbench.execution.runner import run_suite
    from ganbench.results.store import RunStore, read_metrics
    from tests.conftest import TINY_TRAIN, tiny_suite

    train = {**TINY_TRAIN, "steps": 60, "eval_every": 10, "keep_best": "fid", "ensemble": ensemble}
    done = run_suite(parse_suite(tiny_suite(variants=["hinge"], seeds=2, train=train)), out=out)
    store, kept = RunStore.at(done.root), {}
    for run in done.runs:
        fid = read_metrics(done.root / "runs" / run["id"] / "metrics.csv").query("name == 'fid'")
        best = store.load_checkpoint(run["id"], "best.pt")
        assert best["metric"] == "fid" and best["value"] == fid.value.min()
        assert best["step"] == int(fid.step[fid.value.idxmin()])  # the first of equal bests
        kept[run["seed"]] = best
    return kept


def test_keep_best_keeps_the_g_of_the_best_evaluation_alone_and_in_an_ensemble(tmp_path):
    alone, together = _kept_best(tmp_path / "alone", False), _kept_best(tmp_path / "together", True)
    assert alone.keys() == together.keys()
    assert any(10 < b["step"] < 60 for b in alone.values())  # a seed best neither first nor last: a real choice
    for seed, best in alone.items():  # members follow their separate runs to float32 rounding
        other = together[seed]
        assert best["step"] == other["step"] and best["g"].keys() == other["g"].keys()
        assert all(torch.allclose(best["g"][k], other["g"][k], rtol=1e-4, atol=1e-5) for k in best["g"])


def test_keep_best_names_an_evaluation_metric_and_changes_the_run_id():
    from tests.conftest import TINY_TRAIN, tiny_suite

    with pytest.raises(GanbenchError, match=r"train.keep_best: 'loss_d' is not an evaluation metric .* fid"):
        parse_suite(tiny_suite(train={**TINY_TRAIN, "keep_best": "loss_d"}))
    plain, kept = (parse_suite(tiny_suite(train={**TINY_TRAIN, **extra})).expand()[0].run_id
                   for extra in ({}, {"keep_best": "fid"}))
    assert plain != kept


def test_the_report_names_the_kept_metric_else_past_bests_else_the_primary():
    from types import SimpleNamespace

    from ganbench.metrics.base import metric_catalog
    from ganbench.report.render import best_metric

    catalog = metric_catalog()
    final = pd.DataFrame({"run_id": ["a", "b"], "fid": [57.6, 39.0], "precision": [0.5, 0.6]})
    keep = lambda *m: {r: {"spec": {"train": {"keep_best": x}}} for r, x in zip("ab", m)}  # noqa: E731
    assert best_metric(SimpleNamespace(configs=keep("precision", "precision")), final, catalog) == ("precision", True)
    assert best_metric(SimpleNamespace(configs=keep("precision", None)), final, catalog) == ("fid", False)
    assert best_metric(SimpleNamespace(configs={}), final.drop(columns="fid"), catalog)[1] is False
    final = final.assign(sliced_wasserstein=[0.2, 0.3])
    past = {r: {"spec": {"detectors": {"past_best": {"metric": "sliced_wasserstein"}}}} for r in "ab"}
    assert best_metric(SimpleNamespace(configs=past), final, catalog) == ("sliced_wasserstein", False)


def test_a_suite_sets_past_bests_metric_by_name_and_only_a_lower_is_better_evaluation_metric():
    """past_best reads its metric as lower-is-better: a suite may name another such metric, never a loss or a
    metric where higher is better (it would call a run that improved past its best)."""
    from tests.conftest import tiny_suite

    suite = parse_suite(tiny_suite(detectors={"past_best": {"metric": "sliced_wasserstein", "patience": 3}}))
    assert suite.expand()[0].detectors == {"past_best": {"metric": "sliced_wasserstein", "patience": 3}}
    for metric in ("loss_d", "mode_coverage"):
        with pytest.raises(GanbenchError, match=rf"detectors.past_best.metric: '{metric}' is not an evaluation "
                                                r"metric .* where lower is better; one of: .*fid"):
            parse_suite(tiny_suite(detectors={"past_best": {"metric": metric}}))
    with pytest.raises(GanbenchError, match="detectors.past_best.metric must be a non-empty string"):
        parse_suite(tiny_suite(detectors={"past_best": {"metric": 3}}))


def test_a_resumed_run_drops_a_best_snapshot_from_the_steps_it_trains_again(tmp_path):
    from ganbench.results.store import RunStore

    store = RunStore(tmp_path, "s")
    for step, kept in ((30, False), (20, True)):
        store.save_checkpoint("r", {"step": step, "g": {}}, "best.pt")
        store.forget_best_after("r", 20)
        assert (store.run_dir("r") / "best.pt").exists() == kept


def test_keep_best_through_an_interruption_keeps_the_same_snapshot(tmp_path):
    from ganbench.execution.runner import run_suite
    from ganbench.results.store import RunStore
    from tests.conftest import TINY_TRAIN, StopAt, tiny_suite

    suite = parse_suite(tiny_suite(variants=["hinge"], train={**TINY_TRAIN, "steps": 60, "eval_every": 10,
                                                              "keep_best": "fid"}))
    whole = run_suite(suite, out=tmp_path / "whole")
    with pytest.raises(KeyboardInterrupt):
        run_suite(suite, out=tmp_path / "cut", reporter=StopAt(30))
    resumed = run_suite(suite, out=tmp_path / "cut")
    (run,) = whole.runs
    a, b = (RunStore.at(r.root).load_checkpoint(run["id"], "best.pt") for r in (whole, resumed))
    assert a["step"] == b["step"] and all(torch.equal(a["g"][k], b["g"][k]) for k in a["g"])
