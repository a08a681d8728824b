"""Running a sweep: chunks on a process pool or Dask, one writer holding the folder lock, resume.

Only the parent process writes, holding an exclusive lock on ``OUT/.lock`` for the run (a second
sweep into the same folder is refused): each finished chunk goes to ``chunk_NNNNN.npz``
(temporary file + rename), then its SHA-256 into ``manifest.json`` (same way). Re-running skips
chunks whose file matches the recorded checksum, index and length and recomputes every other one
(missing, partial, corrupted, swapped), so a sweep killed at any point resumes to a
bitwise-identical result. Pool workers exit when the parent dies (even by SIGKILL).
"""
from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import signal
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError, check_int
from symbolic.registry import user_models_state

from ..io import write_json, write_npz
from .config import SweepConfig, check_disk, check_kernel_axes, load_config
from .manifest import check_manifest, check_model_unchanged, chunk_path, new_manifest, read_chunk
from .tasks import run_chunk, warm


def max_workers() -> int:
    """The most local worker processes a sweep starts: 4 per core."""
    return 4 * (os.cpu_count() or 1)


#: temporary files of sims.io's atomic writes of this sweep's own files: ``NAME.XXXX.tmp``
_OWN_TMP = re.compile(r"^(?:chunk_(\d{5,})\.npz|manifest\.json)\..+\.tmp$")


def _remove_own_temp_files(out: Path, cfg: SweepConfig):
    """Delete the half-written chunk and manifest files a killed run of this sweep left (hold the lock)."""
    for p in out.iterdir():
        m = _OWN_TMP.match(p.name)
        if m and (m.group(1) is None or int(m.group(1)) < cfg.n_chunks) and p.is_file():
            p.unlink(missing_ok=True)


@contextlib.contextmanager
def _lock(out: Path):
    """Hold an exclusive lock on ``out/.lock`` (released by the kernel if this process dies)."""
    path = out / ".lock"
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o666)
    except OSError as e:
        raise ParameterError(f"{out}: cannot create the lock file {path.name}: {e.strerror or e}") from None
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ParameterError(f"another sweep holds {out} (lock {path}); wait for it to finish or use another --out") from None
        yield
    finally:
        os.close(fd)


def _load_manifest(out: Path, cfg: SweepConfig) -> dict:
    """The manifest to resume with: the one in ``out`` (checked against ``cfg``) with fresh fields, or a new one."""
    path = out / "manifest.json"
    if path.exists():
        try:
            m = json.loads(path.read_text())
        except (OSError, ValueError):
            m = None                      # unreadable: start afresh (every chunk is recomputed)
        if m is not None:
            if isinstance(m, dict):
                check_model_unchanged(m, cfg, out)
            if not isinstance(m, dict) or m.get("config_hash") != cfg.hash:
                h = str(m.get("config_hash", "?") if isinstance(m, dict) else "?")[:12]
                raise ParameterError(f"{out} holds a sweep of a different config (hash {h}); "
                                     "use another --out or delete it")
            check_manifest(m, cfg, path)
            return {**new_manifest(cfg), "chunks": dict(m["chunks"])}
    return new_manifest(cfg)


