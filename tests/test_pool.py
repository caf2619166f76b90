"""Worker isolation: a crashing and a hanging program cost only themselves."""

from __future__ import annotations

import os
import time
from concurrent.futures import Future
from pathlib import Path

import numpy as np
import pytest

from kernel_synth.backends.executor import BatchExecutor, WorkerCrashed, WorkerLost, WorkerStartError, WorkerTimedOut
from kernel_synth.backends.faults import ABORT_MARK, HANG_MARK
from kernel_synth.backends.outcome import Outcome
from kernel_synth.backends.pool import WORKER_LOG, BatchPool, PoolError
from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_programs

# The spawned workers import the fake backends from here: they inherit sys.path.
HERE = Path(__file__).parent
ECHO = "pool_fakes:EchoBackend"


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    import pool_fakes

    return pool_fakes


def _marked(name: str, value: float):
    return parse(f"@kernel\ndef {name}(o: Out[array[float32]]):\n    i = tid()\n    o[i] = {value!r}\n")


def _numbered(count: int, marks: dict[int, float] | None = None):
    """Programs k0, k1, ... writing their own number, or the mark given for their index."""
    marks = marks or {}
    return [_marked(f"k{i}", marks.get(i, float(i))) for i in range(count)]


@pytest.mark.compiler
def test_crash_and_hang_are_isolated_and_other_results_survive(tmp_path):
    from kernel_synth.backends.warp_backend import WarpCompiler

    programs = list(draw_programs(6, seed=2))
    programs[1] = _marked("kcrash", ABORT_MARK)
    programs[4] = _marked("khang", HANG_MARK)
    with BatchPool("kernel_synth.backends.faults:FaultyCompiler", {"run": True}, workers=2, timeout=10, per_program=1) as pool:
        outcomes = pool.run(programs, batch_size=3)
    assert [o.status for o in outcomes] == ["ok", "crash", "ok", "ok", "timeout", "ok"]
    assert outcomes[1].message.startswith("worker killed by SIGABRT")

    direct = WarpCompiler("cpu", tmp_path / "direct").compile([programs[i] for i in (0, 2, 3, 5)])
    for index, expected in zip((0, 2, 3, 5), direct):
        got = outcomes[index].outputs
        assert got.keys() == expected.outputs.keys()
        for name in got:
            np.testing.assert_array_equal(got[name], expected.outputs[name])


def test_a_worker_that_cannot_start_is_a_pool_error():
    with pytest.raises(PoolError, match="could not start"):
        with BatchPool("kernel_synth.backends.nonexistent:Nothing", workers=1) as pool:
            pool.run(list(draw_programs(1, seed=0)))


def test_a_backend_that_cannot_be_built_is_a_pool_error_naming_why(fakes):
    with pytest.raises(PoolError, match="could not start: RuntimeError: this compiler is not installed"):
        with BatchPool(ECHO, {"fail": True}, workers=2) as pool:
            pool.run(_numbered(4), batch_size=2)


# -- real worker processes, no compiler


def test_an_aborting_program_is_the_only_crash_and_its_report_names_the_signal(fakes):
    programs = _numbered(6, {1: fakes.ABORT})
    with BatchPool(ECHO, workers=2, timeout=30) as pool:
        outcomes = pool.run(programs, batch_size=3)
    assert [o.status for o in outcomes] == ["ok", "crash", "ok", "ok", "ok", "ok"]
    assert outcomes[1].stage == "compile"
    assert outcomes[1].message.startswith("worker killed by SIGABRT")
    assert "about to abort" in outcomes[1].message  # the tail of the worker's log
    assert [o.message.split("|")[0] for i, o in enumerate(outcomes) if i != 1] == ["k0", "k2", "k3", "k4", "k5"]


def test_a_hanging_program_is_the_only_timeout_and_the_run_ends_in_bounded_time(fakes):
    programs = _numbered(6, {4: fakes.HANG})
    start = time.monotonic()
    with BatchPool(ECHO, workers=2, timeout=1, per_program=0.5) as pool:
        outcomes = pool.run(programs, batch_size=3)
    # three kills in a row (the batch of 3, its half of 2, the program), each after
    # its limit plus pebble's grace before SIGKILL: far below the hour it sleeps
    assert time.monotonic() - start < 60
    assert [o.status for o in outcomes] == ["ok", "ok", "ok", "ok", "timeout", "ok"]
    assert outcomes[4].message.startswith("worker overran its time limit")


def test_an_exception_escaping_the_backend_is_a_crash_with_its_traceback(fakes):
    programs = _numbered(4, {2: fakes.RAISE})
    with BatchPool(ECHO, workers=1, timeout=30) as pool:
        outcomes = pool.run(programs, batch_size=4)
    assert [o.status for o in outcomes] == ["ok", "ok", "crash", "ok"]
    assert outcomes[2].message.startswith("worker exited with code 1")
    assert "ValueError: a bug in the backend" in outcomes[2].message


def test_each_worker_process_has_its_own_fresh_directory_under_the_root_with_its_temporary_files(fakes, tmp_path):
    root = tmp_path / "pool"
    programs = _numbered(8, {3: fakes.ABORT})
    with BatchPool(ECHO, workers=2, timeout=30, root=str(root)) as pool:
        outcomes = pool.run(programs, batch_size=2)
        seen, scratches = {}, set()
        for outcome in outcomes:
            if outcome.ok:
                _, workdir, found, pid, scratch = outcome.message.split("|")
                assert seen.setdefault(pid, workdir) == workdir  # one directory per process
                assert Path(workdir).parent == root
                # nothing in it but its log and its temporary files' directory when the backend was built
                assert found == f"tmp,{WORKER_LOG}"
                scratches.add(scratch)
                assert Path(scratch).parent == Path(workdir) / "tmp"
        assert len(set(seen.values())) == len(seen)
        for workdir in root.glob("worker-*"):  # the dead worker's directory (its kernel cache) is gone
            os.kill(int(workdir.name.split("-")[1]), 0)
    assert outcomes[3].status == "crash"
    assert not root.exists()
    assert scratches and not any(Path(s).exists() for s in scratches)  # temporary files went with their worker


