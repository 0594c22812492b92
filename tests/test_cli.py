import json

from tests.conftest import tiny_suite


def test_list_every_kind(invoke):
    result = invoke("list")
    assert result.exit_code == 0
    for text in ("variants:", "wgan-gp", "objectives:", "least_squares", "regularizers:", "gradient_penalty",
                 "datasets:", "stacked_digits", "architectures:", "dcgan", "collectors:", "kid", "detectors:",
                 "oscillation"):
        assert text in result.output
    assert invoke("list", "variants", "--pattern", "wgan*").output.split() == [
        "variants:", "wgan", "Wasserstein", "critic", "with", "weight", "clipping", "0.01,", "Arjovsky", "et", "al.",
        "(2017)", "wgan-gp", "Wasserstein", "critic", "with", "gradient", "penalty", "10,", "Gulrajani", "et", "al.",
        "(2017)"]


def test_list_axes_names_every_recipe_axis_with_its_default_and_values(invoke):
    """Every field a suite may set on a variant is listed (augmentations, schedules, EMA among them)."""
    from dataclasses import fields

    from ganbench.recipes.augment import OPS
    from ganbench.recipes.variants import AUGMENT_POLICIES, AXES, Recipe

    assert set(AXES) == {f.name for f in fields(Recipe)} - {"description"}
    assert tuple(OPS) == AUGMENT_POLICIES
    lines = {line.split()[0]: line for line in invoke("list", "axes").output.splitlines()[1:]}
    assert set(lines) == set(AXES)
    assert "color, translation, cutout" in lines["augment"] and "cosine" in lines["lr_schedule"]
    assert lines["g_ema"].split()[1] == "off" and lines["n_critic"].split()[1] == "1"
    assert "axes (set on a variant" in invoke("list").output


def test_show_builtin_and_suite_composed_variants(invoke, write_suite):
    result = invoke("show", "wgan-gp")
    shown = json.loads(result.stdout)
    assert shown["regularizer"] == "gradient_penalty" and shown["n_critic"] == 5 and shown["betas"] == [0.0, 0.9]
    assert "the registry's recipe; a suite's own (tuned, swept) is --suite SUITE.yaml" in result.stderr
    path = write_suite(tiny_suite(variants=[{"name": "strong-d", "base": "nonsaturating", "n_critic": 5}]))
    shown = json.loads(invoke("show", "strong-d", "--suite", path).stdout)
    assert shown["n_critic"] == 5 and shown["objective"] == "nonsaturating"
    # the description says what the suite changed, not only the base's (it read 'gradient penalty 10' beside 0.229)
    assert shown["description"].startswith("nonsaturating with n_critic=5 (the registry's: non-saturating")
    result = invoke("show", "strong-e", "--suite", path)
    assert result.exit_code == 2 and "did you mean 'strong-d'" in result.output
    result = invoke("show", "lsgn")
    assert result.exit_code == 2 and "did you mean 'lsgan'" in result.output


def test_diagnose_with_new_thresholds(invoke, write_suite, tmp_path):
    ran = invoke("run", write_suite(tiny_suite()), "--out", tmp_path)
    assert ran.exit_code == 0
    # the end of a run names what did not learn and the next commands
    assert "not converged: nonsaturating on ring, seed 0 (far_from_data from step" in ran.output
    assert "no seed of nonsaturating on ring converged: give it more train.steps" in ran.output  # and what to do
    assert f"next: ganbench report {tmp_path / 'tiny'}" in ran.output
    result = invoke("diagnose", tmp_path / "tiny", "--json", "--set", "mode_collapse.coverage=2", "--set",
                    "mode_collapse.quality=0", "--set", "mode_collapse.patience=1")
    assert result.exit_code == 0
    events = [json.loads(line) for line in result.output.splitlines()]
    # the thresholds set make every evaluation a collapse; far_from_data: 40 steps have not learned the ring
    assert {e["kind"] for e in events} == {"mode_collapse", "far_from_data"}
    assert [e["step"] for e in events if e["kind"] == "mode_collapse"] == [40]  # at 20 coverage is growing from nothing
    table = invoke("diagnose", tmp_path / "tiny", "--set", "mode_collapse.coverage=2", "--set",
                   "mode_collapse.quality=0", "--set", "mode_collapse.patience=1").output.splitlines()
    assert " mode_collapse from step 40  (" in table[1] and table[-1].startswith("2 event(s) in 1 run(s)")
    bad = invoke("diagnose", tmp_path / "tiny", "--set", "mode_colapse.coverage=2")
    assert bad.exit_code == 2 and "did you mean 'mode_collapse'" in bad.output