def run_sweep(config_path: str | os.PathLike, out_dir: str | os.PathLike, *, workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, progress: bool = True,
              report: Callable[[str], object] | None = None) -> dict:
    r"""Run (or resume) a sweep; returns the manifest. All checks (config, sizes, free disk space,
    worker count) come before anything is written; the folder is locked for the run.

    ``report``, if given, is called with one line per chunk, ``chunk 3/10: skipped (checksum ok)``
    or ``chunk 3/10: computed`` (chunks numbered from 0, as their files), then a count
    ``chunks: 4 computed, 6 skipped (checksum ok)``.

    Parameters
    ----------
    config_path : str or os.PathLike
        The sweep's TOML file (:func:`~sims.sweep.config.load_config`; keys in docs/sweep_config.md).
    out_dir : str or os.PathLike
        The sweep folder (created if missing): ``chunk_NNNNN.npz`` files and ``manifest.json``. A
        folder holding a sweep of the same config resumes it.
    workers : int, optional
        Local worker processes, in ``[1, 4 * cores]``; default one per core. 1 (or a single chunk
        to compute) runs in this process.
    scheduler : str, optional
        The address of a Dask scheduler to run the chunks on (needs ``dask.distributed``).
    dask_local : int, optional
        Run on a local Dask cluster of this many worker processes, in ``[1, 4 * cores]``.
    progress : bool, optional
        Show a tqdm progress bar while chunks are computed.
    report : callable, optional
        Called with each line of the chunk report (see above).

    Returns
    -------
    dict
        The manifest as written to ``manifest.json``: ``config`` (the TOML text), ``config_hash``,
        ``model``, ``task``, ``shape``, ``axes``, ``n_points``, ``chunk_size``, ``n_chunks``,
        ``chunks`` (chunk index -> SHA-256 of its file), ``versions``, ...

    Raises
    ------
    ParameterError
        If ``workers`` or ``dask_local`` is out of range, the folder cannot be created, another
        sweep holds its lock, it holds a sweep of a different config, or a worker process dies
        (the finished chunks are kept: run again to resume); ``ConfigError`` (a ParameterError) for
        a bad config or one that would not fit on the disk.

    See Also
    --------
    sims.sweep.merge.merge : gather the finished chunks into one NPZ or NetCDF file.

    Examples
    --------
    The regimes of the L2 model at three values of :math:`\eta` by two of :math:`\tau`: six points,
    one chunk. Run again, the sweep finds that chunk done and computes nothing:

    >>> import tempfile
    >>> from pathlib import Path
    >>> from sims import run_sweep
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     config = Path(tmp) / "regimes.toml"
    ...     _ = config.write_text('model = "l2-byol"\ntask = "regime"\n[params]\nsigma2 = 0.5\n'
    ...                           '[grid]\neta = [0.0, 0.1, 0.2]\ntau = [0.5, 1.0]\n')
    ...     manifest = run_sweep(config, Path(tmp) / "out", workers=1, progress=False, report=print)
    ...     again = run_sweep(config, Path(tmp) / "out", workers=1, progress=False, report=print)
    ...     files = sorted(p.name for p in (Path(tmp) / "out").iterdir())
    chunk 0/1: computed
    chunks: 1 computed, 0 skipped (checksum ok)
    chunk 0/1: skipped (checksum ok)
    chunks: 0 computed, 1 skipped (checksum ok)
    >>> manifest["shape"], manifest["n_points"], manifest["n_chunks"], again["chunks"] == manifest["chunks"]
    ([3, 2], 6, 1, True)
    >>> files
    ['.lock', 'chunk_00000.npz', 'manifest.json']
    """
    if workers is not None:
        workers = check_int("--workers", workers, lo=1, hi=max_workers())
    if dask_local is not None:
        dask_local = check_int("--dask-local", dask_local, lo=1, hi=max_workers())
    cfg = load_config(config_path)
    check_kernel_axes(cfg)
    out = Path(out_dir)
    check_disk(cfg, out)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise ParameterError(f"--out {out}: cannot create the folder: {e.strerror or e}") from None
    with _lock(out):
        manifest = _load_manifest(out, cfg)
        _remove_own_temp_files(out, cfg)
        todo = [i for i in range(cfg.n_chunks) if read_chunk(out, cfg, manifest, i)[1] is not None]
        for i in todo:
            manifest["chunks"].pop(str(i), None)
        bar = None
        say = _reporter(report, lambda: bar)
        for i in sorted(set(range(cfg.n_chunks)) - set(todo)):
            say(f"chunk {i}/{cfg.n_chunks}: skipped (checksum ok)")

        def finish(i, arrays):
            # the chunk first, then its checksum
            digest = write_npz(chunk_path(out, i), {**arrays, "_chunk": np.int64(i), "_config_hash": np.str_(cfg.hash)})
            manifest["chunks"][str(i)] = digest
            write_json(out / "manifest.json", manifest)
            say(f"chunk {i}/{cfg.n_chunks}: computed")
            if bar:
                bar.update(1)

        write_json(out / "manifest.json", manifest)
        if todo:
            warm(cfg)                                           # compile once, here; workers load the cache
        if progress and todo:
            from tqdm import tqdm
            bar = tqdm(total=len(todo), unit="chunk", desc="sweep")
        try:
            if scheduler or dask_local:
                _run_dask(cfg, todo, finish, scheduler, dask_local)
            elif (workers or os.cpu_count() or 1) <= 1 or len(todo) <= 1:
                for i in todo:
                    finish(i, run_chunk(cfg, i))
            else:
                _run_pool(cfg, todo, finish, workers or os.cpu_count())
        finally:
            if bar:
                bar.close()
        say(f"chunks: {len(todo)} computed, {cfg.n_chunks - len(todo)} skipped (checksum ok)")
    return manifest


def _reporter(report, bar):
    """``report`` (or nothing), writing around the progress bar ``bar()`` when there is one."""
    def say(line):
        if report is None:
            return
        b = bar()
        if b is None:
            report(line)
            return
        with b.external_write_mode(file=sys.stdout):
            report(line)
    return say


