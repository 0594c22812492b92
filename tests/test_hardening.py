"""Kill-and-resume identity, concurrent runs, corrupted results, unsafe names, bad output locations."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from tests.conftest import tiny_suite

RESUME_SUITE = tiny_suite(name="resume", variants=["nonsaturating"],
                          train={"steps": 1500, "batch_size": 64, "eval_every": 100, "log_every": 10,
                                 "checkpoint_every": 100, "z_dim": 8, "eval_samples": 500},
                          architecture={"name": "mlp", "width": 64, "depth": 3})


def start(suite: Path, out: Path, *args: str) -> subprocess.Popen:
    """``ganbench run`` in a child whose SIGINT is at its default even where the tests run as a background job
    (a non-interactive shell starts those with SIGINT ignored, and the child would inherit that)."""
    return subprocess.Popen([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(out), *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))


def wait_for(predicate, timeout: float = 120.0) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < end, "timed out"
        time.sleep(0.01)


def start_resume_suite(tmp_path: Path, out: Path) -> subprocess.Popen:
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(RESUME_SUITE))
    return start(suite, out)


def wait_for_first_checkpoint(runs: Path) -> None:
    wait_for(lambda: runs.exists() and any((r / "checkpoint.pt").exists() for r in runs.iterdir()))


def run_files(root: Path) -> dict[str, bytes]:
    (run,) = (root / "runs").iterdir()
    names = ["metrics.csv", "events.jsonl"] + [f"samples/{p.name}" for p in (run / "samples").iterdir()]
    return {name: (run / name).read_bytes() for name in sorted(names)}


@pytest.mark.slow
def test_sigkill_after_first_checkpoint_then_resume_is_identical(tmp_path):
    reference = start_resume_suite(tmp_path, tmp_path / "ref")
    assert reference.wait() == 0, reference.stdout.read()

    victim = start_resume_suite(tmp_path, tmp_path / "killed")
    runs = tmp_path / "killed" / "resume" / "runs"
    wait_for_first_checkpoint(runs)
    victim.send_signal(signal.SIGKILL)
    victim.wait()
    (run,) = runs.iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "running"  # really killed mid-run

    again = start_resume_suite(tmp_path, tmp_path / "killed")
    assert again.wait() == 0, again.stdout.read()
    status = json.loads((run / "status.json").read_text())
    assert status["status"] == "completed" and status["resumed_from"] >= 100
    assert run_files(tmp_path / "killed" / "resume") == run_files(tmp_path / "ref" / "resume")


@pytest.mark.slow
def test_sigint_marks_the_run_interrupted_and_keeps_what_was_written(tmp_path):
    proc = start_resume_suite(tmp_path, tmp_path)
    runs = tmp_path / "resume" / "runs"
    wait_for_first_checkpoint(runs)
    proc.send_signal(signal.SIGINT)
    output, _ = proc.communicate(timeout=60)
    assert proc.returncode == 130 and "interrupted" in output and "Traceback" not in output, output
    (run,) = runs.iterdir()
    assert json.loads((run / "status.json").read_text())["status"] == "interrupted"
    manifest = json.loads((tmp_path / "resume" / "manifest.json").read_text())
    assert manifest["runs"][0]["status"] == "interrupted"
    assert (run / "metrics.csv").read_text().startswith("step,name,value\n")


@pytest.mark.slow
def test_two_runs_on_one_directory(tmp_path):
    first = start_resume_suite(tmp_path, tmp_path)
    lock = tmp_path / "resume" / ".lock"
    wait_for(lambda: lock.exists() and lock.read_text().startswith("pid"))
    second = start_resume_suite(tmp_path, tmp_path)
    output, _ = second.communicate(timeout=60)
    assert second.returncode == 2 and f"is in use by pid {first.pid}" in output, output
    assert first.wait() == 0
    manifest = json.loads((tmp_path / "resume" / "manifest.json").read_text())
    assert [r["status"] for r in manifest["runs"]] == ["completed"]


def test_a_stale_lock_file_does_not_block(tmp_path, write_suite, invoke):
    (tmp_path / "out" / "tiny").mkdir(parents=True)
    (tmp_path / "out" / "tiny" / ".lock").write_text("pid 999999 on elsewhere since yesterday\n")
    assert invoke("run", write_suite(tiny_suite()), "--out", tmp_path / "out").exit_code == 0


@pytest.fixture
def finished(tmp_path, write_suite, invoke):
    boom = {"name": "boom", "base": "nonsaturating", "optimizer": "sgd", "d_lr": 1e30, "g_lr": 1e30}
    assert invoke("run", write_suite(tiny_suite(variants=["lsgan", boom])), "--out", tmp_path).exit_code == 0
    return tmp_path / "tiny"


def test_diverged_runs_with_nan_metrics_report_and_check(finished, invoke):
    assert invoke("report", finished).exit_code == 0
    result = invoke("check", finished)
    assert result.exit_code == 1 and "FAIL  boom on ring  events:divergence" in result.output


@pytest.mark.parametrize("damage, message", [
    (lambda root, run: (run / "metrics.csv").write_bytes((run / "metrics.csv").read_bytes()[:-7]), "truncated"),
    (lambda root, run: (run / "metrics.csv").write_text(""), "metrics.csv: empty"),
    (lambda root, run: (run / "status.json").write_text('{"status": "comp'), "status.json"),
    (lambda root, run: (run / "config.json").write_text("[1, 2]"), "config.json: not a JSON object"),
    (lambda root, run: (run / "events.jsonl").write_text('{"kind": "x"}\n'), "events.jsonl, line 1"),
    (lambda root, run: (root / "manifest.json").write_text("{"), "manifest.json"),
    (lambda root, run: (root / "manifest.json").write_text('{"runs": [{"id": "x"}]}'), "manifest.json: run 0"),
    (lambda root, run: (run / "metrics.csv").unlink() or (root / "manifest.json").unlink(), "no manifest.json"),
])
@pytest.mark.parametrize("command", ["report", "check"])
def test_corrupted_results_name_the_bad_file(finished, invoke, damage, message, command):
    run = next(r for r in (finished / "runs").iterdir() if r.name.startswith("lsgan"))
    damage(finished, run)
    result = invoke(command, finished)
    assert result.exit_code == 2 and message in result.output and "Traceback" not in result.output, result.output


def test_a_rerun_retrains_the_runs_whose_files_are_corrupt_and_keeps_the_others(tmp_path, write_suite, invoke):
    """report and check name the damaged file and say a rerun repairs it; `ganbench run` then trains those runs
    again (it said 'N already finished' and failed the same way), leaving the intact run's files as they were."""
    suite = write_suite(tiny_suite(variants=["lsgan", "hinge", "nonsaturating", "vanilla"]))
    assert invoke("run", suite, "--out", tmp_path).exit_code == 0
    runs = {r.name.split("_")[0]: r for r in (tmp_path / "tiny" / "runs").iterdir()}
    damage = {"lsgan": ("metrics.csv", b"step,name,val"), "hinge": ("status.json", b'{"status": "comp'),
              "nonsaturating": ("events.jsonl", b'{"kind": "x"}\n')}
    intact = (runs["vanilla"] / "metrics.csv").read_bytes()
    for variant, (file, broken) in damage.items():
        (runs[variant] / file).write_bytes(broken)
    report = invoke("report", tmp_path / "tiny")
    assert report.exit_code == 2 and "Run the suite again" in report.output
    again = invoke("run", suite, "--out", tmp_path)
    assert again.exit_code == 0 and "1 already finished" in again.output
    for variant, (file, _) in damage.items():
        assert f"{runs[variant].name}: its stored files cannot be read" in again.output and file in again.output
    assert invoke("report", tmp_path / "tiny").exit_code == 0
    assert (runs["vanilla"] / "metrics.csv").read_bytes() == intact