def test_results_come_in_order_and_each_lands_once(fakes):
    programs = _numbered(10)
    landed = []
    with BatchPool(ECHO, workers=2, timeout=30) as pool:
        outcomes = pool.run(programs, batch_size=3, on_result=lambda index, outcome: landed.append((index, outcome)))
        again = pool.run(programs[:2], batch_size=1)  # the same warm workers, a second time
    assert [o.message.split("|")[0] for o in outcomes] == [f"k{i}" for i in range(10)]
    assert sorted(index for index, _ in landed) == list(range(10))
    assert all(outcome is outcomes[index] for index, outcome in landed)
    assert [o.message.split("|")[0] for o in again] == ["k0", "k1"]


# -- the bisection, above any executor


class FakeExecutor(BatchExecutor):
    """In this process, one batch at a time: `failures` maps a kernel name to
    the exception any batch holding it raises."""

    def __init__(self, failures: dict[str, Exception], workers: int = 1):
        self.failures = failures
        self.workers = workers
        self.submitted: list[list[str]] = []
        self.closed = False

    def __call__(self, factory, options, *, workers, root):
        return self

    def submit(self, batch, timeout):
        names = [parse(text).kernels[0].name for text in batch.texts]
        self.submitted.append(names)
        future = Future()
        failure = next((self.failures[n] for n in names if n in self.failures), None)
        if failure is not None:
            future.set_exception(failure)
        else:
            future.set_result([Outcome("ok", message=n) for n in names])
        return future

    def shutdown(self):
        self.closed = True


def test_the_pool_bisects_the_same_way_on_any_executor():
    fake = FakeExecutor({"k5": WorkerCrashed(-11, "segv in the log"), "k1": WorkerTimedOut(9.0)})
    with BatchPool("unused:factory", executor=fake) as pool:
        outcomes = pool.run(_numbered(8), batch_size=8)
    assert fake.closed
    assert [o.status for o in outcomes] == ["ok", "timeout", "ok", "ok", "ok", "crash", "ok", "ok"]
    assert outcomes[5] == Outcome("crash", "compile", "worker killed by SIGSEGV\nsegv in the log")
    assert outcomes[1] == Outcome("timeout", "compile", "worker overran its time limit")
    # halves first, the first half before the second
    assert fake.submitted == [
        [f"k{i}" for i in range(8)],
        ["k0", "k1", "k2", "k3"],
        ["k0", "k1"],
        ["k0"],
        ["k1"],
        ["k2", "k3"],
        ["k4", "k5", "k6", "k7"],
        ["k4", "k5"],
        ["k4"],
        ["k5"],
        ["k6", "k7"],
    ]


def test_a_lost_batch_is_run_again_whole_and_a_start_failure_stops_the_run():
    class LosesOnce(FakeExecutor):
        def submit(self, batch, timeout):
            future = super().submit(batch, timeout)
            if len(self.submitted) == 1:
                future = Future()
                future.set_exception(WorkerLost("the pool broke"))
            return future

    fake = LosesOnce({})
    with BatchPool("unused:factory", executor=fake) as pool:
        assert all(o.ok for o in pool.run(_numbered(4), batch_size=4))
    assert fake.submitted == [["k0", "k1", "k2", "k3"]] * 2

    with pytest.raises(PoolError, match="lost the same batch 3 times"):
        with BatchPool("unused:factory", executor=FakeExecutor({"k0": WorkerLost("gone")})) as pool:
            pool.run(_numbered(2), batch_size=2)

    with pytest.raises(PoolError, match="could not start: no compiler"):
        with BatchPool("unused:factory", executor=FakeExecutor({"k1": WorkerStartError("no compiler")})) as pool:
            pool.run(_numbered(2), batch_size=1)


class SlowExecutor(BatchExecutor):
    """Threads that take `seconds` per batch, `workers` at a time."""

    def __init__(self, seconds: float, workers: int):
        from concurrent.futures import ThreadPoolExecutor

        self.seconds = seconds
        self.workers = workers
        self.threads = ThreadPoolExecutor(workers)

    def submit(self, batch, timeout):
        def answer():
            time.sleep(self.seconds)
            return [Outcome("ok") for _ in batch.texts]

        return self.threads.submit(answer)

    def shutdown(self):
        self.threads.shutdown()


def test_busy_time_counts_workers_with_a_batch_even_across_threads():
    """Two threads run at once on one pool (as the campaign's pipeline does):
    every result comes back, and the busy account never counts more workers
    than there are, nor less than the batches' own time."""
    from concurrent.futures import ThreadPoolExecutor

    slow = SlowExecutor(0.2, workers=2)
    with BatchPool("unused:factory", workers=2, executor=lambda *a, **k: slow) as pool:
        began = time.monotonic()
        with ThreadPoolExecutor(2) as threads:
            runs = [threads.submit(pool.run, _numbered(4), batch_size=1) for _ in range(2)]
            assert all(o.ok for run in runs for o in run.result())
        wall = time.monotonic() - began
        busy = pool.busy_seconds
    assert 8 * 0.2 <= busy <= 2 * wall + 1e-6
    time.sleep(0.1)
    assert pool.busy_seconds == busy  # no batch in flight: idle time is not busy
