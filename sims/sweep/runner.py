"""Running a sweep: chunks on a process pool or Dask, one writer holding the folder lock, resume.

Only the parent process writes, holding an exclusive lock on ``OUT/.lock`` for the run (a second
sweep into the same folder is refused): each finished chunk goes to ``chunk_NNNNN.npz``
(temporary file + rename), then its SHA-256 onto the journal ``chunks.log`` (one line appended
and fsynced; ``manifest.json`` takes the whole table, atomically, when a run starts and ends, so
the cost of a chunk does not grow with the chunks done). Re-running skips
chunks whose file matches the recorded checksum, index and length and recomputes every other one
(missing, partial, corrupted, swapped), so a sweep killed at any point resumes to a
bitwise-identical result. Pool workers exit when the parent dies (even by SIGKILL).

Size: over 400 lines only with the docstrings (run_sweep's numpydoc sections and example); the
code itself stays under 400 lines (tests/test_module_size.py).
"""
from __future__ import annotations

import contextlib
import fcntl
import os
import re
import signal
import stat
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from symbolic.errors import ParameterError, check_int
from symbolic.model_files import user_models_state

from ..io import write_json, write_npz
from .config import SweepConfig, check_disk, check_kernel_axes, load_config
from .manifest import (JOURNAL, MANIFEST, append_journal, check_manifest, check_model_unchanged, chunk_config_hash,
                       chunk_path, manifest_cap, new_manifest, read_chunk, read_journal, read_json)
from .tasks import run_chunk, warm


def max_workers() -> int:
    """The most local worker processes a sweep starts: 4 per core."""
    return 4 * (os.cpu_count() or 1)


#: temporary files of sims.io's atomic writes of this sweep's own files: ``NAME.XXXX.tmp``
_OWN_TMP = re.compile(r"^(?:chunk_(\d{5,})\.npz|manifest\.json)\..+\.tmp$")
_CHUNK = re.compile(r"chunk_(\d{5,})\.npz")


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


def _load_manifest(out: Path, cfg: SweepConfig, say) -> dict:
    """The manifest to resume with: the one in ``out`` (checked against ``cfg``, with the chunks of
    its journal) with fresh fields, or a new one. A ``manifest.json`` that cannot be read is taken
    over only when every chunk file in the folder carries this config's hash (then every chunk is
    recomputed, and ``say`` tells so); a folder with chunks of another sweep, or a ``manifest.json``
    that is not an ssldyn manifest, is refused."""
    path = out / MANIFEST
    if not os.path.lexists(path):
        _check_own_chunks(out, cfg, "has chunk files but no manifest.json")
        return new_manifest(cfg)
    mode = os.lstat(path).st_mode
    if not stat.S_ISREG(mode):
        raise ParameterError(f"{path} is not a regular file; {out} is not a sweep folder: use another --out")
    cap = manifest_cap(cfg)
    if os.path.getsize(path) > cap:
        raise ParameterError(f"{path} is {os.path.getsize(path)} bytes, more than a manifest of this sweep can be "
                             f"({cap}): not an ssldyn manifest; use another --out or delete it")
    try:
        m = read_json(path, cap, str(path))
    except ParameterError as e:
        why = str(e).split(" (", 1)[-1].split(")", 1)[0] if " (" in str(e) else str(e)
        _check_own_chunks(out, cfg, f"has a manifest.json that is not readable ({why})", none_ok=False)
        say(f"manifest.json unreadable ({why}): recomputing all {cfg.n_chunks} chunks")
        return new_manifest(cfg)
    if not isinstance(m, dict) or "config_hash" not in m or "chunks" not in m:
        raise ParameterError(f"{path} is not an ssldyn sweep manifest; use another --out or delete it")
    check_model_unchanged(m, cfg, out)
    if m.get("config_hash") != cfg.hash:
        raise ParameterError(f"{out} holds a sweep of a different config (hash {str(m.get('config_hash'))[:12]}); "
                             "use another --out or delete it")
    check_manifest(m, cfg, path)
    return {**new_manifest(cfg), "chunks": {**m["chunks"], **read_journal(out, cfg)}}


def _check_own_chunks(out: Path, cfg: SweepConfig, what: str, none_ok: bool = True) -> None:
    """Raise unless every ``chunk_NNNNN.npz`` in ``out`` is a chunk of ``cfg`` (index and stored config
    hash); with ``none_ok=False`` also when there is none (nothing shows the folder is ours)."""
    names = [e.name for e in os.scandir(out) if _CHUNK.fullmatch(e.name)]
    for name in sorted(names):
        i = int(_CHUNK.fullmatch(name).group(1))
        if i >= cfg.n_chunks or chunk_config_hash(out, cfg, i) != cfg.hash:
            raise ParameterError(f"{out} {what} and {name} is not a chunk of this sweep; "
                                 "use another --out or delete the folder")
    if not names and not none_ok:
        raise ParameterError(f"{out} {what} and no chunk of this sweep: it is not taken over; "
                             "use another --out or delete it")