def test_the_cli_and_a_suite_error_load_no_training_stack(tmp_path):
    """A CLI is judged by its first second: --help, a malformed suite, `list` and `show` never import torch or
    torchmetrics (timings: benchmarks/startup.py)."""
    import subprocess
    import sys

    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\ndatasets: [ring]\nvariants: [vanilla]\ntrian: {steps: 3}\n")
    script = (
        "import sys\n"
        "from click.testing import CliRunner\n"
        "from ganbench.cli import cli\n"
        "assert CliRunner().invoke(cli, ['--help']).exit_code == 0\n"
        f"r = CliRunner().invoke(cli, ['run', {str(bad)!r}])\n"
        "assert r.exit_code == 2 and \"unknown key 'trian'\" in r.output, r.output\n"
        "r = CliRunner().invoke(cli, ['list'])\n"
        "assert r.exit_code == 0 and 'sliced_wasserstein' in r.output and 'Miyato' in r.output, r.output\n"
        "assert CliRunner().invoke(cli, ['show', 'sngan']).exit_code == 0\n"
        "print(sorted(m for m in ('torch', 'torchmetrics', 'scipy', 'pandas') if m in sys.modules))\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_the_eta_measures_training_not_start_up(monkeypatch, capsys):
    """A newcomer's first ETA read 305 minutes for a 2.5-minute run: the start-up (processes, imports, the
    evaluation classifier) was extrapolated as if it were training. The rate now counts from the first step."""
    from types import SimpleNamespace

    from ganbench.cli import progress

    clock = [0.0]
    monkeypatch.setattr(progress.time, "perf_counter", lambda: clock[0])
    shown = progress.ConsoleProgress()
    shown.suite_started(SimpleNamespace(name="s"), total=10, skipped=0)
    run = SimpleNamespace(run_id="a")
    shown.run_started(run)
    clock[0] = 100.0  # 100 s of start-up before the first step
    shown.step(run, 1, 100)
    assert shown._eta() == "ETA --"  # one point is no rate
    clock[0] = 110.0
    shown.step(run, 11, 100)  # 0.1 run in 10 s: 9.89 runs to go at 100 s each
    assert shown._eta() == "ETA 16m29s"  # the old estimate, 110 s / 0.11 x 9.89, said 2h44m
    for i in range(10):
        shown.run_finished(SimpleNamespace(run_id=f"r{i}"), {"status": "completed", "step": 100})
    assert shown._eta() == "ETA 0s" and "(ETA 0s)" in capsys.readouterr().out.splitlines()[-1]


def test_a_gpu_share_outside_0_to_1_is_a_usage_error(write_suite, invoke):
    result = invoke("run", write_suite(tiny_suite()), "--executor", "ray", "--gpus-per-task", "0")
    assert result.exit_code == 2 and "--gpus-per-task" in result.output


PROGRESS_SUITE = tiny_suite(name="progress", variants=["nonsaturating", "hinge"],
                            train={"steps": 2000, "batch_size": 32, "eval_every": 1000, "log_every": 10,
                                   "checkpoint_every": 1000, "z_dim": 4, "eval_samples": 200})


def _ganbench_run(suite, out, **how):
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k != "CI"}  # a CI system's own flag turns the display off
    return subprocess.Popen([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(out)],
                            env={**env, "TERM": "xterm-256color", "COLUMNS": "120"}, **how)