def test_unwritable_output_location(tmp_path, write_suite, invoke):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    result = invoke("run", write_suite(tiny_suite()), "--out", blocker)
    assert result.exit_code == 2 and "cannot write results to" in result.output


def test_checkpoints_are_tensors_only(finished):
    import torch

    run = next(r for r in (finished / "runs").iterdir() if r.name.startswith("lsgan"))
    state = torch.load(run / "checkpoint.pt", weights_only=True)
    assert set(state) == {"step", "g", "d", "opt_g", "opt_d", "rng"}


def test_no_module_loads_pickles_or_unsafe_yaml():
    root = Path(__file__).parent.parent / "ganbench"
    source = "\n".join(p.read_text() for p in root.rglob("*.py"))
    assert "yaml.load(" not in source and "import pickle" not in source and "pickle.load" not in source
    assert all("weights_only=True" in line for line in source.splitlines() if "torch.load(" in line)


CTRL_C_SUITE = tiny_suite(name="ctrlc", variants=["nonsaturating", "hinge", "lsgan", "wgan"],
                          train={"steps": 50000, "batch_size": 32, "eval_every": 5000, "log_every": 50,
                                 "checkpoint_every": 200, "z_dim": 4, "eval_samples": 200})


def _group_gone(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return True
    return False


def _start_ctrlc_suite(tmp_path, sink, *options, sigint_default=False) -> subprocess.Popen:
    """``ganbench run`` of CTRL_C_SUITE in its own process group, as a terminal's foreground job; output to
    ``sink``. ``sigint_default``: SIGINT's default action restored, as a shell gives its job."""
    suite = tmp_path / "suite.yaml"
    suite.write_text(yaml.safe_dump(CTRL_C_SUITE))
    restore = (lambda: signal.signal(signal.SIGINT, signal.SIG_DFL)) if sigint_default else None
    return subprocess.Popen([sys.executable, "-m", "ganbench", "run", str(suite), "--out", str(tmp_path), *options],
                            stdout=sink, stderr=subprocess.STDOUT, text=True, start_new_session=True,
                            preexec_fn=restore)


@pytest.mark.slow
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGKILL], ids=["sigterm", "sigkill"])
def test_a_signal_to_the_command_alone_stops_its_workers(tmp_path, sig):
    """``kill``, ``timeout`` or an OOM killer signal the command, not its worker processes. SIGTERM stops it as
    Ctrl-C does; after SIGKILL, which the command cannot see, each worker finds itself orphaned, marks its runs
    interrupted and exits. Before, both left two workers training on with no parent."""
    log = tmp_path / "out.log"
    with open(log, "w") as sink:
        proc = _start_ctrlc_suite(tmp_path, sink, "--workers", "2")
        wait_for(lambda: log.read_text().count(" started") >= 2, timeout=180)
        time.sleep(2)  # training, past its first steps
        proc.send_signal(sig)
        proc.wait(timeout=30)
    wait_for(lambda: _group_gone(proc.pid), timeout=15)  # no worker left training
    output = log.read_text()
    runs = (tmp_path / "ctrlc" / "runs").glob("*/status.json")
    statuses = sorted(s for s in (json.loads(p.read_text())["status"] for p in runs) if s != "pending")
    assert statuses == ["interrupted", "interrupted"], (statuses, output)
    if sig == signal.SIGTERM:
        assert proc.returncode == 130 and "Traceback" not in output, output
        assert output.count("interrupted: what was written is kept") == 1, output
        assert json.loads((tmp_path / "ctrlc" / "manifest.json").read_text())["state"] == "interrupted"