def _run_pool(cfg, todo, finish, workers):
    import concurrent.futures as cf
    import multiprocessing as mp

    ex = cf.ProcessPoolExecutor(max_workers=workers, mp_context=mp.get_context("spawn"),
                                initializer=_init_worker, initargs=(cfg, os.getpid(), user_models_state()))
    try:
        with _sigint_ignored():           # the workers start in submit: a Ctrl-C then reaches only us
            futs = [ex.submit(_work, (cfg, i, ())) for i in todo]      # models: registered by the initializer
        for fut in cf.as_completed(futs):
            finish(*fut.result())
    except cf.process.BrokenProcessPool:
        ex.shutdown(wait=False, cancel_futures=True)
        raise ParameterError("a worker process died (killed, or out of memory?); "
                             "finished chunks are kept: run the same command again to resume") from None
    except BaseException:                 # Ctrl-C (workers ignore it) or an error: keep what is done, stop now
        procs = list((getattr(ex, "_processes", None) or {}).values())     # shutdown() forgets them
        ex.shutdown(wait=False, cancel_futures=True)
        for proc in procs:
            with contextlib.suppress(Exception):
                proc.terminate()
        raise
    ex.shutdown()


@contextlib.contextmanager
def _sigint(handler):
    """Handle SIGINT with ``handler`` for the block (main thread only; elsewhere nothing changes)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    old = signal.signal(signal.SIGINT, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, old)


def _sigint_ignored():
    """Ignore SIGINT while worker processes start, so they inherit that and a Ctrl-C reaches only us."""
    return _sigint(signal.SIG_IGN)


def _run_dask(cfg, todo, finish, scheduler, dask_local):
    """Run the chunks on Dask. A Ctrl-C only sets a flag: the loop stops between chunks, the client
    and cluster close quietly, then KeyboardInterrupt (a KeyboardInterrupt raised inside Dask's
    event-loop plumbing would print tracebacks from both sides)."""
    import logging

    from dask.distributed import Client, LocalCluster, as_completed

    stop = threading.Event()
    cluster = client = None
    models = user_models_state()
    with _sigint(lambda signum, frame: stop.set()):
        try:
            if dask_local:
                with _sigint_ignored():
                    # our own workers, as quiet as the process pool's: a failed chunk still raises here,
                    # through its future; their log lines on shutdown (heartbeats to a closed
                    # scheduler after a Ctrl-C) are noise
                    cluster = LocalCluster(n_workers=dask_local, threads_per_worker=1, processes=True,
                                           dashboard_address=None, silence_logs=logging.CRITICAL)
            if not stop.is_set():
                client = Client(cluster if cluster else scheduler)
                client.run(_warm_with_models, cfg, models)
            if not stop.is_set():
                futures = [client.submit(_work, (cfg, i, models), pure=False) for i in todo]
                done = as_completed(futures)
                left = len(futures)
                while left and not stop.is_set():
                    batch = done.next_batch(block=False)
                    if not batch:
                        stop.wait(0.05)
                    for fut in batch:
                        finish(*fut.result())
                        left -= 1
        finally:
            if stop.is_set():             # finished chunks are on disk; drop the rest quietly
                for name in ("distributed", "tornado", "asyncio"):
                    logging.getLogger(name).setLevel(logging.CRITICAL + 1)
            with contextlib.suppress(Exception) if stop.is_set() else contextlib.nullcontext():
                if client is not None:
                    client.close()
                if cluster is not None:
                    cluster.close()
    if stop.is_set():
        raise KeyboardInterrupt


def _work(args):
    cfg, i, models = args
    from symbolic.registry import restore_user_models

    restore_user_models(models)               # a Dask worker: the user's models, as registered here
    return i, run_chunk(cfg, i)


def _warm_with_models(cfg: SweepConfig, models):
    from symbolic.registry import restore_user_models

    restore_user_models(models)
    warm(cfg)


def _die_with_parent(parent: int):
    """Make this worker process exit when ``parent`` dies, even by SIGKILL: on Linux the kernel sends
    SIGTERM (prctl PR_SET_PDEATHSIG); everywhere a watchdog thread polls the parent id as well."""
    if sys.platform.startswith("linux"):
        import ctypes

        try:
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGTERM), 0, 0, 0)   # 1: PR_SET_PDEATHSIG
        except (OSError, AttributeError):  # pragma: no cover - no prctl in this libc
            pass
    if os.getppid() != parent:            # it died before prctl took effect
        os._exit(1)

    def watch():
        while True:
            time.sleep(1.0)
            if os.getppid() != parent:
                os._exit(1)

    threading.Thread(target=watch, name="ssldyn-parent-watch", daemon=True).start()


def _init_worker(cfg: SweepConfig, parent: int, models=()):
    """Process-pool initializer: die with the parent, leave Ctrl-C to the parent, register the
    user's models (a spawned worker starts without them), compile."""
    from symbolic.registry import restore_user_models

    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    restore_user_models(models)
    warm(cfg)
