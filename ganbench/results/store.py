"""RunStore: the only code that touches ``results/``.

Layout (docs/results.md): ``<out>/<suite>/{suite.yaml, manifest.json, runs/<run-id>/{config.json, status.json,
metrics.csv, metrics.arrow, events.jsonl, samples/step_<N>.png, checkpoint.pt, best.pt}}``. Whole files are written
to a temporary name and renamed into place, so a reader never sees half a file; ``metrics.csv`` is appended and
flushed at every evaluation, so a killed run loses at most the rows since its last flush. ``metrics.arrow`` is a
columnar copy of an ended run's ``metrics.csv`` (Arrow IPC), stamped with a digest of the CSV's bytes: readers take
it instead of parsing the CSV while the stamp matches, and rebuild it from the CSV -- the source of truth -- when it
is missing or stale.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import io
import json
import os
import shutil
import socket
import sys
import tempfile
import time
from array import array
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

from ganbench.diagnostics.base import Event
from ganbench.errors import GanbenchError

STATUSES = ("pending", "running", "completed", "diverged", "failed", "interrupted")
FINISHED = ("completed", "diverged")


def ended(status: dict[str, Any]) -> bool:
    """Whether a run with this status.json has stopped writing (finished, failed or interrupted)."""
    return status.get("status") not in (None, "pending", "running")
METRICS_HEADER = "step,name,value\n"
SUMMARY = "metrics.arrow"


def _file_mode() -> int:
    """The mode the user's umask gives a new file (0644 under the usual 022). mkstemp creates 0600, which a
    teammate, a web server publishing the report or a Ray worker running as another user cannot read."""
    umask = os.umask(0o022)  # reading the umask means setting it: put it straight back
    os.umask(umask)
    return 0o666 & ~umask


def atomic_write(path: Path, data: bytes | str) -> None:
    """Write to a temporary file beside ``path``, fsync, then rename over it: all or nothing."""
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        os.fchmod(fd, _file_mode())
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_json(path: Path, obj: Any) -> None:
    atomic_write(path, json.dumps(obj, indent=2, sort_keys=True, default=str) + "\n")


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise GanbenchError(f"missing results file: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise GanbenchError(f"corrupt results file {path}: {exc}") from None


def write_files(directory: Path, files: dict[str, bytes | str]) -> None:
    """Write a set of files (a report) under ``directory``, each atomically."""
    try:
        for name, data in files.items():
            atomic_write(Path(directory) / name, data)
    except OSError as exc:
        raise GanbenchError(f"cannot write to {directory}: {exc.strerror or exc}") from None


class MetricsWriter:
    """Appends tidy ``step,name,value`` rows; floats in shortest round-trip form so rereads are bit-exact. It
    keeps the run's rows in memory too, in columns (``frame``): the detectors a running run calls at each
    evaluation read them there, not from the file."""

    def __init__(self, path: Path, keep_until: int | None) -> None:
        self.path = path
        self._steps, self._codes, self._values = array("q"), array("l"), array("d")
        self._names: dict[str, int] = {}  # metric name -> its code in _codes
        if keep_until is None or not path.exists():
            atomic_write(path, METRICS_HEADER)
        else:  # resuming: keep the rows up to the checkpoint; later ones will be logged again
            kept = _complete_rows_until(path, keep_until)
            atomic_write(path, METRICS_HEADER + "".join(kept))
            for line in kept:
                step, rest = line.split(",", 1)
                name, value = rest.rstrip("\n").rsplit(",", 1)
                self._keep(int(step), name, float(value))
        self._file = open(path, "a", encoding="utf-8")  # noqa: SIM115 - held open while the run trains

    def write(self, step: int, values: dict[str, float]) -> None:
        rows = [(int(step), name, float(value)) for name, value in values.items()]
        self._file.write("".join(_row(*row) for row in rows))
        for row in rows:
            self._keep(*row)

    def _keep(self, step: int, name: str, value: float) -> None:
        self._steps.append(step)
        self._codes.append(self._names.setdefault(name, len(self._names)))
        self._values.append(value)

    def frame(self) -> pd.DataFrame:
        """Every row of the run so far (kept from an earlier process and written by this one), as
        ``read_metrics`` would read the file."""
        names = np.array(list(self._names), dtype=object)
        codes = np.frombuffer(self._codes, dtype=np.dtype(f"i{self._codes.itemsize}")).copy()
        return pd.DataFrame({"step": np.frombuffer(self._steps, dtype=np.int64).copy(),
                             "name": names[codes],
                             "value": np.frombuffer(self._values, dtype=np.float64).copy()})

    def flush(self) -> None:
        """Hand the rows to the operating system: a killed process loses none of them."""
        self._file.flush()

    def sync(self) -> None:
        """Flush and put the rows on disk: a crashed machine loses none of them either."""
        self._file.flush()
        os.fsync(self._file.fileno())

    def close(self) -> None:
        if not self._file.closed:
            self.sync()
            self._file.close()


def _complete_rows_until(path: Path, step: int) -> list[str]:
    """The rows of a metrics file logged at or before ``step``. A process killed mid-write can leave a torn
    last line: only newline-terminated rows count."""
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)[1:]
    return [line for line in lines if line.endswith("\n") and int(line.split(",", 1)[0]) <= step]


def _row(step: int, name: str, value: float) -> str:
    return f"{int(step)},{name},{float(value)!r}\n"


def read_metrics(path: Path) -> pd.DataFrame:
    try:
        with open(path, "rb") as f:
            f.seek(-1, os.SEEK_END)
            if f.read(1) != b"\n":
                raise GanbenchError(f"corrupt results file {path}: truncated (the last row is incomplete)")
        frame = pd.read_csv(path, dtype={"step": "int64", "name": str, "value": "float64"})
    except FileNotFoundError:
        raise GanbenchError(f"missing results file: {path}") from None
    except OSError:  # shorter than one byte: empty
        raise GanbenchError(f"corrupt results file {path}: empty") from None
    except (ValueError, pd.errors.ParserError) as exc:
        raise GanbenchError(f"corrupt results file {path}: {exc}") from None
    if list(frame.columns) != ["step", "name", "value"]:
        raise GanbenchError(f"corrupt results file {path}: expected columns step,name,value")
    return frame


def _stamp(csv: Path) -> dict[bytes, bytes]:
    """What ties a summary to the CSV it copies: a digest of the CSV's bytes. Hashing is a small part of parsing
    them, and unlike a modification time it survives a copy and gives every executor the same summary bytes."""
    return {b"csv_blake2b": hashlib.blake2b(csv.read_bytes(), digest_size=16).hexdigest().encode()}


def _table(frame: pd.DataFrame):
    import pyarrow as pa

    return pa.table({"step": pa.array(frame.step.to_numpy(np.int64)), "name": pa.array(frame.name.to_numpy(object),
                     pa.string()), "value": pa.array(frame.value.to_numpy(np.float64))})


def write_summary(csv: Path, frame: pd.DataFrame, stamp: dict[bytes, bytes] | None = None) -> None:
    """``frame`` (the rows of ``csv``) as ``csv``'s columnar summary; ``stamp``: ``_stamp(csv)``, if known. Best
    effort: a read-only results directory keeps being read from its CSVs."""
    import pyarrow as pa

    table = _table(frame).replace_schema_metadata(stamp or _stamp(csv))
    sink = pa.BufferOutputStream()
    with pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)
    with contextlib.suppress(OSError):
        atomic_write(csv.with_name(SUMMARY), sink.getvalue().to_pybytes())


def read_metrics_table(csv: Path, summarize: bool):
    """``csv``'s rows as an Arrow table (step, name, value): from its summary while that is current, else from the
    CSV, writing the summary when ``summarize`` (the run has ended: its CSV will not grow)."""
    import pyarrow as pa

    summary = csv.with_name(SUMMARY)
    try:
        stamp = _stamp(csv)
    except FileNotFoundError:
        raise GanbenchError(f"missing results file: {csv}") from None
    with contextlib.suppress(OSError, pa.ArrowInvalid):
        table = pa.ipc.open_file(pa.py_buffer(summary.read_bytes())).read_all()
        if table.schema.metadata == stamp:
            return table.replace_schema_metadata(None)
    frame = read_metrics(csv)
    if summarize:
        write_summary(csv, frame, stamp)
    return _table(frame)


READ_CACHE = ".read-cache.arrow"
RUN_FILES = ("status.json", "config.json", "metrics.csv", "events.jsonl")  # what a reader reads of a run


def cache_schema():
    """The read cache's metrics columns: 32-bit steps and dictionary-coded names (a run logs a few dozen names
    thousands of times), half the bytes of the CSV's columns."""
    import pyarrow as pa

    return pa.schema([("step", pa.int32()), ("name", pa.dictionary(pa.int32(), pa.string())),
                      ("value", pa.float64())])