def test_progress_is_live_on_a_terminal_and_plain_lines_when_piped(tmp_path, write_suite):
    import os
    import pty
    import select
    import subprocess

    suite = write_suite(PROGRESS_SUITE)
    main, terminal = pty.openpty()  # what a user's terminal is to the command
    proc = _ganbench_run(suite, tmp_path / "tty", stdin=terminal, stdout=terminal, stderr=terminal)
    os.close(terminal)
    shown = b""
    while True:
        ready, _, _ = select.select([main], [], [], 0.5)
        if ready:
            try:
                data = os.read(main, 65536)
            except OSError:  # the command closed its side
                break
            if not data:
                break
            shown += data
        elif proc.poll() is not None:
            break
    assert proc.wait() == 0
    text = shown.decode(errors="replace")
    assert "\x1b[" in text and "━" in text  # redrawn bars, not lines
    assert "steps/s" in text and "suite progress" in text and "ETA" in text
    assert "runs done" in text  # the suite bar counts finished runs, as the lines do
    assert "completed in" in text and "next: ganbench report" in text  # finished runs and the summary as lines

    piped = _ganbench_run(suite, tmp_path / "pipe", stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    output, _ = piped.communicate(timeout=300)
    assert piped.returncode == 0 and "\x1b[" not in output and "━" not in output
    assert output.count(" started") == 2 and output.count("completed in") == 2


def test_next_steps_are_printed_as_the_user_typed_the_command(monkeypatch, tmp_path):
    """After the README's install the command is .venv/bin/ganbench: the hints a run prints say so."""
    import sys

    from ganbench.cli import invoked_as

    monkeypatch.setattr(sys, "argv", [".venv/bin/ganbench", "run"])
    monkeypatch.setenv("PATH", str(tmp_path))  # not on the PATH
    assert invoked_as() == ".venv/bin/ganbench"
    (tmp_path / "ganbench").write_text("#!/bin/sh\n")
    (tmp_path / "ganbench").chmod(0o755)
    monkeypatch.setattr(sys, "argv", [str(tmp_path / "ganbench"), "run"])
    assert invoked_as() == "ganbench"  # found on the PATH
    monkeypatch.setattr(sys, "argv", ["-m", "run"])
    assert invoked_as() == "ganbench"


def test_the_end_of_a_run_names_every_event_of_a_seed_once(invoke, write_suite, tmp_path):
    """A seed that collapsed and did not converge is one line naming both its events, the collapse first; the
    headline counts it once, as collapsed (also not converged)."""
    from ganbench.cli.run import _unsettled
    from ganbench.report.tables import event_rates, final_metrics, headline, ranking
    from ganbench.results import load_results

    assert invoke("run", write_suite(tiny_suite(seeds=2)), "--out", tmp_path).exit_code == 0
    run = sorted((tmp_path / "tiny" / "runs").iterdir())[0]
    stored = (run / "events.jsonl").read_text()
    collapse = {"kind": "mode_collapse", "step": 4, "evidence": {"collapse": "to one point"}}
    (run / "events.jsonl").write_text(stored + json.dumps(collapse) + "\n")
    (line,) = [line for line in _unsettled(tmp_path / "tiny") if "collapsed" in line]
    assert line.startswith("  collapsed, not converged:") and "(mode_collapse from step 4; far_from_data" in line
    results = load_results(tmp_path / "tiny")
    final = final_metrics(results)
    rank = ranking(final, event_rates(results), results.metric_info())
    assert "collapsed in 1 (at step 4) and did not converge in 1 of 2 seeds" in headline(rank)
    assert rank.states[0] == "1 collapsed (all also not converged), 1 not converged"
