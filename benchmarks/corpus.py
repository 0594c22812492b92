"""The gate on loops ganbench did not write: every loop of ``examples/corpus`` on the ring and on 28-px digits,
healthy and with injected failures, over seed sets; then detection and false alarms per run and per build.

    python benchmarks/corpus.py train --workers 2          # trains into results/corpus/ (240 runs, ~45 min, 2 cores)
    python benchmarks/corpus.py table                      # re-detects with today's detectors, prints tables
    python benchmarks/corpus.py single                     # each run a one-seed build, no baseline (after table)
    python benchmarks/corpus.py collapse --workers 2       # G fed one latent in every loop: mode_collapse and when
    python benchmarks/corpus.py ladder                     # ganbench calibrate's table per loop, from those runs

Each run's label (failed or not, judged from its samples) is in ``examples/corpus/labels.yaml``; ``sheets`` draws
the final samples of every loop x data x case into one picture per loop and data to label them from.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ganbench.execution.calibrate import Loop, calibrate_loop, parse_injection  # noqa: E402

LOOPS = ("bce_mlp", "logits_dcgan", "wgan_gp", "hinge_sngan", "lightning_gan")
DATA = {"ring": {"steps": 2000, "g_lr": 1e-3, "d_lr": 1e-3}, "digits": {"steps": 1200}}
INJECTIONS = ("stalled-g: g_lr=x0.001", "dead-d: d_init=zeros", "blow-up: g_lr=10, d_lr=10",
              "strong-d: d_lr=x10")
SEEDS = 4  # seeds per set; set 0 is the baseline, `--sets` further sets are the builds


def _calibrations(args, train: bool):
    injections = [parse_injection(text, scalable=None) for text in INJECTIONS]
    for data, params in DATA.items():
        if data not in args.data:
            continue
        for loop in args.loops:
            began = time.perf_counter()
            calibration = calibrate_loop(Loop(f"{ROOT}/examples/corpus/{loop}.py:train", {"data": data, **params}),
                                         SEEDS, args.sets, injections, args.out, args.workers, f"{loop}-{data}",
                                         echo=lambda line: print(line, flush=True) if args.verbose else None,
                                         train=train)
            if train:
                print(f"{loop} {data}: {time.perf_counter() - began:.0f} s", flush=True)
            yield loop, data, calibration


CASES = ("healthy", *(text.partition(":")[0] for text in INJECTIONS))


def _case_runs(out: Path, loop: str, data: str) -> dict[str, list]:
    """case -> its runs (rows of the results' runs table), seed order; 'healthy' holds the unchanged runs."""
    from ganbench.results import load_results

    found = {}
    for case in CASES:
        root = out / (f"{loop}-{data}-calibrate" + ("" if case == "healthy" else f"-{case}"))
        if (root / "manifest.json").exists():
            results = load_results(root)
            found[case] = (results, sorted(results.runs.itertuples(), key=lambda r: r.seed))
    return found


def sheets(args) -> None:
    """One picture per loop x data: a row per case, the final samples of each seed, to label the runs from."""
    from PIL import Image, ImageDraw

    size, width = 250, 4
    for data in args.data:
        for loop in args.loops:
            rows = []  # (case, [(run, results), ...]) with at most `width` runs a row
            for case, (results, runs) in _case_runs(args.out, loop, data).items():
                rows += [(case, [(r, results) for r in runs[i:i + width]]) for i in range(0, len(runs), width)]
            sheet = Image.new("RGB", (120 + width * size, len(rows) * size), "white")
            draw = ImageDraw.Draw(sheet)
            for i, (case, runs) in enumerate(rows):
                draw.text((5, i * size + size // 2), case, fill="black")
                for j, (run, results) in enumerate(runs):
                    pictures = sorted((results.root / "runs" / run.run_id / "samples").glob("step_*.png"),
                                      key=lambda p: int(p.stem.split("_")[1]))
                    if pictures:
                        picture = Image.open(pictures[-1]).convert("RGB")
                        picture.thumbnail((size - 8, size - 8))
                        sheet.paste(picture, (120 + j * size, i * size + 5))
                    draw.text((125 + j * size, i * size + 5), f"s{run.seed} {run.status} @{run.step}", fill="red")
            path = args.out / f"sheet-{loop}-{data}.png"
            sheet.save(path)
            print(path)


def redetect(root: Path) -> None:
    """Today's detectors over the stored metrics of every run under ``root``, written back as its events."""
    from ganbench.diagnostics import run_detectors
    from ganbench.results import load_results
    from ganbench.results.store import RunStore

    store = RunStore.at(root)
    for run_id, metrics in load_results(root).metrics.groupby("run_id", sort=True):
        store.write_events(run_id, run_detectors(metrics[["step", "name", "value"]]))


def flagged(results) -> dict[str, str]:
    """run id -> why the gate flags it ('' when it does not): a default gate event, or a state other than
    healthy or collapsed (did not learn, diverged, failed)."""
    from ganbench.evidence.gate import DEFAULT_FAIL_ON
    from ganbench.evidence.states import HEALTHY, run_states

    states = run_states(results)
    out = {}
    for run in results.runs.itertuples():
        ev = results.events[(results.events.run_id == run.run_id) & results.events.kind.isin(DEFAULT_FAIL_ON)]
        reasons = [f"{k} @{int(ev[ev.kind == k].step.min())}" for k in dict.fromkeys(ev.sort_values("step").kind)]
        if states[run.run_id] not in (HEALTHY, "collapsed"):
            reasons.append(states[run.run_id])
        out[run.run_id] = ", ".join(dict.fromkeys(reasons))
    return out


def _labels(path: Path) -> dict:
    import yaml

    return yaml.safe_load(path.read_text())


def _label(labels: dict, loop: str, data: str, case: str, seed: int) -> str:
    value = labels[loop][data][case]
    return value[seed] if isinstance(value, dict) else value


def table(args) -> None:
    """Per loop x data x case: failed runs caught, healthy runs flagged (false alarms), and the gate's verdict
    on the build (4 seeds against the unchanged loop's 4 baseline seeds). Re-detects first."""
    from ganbench.evidence.statistics import clopper_pearson

    labels = _labels(args.labels)
    for path in sorted(args.out.glob("*-calibrate*")):
        if (path / "manifest.json").exists():
            redetect(path)
    totals = {"caught": [0, 0], "false": [0, 0]}
    lines = ["| loop | data | case | labelled failed (of 4) | caught | false alarms | gate on the build | "
             "what flagged them |", "|---|---|---|---|---|---|---|---|"]
    detail = []
    distances = {}  # (data, label) -> each finished run's last sliced_wasserstein_rel: the evidence for `far`
    for loop, data, calibration in _calibrations(args, train=False):
        cases = _case_runs(args.out, loop, data)
        builds = {"healthy": calibration.clean, **{s.name: s for s in calibration.injected}}
        for case, (results, runs) in cases.items():
            flags = flagged(results)
            if case == "healthy":
                runs = [r for r in runs if r.seed >= SEEDS]  # the build; its baseline seeds are counted below
                runs += [r for r in sorted(results.runs.itertuples(), key=lambda r: r.seed) if r.seed < SEEDS]
            failed = [r for r in runs if _label(labels, loop, data, case, r.seed) == "failed"]
            ok = [r for r in runs if r not in failed]
            caught = [r for r in failed if flags[r.run_id]]
            false = [r for r in ok if flags[r.run_id]]
            totals["caught"][0] += len(caught)
            totals["caught"][1] += len(failed)
            totals["false"][0] += len(false)
            totals["false"][1] += len(ok)
            gate = calibration.rules
            build = builds[case].builds[0]
            verdict = "fail" if any(gate.fails(v) for v in build) else "pass"
            rules = sorted({v.rule for v in build if gate.fails(v)})
            why = sorted({part.split(" @")[0] for r in runs for part in flags[r.run_id].split(", ") if part})
            lines.append(f"| {loop} | {data} | {case} | {len(failed)} of {len(runs)} | {len(caught)} of "
                         f"{len(failed)} | {len(false)} of {len(ok)} | {verdict}"
                         f"{' (' + ', '.join(rules) + ')' if rules else ''} | {', '.join(why) or '—'} |")
            detail += [f"{loop} {data} {case} seed {r.seed}: "
                       f"{_label(labels, loop, data, case, r.seed)}; {flags[r.run_id] or 'not flagged'}"
                       for r in runs]
            final = results.final(["sliced_wasserstein_rel"])
            last = final["sliced_wasserstein_rel"].dropna() if "sliced_wasserstein_rel" in final else {}
            for r in runs:
                if r.run_id in last:
                    distances.setdefault((data, _label(labels, loop, data, case, r.seed)), []).append(last[r.run_id])
    (c, nc), (f, nf) = totals["caught"], totals["false"]
    lo, hi = clopper_pearson(c, nc)
    flo, fhi = clopper_pearson(f, nf)
    lines += ["", f"Visibly failed runs caught: {c} of {nc} = {c / nc:.1%} [{lo:.1%}, {hi:.1%}]; healthy-looking runs "
              f"flagged: {f} of {nf} = {f / nf:.1%} [{flo:.1%}, {fhi:.1%}] (exact 95% intervals)."]
    lines += [f"Last sliced_wasserstein_rel of {label} runs on {data}: {min(v):.2f}-{max(v):.2f} (median "
              f"{sorted(v)[len(v) // 2]:.2f}, {len(v)} runs)." for (data, label), v in sorted(distances.items())]
    print("\n".join(lines))
    (args.out / "corpus-table.md").write_text("\n".join(lines) + "\n")
    (args.out / "corpus-runs.txt").write_text("\n".join(detail) + "\n")


def single(args) -> None:
    """Every run after the baseline seed set as a build of its own, checked as a one-seed CI job is by default:
    without a baseline, against the shipped null rates (``benchmarks/null_rates.py``: the corpus's baseline seeds
    0-3 and ci.yaml's calibration), never measured on the seeds judged. Per loop x data x case, and the totals by
    label."""
    from dataclasses import replace

    from ganbench.evidence.gate import evaluate, rules_of
    from ganbench.evidence.null_rates import shipped
    from ganbench.evidence.statistics import clopper_pearson

    labels = _labels(args.labels)
    found = {(loop, data): _case_runs(args.out, loop, data) for data in args.data for loop in args.loops}
    print(f"null rates: {shipped().source}")
    totals = {"failed": [0, 0], "ok": [0, 0]}
    lines = ["| loop | data | case | labelled failed | builds failed | labelled ok | builds failed |",
             "|---|---|---|---|---|---|---|"]
    for (loop, data), cases in found.items():
        for case, (results, runs) in cases.items():
            rules = replace(rules_of(results), event_rate=None, null_rates=None)  # the shipped rates
            cell = {"failed": [0, 0], "ok": [0, 0]}
            for run in runs:
                if case == "healthy" and run.seed < SEEDS:
                    continue  # measured the null rates
                label = _label(labels, loop, data, case, int(run.seed))
                failed = any(rules.fails(v) for v in evaluate(results.subset([run.seed]), rules))
                cell[label][0] += failed
                cell[label][1] += 1
            for label in cell:
                totals[label][0] += cell[label][0]
                totals[label][1] += cell[label][1]
            lines.append(f"| {loop} | {data} | {case} | {cell['failed'][1]} | {cell['failed'][0]} | "
                         f"{cell['ok'][1]} | {cell['ok'][0]} |")
    print("\n".join(lines))
    for label, (k, n) in totals.items():
        low, high = clopper_pearson(k, n) if n else (float("nan"), float("nan"))
        print(f"runs labelled {label}: {k} of {n} one-seed builds failed ({k / max(n, 1):.0%} [{low:.0%}, "
              f"{high:.0%}])")


def ladder(args) -> None:
    """``ganbench calibrate``'s table for each loop x data, from the runs trained (no training): false alarms per
    rule, detection per injection, and the ladder of one-seed to eight-seed builds checked without a baseline."""
    from ganbench.execution.calibrate import table as calibration_table

    for loop, data, calibration in _calibrations(args, train=False):
        print(f"## {loop} on {data}\n")
        print(calibration_table(calibration))


ONE_LATENT = "one-latent: latent=constant"  # G ignores its latent: one sample repeated in every picture


def collapse(args) -> None:
    """Every loop on each dataset with G fed one fixed latent (``latent="constant"``; seeds 4-7, as an injected
    case of ``train``): whether ``mode_collapse`` fires in every seed, which kind, and its onset against the
    first evaluation, whose picture already shows one sample repeated (the injection holds from step 0)."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from ganbench.execution.calibrate import _train_loop
    from ganbench.results import load_results

    case = ONE_LATENT.partition(":")[0]
    jobs = [(loop, data, f"{loop}-{data}-calibrate-{case}", seed) for data in args.data for loop in args.loops
            for seed in range(SEEDS, 2 * SEEDS)]
    began = time.perf_counter()
    with ProcessPoolExecutor(args.workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(_train_loop, f"{ROOT}/examples/corpus/{loop}.py:train",
                               {"data": data, **DATA[data], "latent": "constant", "seed": seed, "out": str(args.out),
                                "suite": suite}, 1 if args.workers > 1 else None)
                   for loop, data, suite, seed in jobs]
        errors = [f.result() for f in futures]
    print(f"trained {len(jobs)} runs in {time.perf_counter() - began:.0f} s; failed: "
          f"{[e for e in errors if e] or 'none'}")
    lines = ["| loop | data | seeds with mode_collapse | kind | onset (first evaluation at) |", "|---|---|---|---|---|"]
    fired = total = 0
    for loop, data, suite in dict.fromkeys((j[0], j[1], j[2]) for j in jobs):
        results = load_results(args.out / suite)
        events = results.events[results.events.kind == "mode_collapse"]
        evaluations = results.metrics[results.metrics.name == "sliced_wasserstein"]
        seen, kinds, onsets = 0, set(), []
        for run in results.runs.itertuples():
            first = int(evaluations[evaluations.run_id == run.run_id].step.min())
            mine = events[events.run_id == run.run_id]
            if len(mine):
                seen += 1
                kinds |= {e.get("collapse", "?") for e in mine.evidence}
                onsets.append(f"{int(mine.step.min())} ({first})")
            else:
                onsets.append(f"none ({first})")
        fired, total = fired + seen, total + len(results.runs)
        lines.append(f"| {loop} | {data} | {seen} of {len(results.runs)} | {', '.join(sorted(kinds)) or '—'} | "
                     f"{', '.join(onsets)} |")
    lines += ["", f"mode_collapse fired in {fired} of {total} runs whose G ignores its latent."]
    print("\n".join(lines))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["train", "table", "sheets", "single", "collapse", "ladder"])
    parser.add_argument("--out", default="results/corpus", type=Path)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--sets", type=int, default=1, help="seed sets of 4 beyond the baseline's (3: 12 one-seed "
                        "builds per case)")
    parser.add_argument("--loops", nargs="+", default=list(LOOPS))
    parser.add_argument("--data", nargs="+", default=list(DATA))
    parser.add_argument("--verbose", action="store_true")
    parser.add_argument("--labels", type=Path, default=ROOT / "examples" / "corpus" / "labels.yaml")
    args = parser.parse_args()
    if args.command == "train":
        for _ in _calibrations(args, train=True):
            pass
    elif args.command == "sheets":
        sheets(args)
    elif args.command == "single":
        single(args)
    elif args.command == "collapse":
        collapse(args)
    elif args.command == "ladder":
        ladder(args)
    else:
        table(args)


if __name__ == "__main__":
    main()