def compact(table):
    """A run's metrics table (step, name, value) in the read cache's columns (``cache_schema``)."""
    import pyarrow as pa

    return pa.table({"step": table.column("step").cast(pa.int32()),
                     "name": table.column("name").dictionary_encode().combine_chunks(),
                     "value": table.column("value")}, schema=cache_schema())


@dataclass
class CachedRun:
    """What ``load_results`` read of one ended run, with the signature of the files it read it from."""

    signature: list
    status: dict[str, Any]
    config: dict[str, Any]
    events: list[dict[str, Any]]
    table: Any  # pyarrow.Table in ``cache_schema``, or None: the run logged no metrics


def run_signature(directory: Path) -> list:
    """(inode, size, modification time) of each of a run's files that a reader reads; None for a missing one.
    A rewrite renames a new file in and an append grows it, so any change to the files changes this."""
    signature = []
    for name in RUN_FILES:
        try:
            st = os.stat(os.path.join(directory, name))
            signature.append([st.st_ino, st.st_size, st.st_mtime_ns])
        except FileNotFoundError:
            signature.append(None)
    return signature


class RunStore:
    """One suite's results directory."""

    def __init__(self, out: str | Path, suite_name: str) -> None:
        self.root = Path(out) / suite_name
        self.runs = self.root / "runs"

    @classmethod
    def at(cls, root: str | Path) -> RunStore:
        """The store of an existing suite directory."""
        root = Path(root)
        return cls(root.parent, root.name)

    def is_results(self) -> bool:
        return (self.root / "manifest.json").exists()

    def read_manifest(self) -> list[dict[str, Any]]:
        """The manifest's run entries (id, variant, dataset, seed, status), as written."""
        if not self.root.exists():
            raise GanbenchError(f"{self.root} does not exist: pass results/<suite name> (ganbench run writes it)")
        if not self.is_results():
            raise GanbenchError(f"{self.root} is not a ganbench results directory (no manifest.json); "
                                "pass results/<suite name>")
        manifest = read_json(self.root / "manifest.json")
        entries = manifest.get("runs") if isinstance(manifest, dict) else None
        if not isinstance(entries, list):
            raise GanbenchError(f"corrupt results file {self.root / 'manifest.json'}: no 'runs' list")
        return entries

    def suite_doc(self) -> dict[str, Any]:
        """The stored suite.yaml, parsed (a mapping; empty when the file holds none)."""
        path = self.root / "suite.yaml"
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except FileNotFoundError:
            raise GanbenchError(f"missing results file: {path}") from None
        except yaml.YAMLError as exc:
            raise GanbenchError(f"corrupt results file {path}: {exc}") from None
        return doc if isinstance(doc, dict) else {}

    def prepare(self, suite_source: str) -> None:
        try:
            self.runs.mkdir(parents=True, exist_ok=True)
            atomic_write(self.root / "suite.yaml", suite_source)
        except OSError as exc:
            raise GanbenchError(f"cannot write results to {self.root}: {exc.strerror or exc}") from None

    @contextlib.contextmanager
    def lock(self):
        """Hold this results directory for one ``ganbench run`` at a time. The lock is an flock on
        ``.lock``: the kernel drops it when its holder dies, so a stale lock never blocks; the file only
        tells the next comer who holds it."""
        self.root.mkdir(parents=True, exist_ok=True)
        path = self.root / ".lock"
        with open(path, "a+", encoding="utf-8") as f:
            try:
                fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                f.seek(0)
                holder = f.read().strip() or "another process"
                raise GanbenchError(f"results directory {self.root} is in use by {holder}; wait for it to finish "
                                    "or choose another --out") from None
            f.truncate(0)
            f.write(f"pid {os.getpid()} on {socket.gethostname()} since {time.strftime('%Y-%m-%d %H:%M:%S')} "
                    f"({' '.join(sys.argv[:3])})\n")
            f.flush()
            try:
                yield
            finally:
                f.truncate(0)
                fcntl.flock(f, fcntl.LOCK_UN)

    @contextlib.contextmanager
    def measuring(self):
        """Hold this results directory's deferred measurements for one reader at a time (a blocking flock on
        ``.measure.lock``: two reports opened at once measure each saved evaluation once)."""
        try:
            f = open(self.root / ".measure.lock", "a", encoding="utf-8")  # noqa: SIM115 - held for the block
        except OSError as exc:
            raise GanbenchError(f"cannot measure the deferred evaluations in {self.root}: "
                                f"{exc.strerror or exc}") from None
        with f:
            fcntl.flock(f, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(f, fcntl.LOCK_UN)

    def run_dir(self, run_id: str) -> Path:
        return self.runs / run_id

    def deferred_dir(self, run_id: str) -> Path:
        """Where a tracker saves G's samples for evaluations measured at the first read (results/deferred.py)."""
        return self.run_dir(run_id) / "deferred"

    def status(self, run_id: str) -> dict[str, Any]:
        return self.read_object(run_id, "status") or {"status": "pending"}

    def set_status(self, run_id: str, status: str, **extra: Any) -> None:
        assert status in STATUSES, status
        write_json(self.run_dir(run_id) / "status.json", {"status": status, **extra})

    def stop(self, run_id: str, status: str, **extra: Any) -> dict[str, Any]:
        """Record that a run ended as ``status`` (failed, interrupted) at the step it had reached; returns
        the new status."""
        result = {"status": status, "step": self.status(run_id).get("step", 0), **extra}
        self.set_status(run_id, **result)
        return result

    def write_config(self, run_id: str, config: dict[str, Any]) -> None:
        write_json(self.run_dir(run_id) / "config.json", config)

    def read_object(self, run_id: str, name: str) -> dict[str, Any]:
        """A run's status.json or config.json as a mapping; empty when the run has not written it."""
        path = self.run_dir(run_id) / f"{name}.json"
        doc = read_json(path) if path.exists() else {}
        if not isinstance(doc, dict):
            raise GanbenchError(f"corrupt results file {path}: not a JSON object")
        return doc

    def read_metrics(self, run_id: str) -> pd.DataFrame | None:
        """A run's tidy metrics (step, name, value); None when it logged none."""
        path = self.run_dir(run_id) / "metrics.csv"
        return read_metrics(path) if path.exists() else None

    def metrics_table(self, run_id: str, ended: bool):
        """A run's metrics as an Arrow table (step, name, value), through its summary (``read_metrics_table``);
        None when it logged none. ``ended``: the run's CSV will not grow, so a rebuilt summary is kept."""
        path = self.run_dir(run_id) / "metrics.csv"
        return read_metrics_table(path, ended) if path.exists() else None

    def write_summary(self, run_id: str, frame: pd.DataFrame) -> None:
        """The columnar summary of an ended run's metrics.csv, from its rows as the writer kept them."""
        write_summary(self.run_dir(run_id) / "metrics.csv", frame)

    def read_cache(self) -> dict[str, CachedRun]:
        """The suite's read cache (``READ_CACHE``): run id -> what the last reader read of each ended run, for a
        reader to take where a run's files still have the signature they had then. {} when there is none or it
        cannot be read: the cache only saves time, the runs' own files are the truth."""
        import pyarrow as pa

        try:
            with pa.memory_map(str(self.root / READ_CACHE)) as source:
                table = pa.ipc.open_file(source).read_all()
            doc = json.loads(table.schema.metadata[b"runs"])
            table, shared = table.replace_schema_metadata(None), doc["metrics"]
            return {run_id: CachedRun(e["signature"], e["status"],
                                      e["config"] if e["metrics"] is None else
                                      {**e["config"], "metrics": shared[e["metrics"]]},
                                      e["events"], None if e["rows"] is None else table.slice(*e["rows"]))
                    for run_id, e in doc["runs"].items()}
        except (OSError, pa.ArrowInvalid, KeyError, TypeError, ValueError):
            return {}

    def write_cache(self, runs: dict[str, CachedRun]) -> None:
        """Replace the read cache with ``runs`` (one Arrow IPC file: every run's metrics rows, and the rest as JSON
        in its metadata). Best effort: a read-only results directory is read from the runs' files every time."""
        import pyarrow as pa

        tables, doc, offset = [], {}, 0
        shared: dict[str, int] = {}  # the metrics' metadata of each run's config, most often the same: kept once
        for run_id, run in runs.items():
            rows = metrics = None
            if run.table is not None:
                rows = [offset, run.table.num_rows]
                offset += run.table.num_rows
                tables.append(run.table)
            config = run.config
            if "metrics" in config:
                metrics = shared.setdefault(json.dumps(config["metrics"]), len(shared))  # order kept
                config = {k: v for k, v in config.items() if k != "metrics"}
            doc[run_id] = {"signature": run.signature, "status": run.status, "config": config,
                           "metrics": metrics, "events": run.events, "rows": rows}
        doc = {"runs": doc, "metrics": [json.loads(text) for text in shared]}
        # the file format takes one dictionary per column
        table = pa.concat_tables(tables).unify_dictionaries().combine_chunks() if tables else \
            cache_schema().empty_table()
        table = table.replace_schema_metadata({b"runs": json.dumps(doc).encode()})
        sink = pa.BufferOutputStream()
        with pa.ipc.new_file(sink, table.schema) as writer:
            writer.write_table(table)
        with contextlib.suppress(OSError):
            atomic_write(self.root / READ_CACHE, sink.getvalue().to_pybytes())

    def read_events(self, run_id: str) -> list[dict[str, Any]]:
        path = self.run_dir(run_id) / "events.jsonl"
        if not path.exists():
            return []
        events = []
        for i, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                event = json.loads(line)
                events.append({"kind": str(event["kind"]), "step": int(event["step"]),
                               "evidence": event.get("evidence")})
            except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
                raise GanbenchError(f"corrupt results file {path}, line {i}: {exc}") from None
        return events

    def sample_images(self, run_id: str) -> list[Path]:
        """A run's sample pictures, in step order."""
        return sorted((self.run_dir(run_id) / "samples").glob("step_*.png"), key=lambda p: int(p.stem.split("_")[1]))

    def metrics_writer(self, run_id: str, resume_step: int | None = None) -> MetricsWriter:
        return MetricsWriter(self.run_dir(run_id) / "metrics.csv", resume_step)

    def append_metrics(self, run_id: str, rows: list[tuple[int, dict[str, float]]]) -> None:
        """Add rows to an ended run's metrics file (measurements made after it ended)."""
        with open(self.run_dir(run_id) / "metrics.csv", "a", encoding="utf-8") as f:
            f.write("".join(_row(step, k, v) for step, values in rows for k, v in values.items()))
            f.flush()
            os.fsync(f.fileno())

    def write_events(self, run_id: str, events: list[Event]) -> None:
        atomic_write(self.run_dir(run_id) / "events.jsonl",
                     "".join(json.dumps(e.to_json(), sort_keys=True) + "\n" for e in events))

    def write_sample_image(self, run_id: str, step: int, png: bytes) -> None:
        atomic_write(self.run_dir(run_id) / "samples" / f"step_{step}.png", png)

    def save_checkpoint(self, run_id: str, state: dict[str, Any], name: str = "checkpoint.pt") -> None:
        """``checkpoint.pt``, what a resumed run starts from; or ``best.pt``, G where its best evaluation was."""
        import torch  # only training writes checkpoints: reading results needs no torch

        buffer = io.BytesIO()
        torch.save(state, buffer)
        atomic_write(self.run_dir(run_id) / name, buffer.getvalue())

    def load_checkpoint(self, run_id: str, name: str = "checkpoint.pt") -> dict[str, Any] | None:
        path = self.run_dir(run_id) / name
        if not path.exists():
            return None
        import torch

        return torch.load(path, map_location="cpu", weights_only=True)  # tensors only: never unpickles code

    def forget_best_after(self, run_id: str, step: int) -> None:
        """A run resumed from ``step`` trains the steps after it again: a best.pt written in them is dropped,
        so the run keeps the best of what it now trains (the same G where training is deterministic)."""
        best = self.load_checkpoint(run_id, "best.pt")
        if best is not None and int(best["step"]) > step:
            (self.run_dir(run_id) / "best.pt").unlink()

    def pack_run(self, run_id: str) -> dict[str, bytes]:
        """Every file of a run, by path inside its directory: what travels to and from a node that cannot see
        this store (a Ray task's scratch directory)."""
        directory = self.run_dir(run_id)
        if not directory.exists():
            return {}
        return {p.relative_to(directory).as_posix(): p.read_bytes() for p in sorted(directory.rglob("*"))
                if p.is_file() and not p.name.endswith(".tmp")}

    def unpack_run(self, run_id: str, files: dict[str, bytes]) -> None:
        """Make a run's directory hold exactly ``files``: written beside it, then swapped in by two renames, so a
        kill at any point leaves the old directory or the new one (or the new one beside a ``.old`` to drop)."""
        directory = self.run_dir(run_id)
        incoming, old = directory.with_name(f".{run_id}.incoming"), directory.with_name(f".{run_id}.old")
        for stale in (incoming, old):
            shutil.rmtree(stale, ignore_errors=True)
        for name, data in files.items():
            atomic_write(incoming / name, data)
        incoming.mkdir(parents=True, exist_ok=True)
        if directory.exists():
            directory.rename(old)
        incoming.rename(directory)
        shutil.rmtree(old, ignore_errors=True)

    def damage(self, run_id: str) -> str | None:
        """Why a run's files cannot be read (the first such file's error), or None when every one that exists
        can: status, config, metrics and events."""
        try:
            self.read_object(run_id, "status")
            self.read_object(run_id, "config")
            if (metrics := self.run_dir(run_id) / "metrics.csv").exists():
                read_metrics_table(metrics, summarize=False)  # a current summary vouches for its CSV
            self.read_events(run_id)
        except GanbenchError as exc:
            return str(exc)
        return None

    def clear_run(self, run_id: str) -> None:
        """Forget a run's outputs (``--fresh``, or a restart with no checkpoint)."""
        directory = self.run_dir(run_id)
        for path in sorted(directory.rglob("*"), reverse=True) if directory.exists() else []:
            path.rmdir() if path.is_dir() else path.unlink()

    def write_manifest(self, entries: list[dict[str, Any]], state: str | None = None) -> None:
        """The runs and their statuses; ``state``: the suite's (running, finished, or interrupted by Ctrl-C)."""
        write_json(self.root / "manifest.json", {"runs": entries, **({"state": state} if state else {})})

    def upsert_manifest(self, entry: dict[str, Any]) -> None:
        """Add or replace one run's entry. Tracked runs of one suite may be separate processes (one per seed):
        they take turns through a blocking flock, so no entry is lost between a read and a write."""
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".manifest.lock", "a", encoding="utf-8") as f:
            fcntl.flock(f, fcntl.LOCK_EX)
            entries = self.read_manifest() if self.is_results() else []
            self.write_manifest([*(e for e in entries if e.get("id") != entry["id"]), entry])