def run_sweep(config_path: str | os.PathLike, out_dir: str | os.PathLike, *, workers: int | None = None,
              scheduler: str | None = None, dask_local: int | None = None, progress: bool = True,
              report: Callable[[str], object] | None = None) -> dict:
    r"""Run (or resume) a sweep; returns the manifest. All checks (config, sizes, free disk space,
    worker count) come before anything is written; the folder is locked for the run.

    ``report``, if given, is called with one line on a resume, ``resumed: 6 of 10 chunks already
    done, 4 to run`` (their checksums verified), one line per chunk computed, ``chunk 3/10:
    computed`` (chunks numbered from 0, as their files), then a count ``chunks: 4 computed, 6
    skipped (checksum ok)``.

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
        ``model``, ``task``, ``shape``, ``axes`` (their names: the values follow from the config),
        ``n_points``, ``chunk_size``, ``n_chunks``, ``chunks`` (chunk index -> SHA-256 of its
        file), ``versions``, ...

    Raises
    ------
    ParameterError
        If ``workers`` or ``dask_local`` is out of range, the folder cannot be created, another
        sweep holds its lock, it holds a sweep of a different config, a ``manifest.json`` that is
        not an ssldyn manifest or chunks of another sweep, or a worker process dies
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
    resumed: 1 of 1 chunks already done, 0 to run
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
        bars = []                                               # the progress bar, once there is one
        say = _reporter(report, lambda: bars[0] if bars else None)
        manifest = _load_manifest(out, cfg, say)
        _remove_own_temp_files(out, cfg)
        todo = [i for i in range(cfg.n_chunks) if read_chunk(out, cfg, manifest, i)[1] is not None]
        for i in todo:
            manifest["chunks"].pop(str(i), None)
        if len(todo) < cfg.n_chunks:                            # one line for the chunks found done
            say(f"resumed: {cfg.n_chunks - len(todo)} of {cfg.n_chunks} chunks already done, {len(todo)} to run")
        _write_manifest(out, manifest)                          # the table folded in; the journal restarts
        journal = _open_journal(out)

        def finish(i, arrays):
            # the chunk first, then its checksum: one line appended to the journal
            digest = write_npz(chunk_path(out, i), {**arrays, "_chunk": np.int64(i), "_config_hash": np.str_(cfg.hash)},
                               clean_stale=False)
            manifest["chunks"][str(i)] = digest
            append_journal(journal, i, digest)
            say(f"chunk {i}/{cfg.n_chunks}: computed")
            if bars:
                bars[0].update(1)

        try:
            _compute(cfg, todo, finish, workers, scheduler, dask_local, progress, bars)
        except BaseException:
            with contextlib.suppress(Exception):                # keep what is done in the manifest too
                _write_manifest(out, manifest)
            raise
        finally:
            os.close(journal)
        _write_manifest(out, manifest)
        say(f"chunks: {len(todo)} computed, {cfg.n_chunks - len(todo)} skipped (checksum ok)")
    return manifest


def _write_manifest(out: Path, manifest: dict) -> None:
    """Write ``manifest.json`` (its table holds every chunk recorded), then drop the journal."""
    write_json(out / MANIFEST, manifest)
    with contextlib.suppress(FileNotFoundError):
        os.unlink(out / JOURNAL)


def _open_journal(out: Path) -> int:
    try:
        return os.open(out / JOURNAL, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NOFOLLOW, 0o666)
    except OSError as e:
        raise ParameterError(f"{out}: cannot write the chunk journal {JOURNAL}: {e.strerror or e}") from None


def _compute(cfg, todo, finish, workers, scheduler, dask_local, progress, bars):
    """Compute the chunks ``todo`` (Dask, the pool, or here), calling ``finish(i, arrays)`` for each;
    a progress bar (appended to ``bars``) with ``progress``."""
    if todo:
        warm(cfg)                                           # compile once, here; workers load the cache
    if progress and todo:
        from tqdm import tqdm
        bars.append(tqdm(total=len(todo), unit="chunk", desc="sweep"))
    try:
        if scheduler or dask_local:
            _run_dask(cfg, todo, finish, scheduler, dask_local)
        elif (workers or os.cpu_count() or 1) <= 1 or len(todo) <= 1:
            for i in todo:
                finish(i, run_chunk(cfg, i))
        else:
            _run_pool(cfg, todo, finish, workers or os.cpu_count())
    finally:
        if bars:
            bars[0].close()


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
    from symbolic.model_files import restore_user_models

    restore_user_models(models)               # a Dask worker: the user's models, as registered here
    return i, run_chunk(cfg, i)


def _warm_with_models(cfg: SweepConfig, models):
    from symbolic.model_files import restore_user_models

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
    from symbolic.model_files import restore_user_models

    _die_with_parent(parent)
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    restore_user_models(models)
    warm(cfg)