@pytest.mark.slow
@pytest.mark.parametrize("executor", [["--workers", "2"], ["--executor", "ray", "--workers", "2"]],
                         ids=["processes", "ray"])
def test_ctrl_c_to_the_process_group_stops_every_worker(tmp_path, executor):
    """What a terminal does on Ctrl-C: SIGINT to the whole foreground process group (the command, its worker
    processes, a local Ray's processes). Two of four runs are training; the command must end within 10 s with
    one line and no traceback, start neither queued run, and leave a manifest that says interrupted."""
    log = tmp_path / "out.log"
    with open(log, "w") as sink:
        proc = _start_ctrlc_suite(tmp_path, sink, *executor, sigint_default=True)
        wait_for(lambda: log.read_text().count(" started") >= 2, timeout=180)
        time.sleep(2)  # training, past its first steps
        began = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
        took = time.monotonic() - began
    output = log.read_text()
    assert took < 10 and proc.returncode == 130, (took, output)
    assert "Traceback" not in output and output.count("interrupted: what was written is kept") == 1, output
    manifest = json.loads((tmp_path / "ctrlc" / "manifest.json").read_text())
    assert manifest["state"] == "interrupted"
    assert sorted(r["status"] for r in manifest["runs"]) == ["interrupted", "interrupted", "pending", "pending"]

    wait_for(lambda: _group_gone(proc.pid), timeout=10)  # nothing of the group is left running


@pytest.mark.slow
def test_ctrl_c_while_the_workers_start_prints_one_line(tmp_path):
    """Ctrl-C while the worker processes are still importing torch: it printed a KeyboardInterrupt traceback
    per worker and an InvalidStateError from the pool's thread (3 of 3 here), then the one line. Workers now start
    with SIGINT blocked until their handler is in place."""
    log = tmp_path / "out.log"
    with open(log, "w") as sink:
        proc = _start_ctrlc_suite(tmp_path, sink, "--workers", "2", sigint_default=True)
        wait_for(lambda: "suite ctrlc: 4 runs" in log.read_text(), timeout=60)
        time.sleep(0.5)  # the workers are being spawned and import torch
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=30)
    output = log.read_text()
    assert proc.returncode == 130 and "Traceback" not in output and "Error" not in output, output
    assert output.count("interrupted: what was written is kept") == 1, output
    wait_for(lambda: _group_gone(proc.pid), timeout=10)
