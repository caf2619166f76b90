"""The Ray executor on a local Ray started here (two CPUs): the pool's
isolation and bisection unchanged above it, an actor killed in the middle of
a batch costing nothing, and campaigns and datasets the same as locally."""

from __future__ import annotations

import logging
import os
import threading
import time
from pathlib import Path

import pytest

from kernel_synth.backends.executor import WorkerLost
from kernel_synth.backends.pool import BatchPool, PoolError
from kernel_synth.grammar import parse, print_program

ray = pytest.importorskip("ray")

from kernel_synth.backends.ray_executor import RayExecutor, RayPlacement  # noqa: E402

from test_pool import ECHO, _numbered  # noqa: E402

HERE = Path(__file__).parent
SLOW = "ray_fakes:SlowEcho"


@pytest.fixture(scope="module")
def cluster():
    started = not ray.is_initialized()
    if started:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR)
    yield ray.cluster_resources()
    if started:
        ray.shutdown()


@pytest.fixture
def placement(cluster, fakes):
    # the actors' worker processes import the fake backends from here
    return RayPlacement(workers=2, cluster=cluster, env={"PYTHONPATH": str(HERE)})


@pytest.fixture
def fakes(monkeypatch):
    monkeypatch.syspath_prepend(str(HERE))
    import pool_fakes

    return pool_fakes


def _pool(placement, factory=ECHO, options=None, **kwargs) -> BatchPool:
    return BatchPool(factory, options or {}, workers=2, executor=placement.executor(needs_device=False, side=False), **kwargs)


def test_batches_come_back_in_order_from_warm_actors_each_with_its_own_cache(placement):
    with _pool(placement) as pool:
        first = pool.run(_numbered(8), batch_size=2)
        again = pool.run(_numbered(8), batch_size=2)
    assert [o.message.split("|")[0] for o in first + again] == [f"k{i}" for i in range(8)] * 2
    workdirs = {o.message.split("|")[1] for o in first}
    pids = {o.message.split("|")[3] for o in first}
    # two workers, each in a directory (so a kernel cache) of its own, and
    # warm: the second run is answered by the same processes
    assert len(workdirs) == 2 and len(pids) == 2
    assert {o.message.split("|")[3] for o in again} == pids


def test_a_crash_and_a_hang_are_the_same_findings_as_locally_and_cost_only_themselves(placement, fakes):
    programs = _numbered(6, {1: fakes.ABORT, 4: fakes.HANG})
    with _pool(placement, timeout=2, per_program=0.5) as pool:
        on_ray = pool.run(programs, batch_size=3)
    with BatchPool(ECHO, workers=2, timeout=2, per_program=0.5) as pool:
        local = pool.run(programs, batch_size=3)
    assert [o.status for o in on_ray] == [o.status for o in local] == ["ok", "crash", "ok", "ok", "timeout", "ok"]
    # the same words, so the same signature and bucket: the actor's worker
    # died, the actor reports how
    assert on_ray[1].message.splitlines()[0] == local[1].message.splitlines()[0] == "worker killed by SIGABRT"
    assert "about to abort" in on_ray[1].message  # the tail of its worker's log
    assert on_ray[4].message.splitlines()[0] == "worker overran its time limit"


def test_a_backend_that_cannot_be_built_is_a_pool_error_naming_why(placement):
    with pytest.raises(PoolError, match="could not start: RuntimeError: this compiler is not installed"):
        with _pool(placement, options={"fail": True}) as pool:
            pool.run(_numbered(4), batch_size=2)


def test_killing_an_actor_mid_batch_loses_no_program_and_no_finding(placement, fakes, tmp_path):
    pids = tmp_path / "pids"
    pids.mkdir()
    programs = _numbered(8, {5: fakes.ABORT})
    killed = []

    with _pool(placement, SLOW, {"delay": 1.5, "pids": str(pids)}, timeout=30) as pool:

        def kill_one():
            # the first actor seen with a batch, while its worker sleeps in it
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline and not killed:
                executor = pool._executor
                busy = executor.actors() if executor is not None else []
                if busy and len(list(pids.iterdir())) == 2:  # both workers built: in their batches now
                    time.sleep(0.5)
                    ray.kill(busy[0], no_restart=True)
                    killed.append(busy[0])
                time.sleep(0.1)

        killer = threading.Thread(target=kill_one)
        killer.start()
        outcomes = pool.run(programs, batch_size=2)
        killer.join()
        alive = [p for p in pids.iterdir() if _alive(int(p.name))]
    assert killed
    assert [o.message.split("|")[0] for i, o in enumerate(outcomes) if i != 5] == [f"k{i}" for i in range(8) if i != 5]
    assert [o.status for o in outcomes] == ["ok"] * 5 + ["crash"] + ["ok"] * 2
    # a new actor took the killed one's place; the workers still alive are
    # those that answered (the killed actor's and the crashed one are gone)
    assert len(list(pids.iterdir())) >= 3
    assert {p.name for p in alive} <= {o.message.split("|")[3] for o in outcomes if o.status == "ok"}


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_an_actor_that_dies_is_worker_lost_its_hung_worker_ends_and_a_new_actor_takes_over(cluster, fakes, tmp_path):
    from kernel_synth.backends.executor import Batch
    from kernel_synth.grammar import print_program

    pids = tmp_path / "pids"
    pids.mkdir()
    executor = RayExecutor(SLOW, {"pids": str(pids)}, workers=1, env={"PYTHONPATH": str(HERE)})
    try:
        hanging = Batch(tuple(print_program(p) for p in _numbered(2, {1: fakes.HANG})))
        future = executor.submit(hanging, timeout=600)
        deadline = time.monotonic() + 120
        while not list(pids.iterdir()) and time.monotonic() < deadline:  # its worker is in the batch
            time.sleep(0.1)
        (worker,) = [int(p.name) for p in pids.iterdir()]
        ray.kill(executor.actors()[0], no_restart=True)
        with pytest.raises(WorkerLost, match="killed by `ray.kill`"):
            future.result(timeout=60)
        # the hung worker does not outlive its actor
        deadline = time.monotonic() + 10
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not _alive(worker)
        clean = Batch(tuple(print_program(p) for p in _numbered(2)))
        assert [o.message.split("|")[0] for o in executor.submit(clean, timeout=60).result(timeout=180)] == ["k0", "k1"]
    finally:
        executor.shutdown()


def test_more_workers_than_the_cluster_has_cpus_is_refused_before_any_work(cluster, capsys, tmp_path):
    from kernel_synth.synth.cli import main

    corpus = tmp_path / "corpus"
    assert main(["fuzz", "--budget", "5s", "--oracles", "compile", "--corpus", str(corpus), "--executor", "ray", "--workers", "3"]) == 2
    # waiting for a third CPU would never end
    assert capsys.readouterr().err == "synth: error: --workers 3: the Ray cluster has 2 CPUs (one per worker)\n"
    assert not corpus.exists()


# -- campaigns and datasets: the same results as locally

FORWARD = frozenset({"compile", "crash", "timeout", "forward", "nondeterminism"})


def _campaign(corpus: Path, placement, faults: str, budget: float, monkeypatch) -> dict:
    from kernel_synth.synth.campaign import Campaign, CampaignConfig

    monkeypatch.setenv("KERNEL_SYNTH_FAULTS", faults)  # the actors get it too (RayExecutor forwards it)
    # one fuzzing worker: the other core is the shrinker's, so that the shrinks
    # finish within the budget under either executor
    config = CampaignConfig(budget=budget, backends=("faulty-warp-cpu",), seed=0, workers=1, corpus=corpus, oracles=FORWARD, placement=placement)
    return Campaign(config).run()


def _stored(summary: dict, signature: str):
    from kernel_synth.synth.corpus import read_case

    (bucket,) = [b for b in summary["buckets"] if b["signature"] == signature]
    (path,) = bucket["corpus"]
    return read_case(Path(path))


def _same_findings_as_locally(cluster, tmp_path, monkeypatch, faults: str, injected: set[str], budget: float) -> None:
    from kernel_synth.backends.executor import LOCAL

    placement = RayPlacement(workers=1, cluster=cluster)
    on_ray = _campaign(tmp_path / "ray", placement, faults, budget, monkeypatch)
    local = _campaign(tmp_path / "local", LOCAL, faults, budget, monkeypatch)
    assert on_ray["executor"] == "ray" and local["executor"] == "local"
    for summary in (on_ray, local):
        assert injected <= {b["signature"] for b in summary["buckets"]}, summary["buckets"]
        assert summary["unconfirmed"] == 0
    for signature in injected:
        ray_case, local_case = _stored(on_ray, signature), _stored(local, signature)
        assert signature not in on_ray["shrink"]["cut_short"] + local["shrink"]["cut_short"]
        # shrunk and confirmed in a fresh worker (else it would be stored unshrunk)
        assert ray_case.header.shrunk and local_case.header.shrunk
        # the same program, the same minimal result (the headers differ in their dates)
        assert print_program(parse(ray_case.text)) == print_program(parse(local_case.text))
        assert ray_case.header.index == local_case.header.index
    # the driver wrote the corpus as a local campaign does: it replays unchanged
    from kernel_synth.synth.replay import ReplayStatus, replay

    assert {r.status for r in replay([tmp_path / "ray"])} == {ReplayStatus.STILL_FAILING}


@pytest.mark.slow  # two 60-s campaigns; CI (under 30 minutes) keeps the crash-and-hang parity test
@pytest.mark.compiler
def test_a_campaign_on_ray_finds_shrinks_confirms_and_stores_what_the_local_one_does(cluster, tmp_path, monkeypatch):
    # a rejection and a miscompilation: their shrinks judge candidates in
    # groups, so both finish in a short budget on two cores (60 s: with four
    # helpers drawn now and then, seed 0's floor program no longer shrank in
    # 40 s inside the whole suite)
    injected = {"faulty-warp-cpu:codegen:WarpCodegenError: injected rejection of sqrt()", "faulty-warp-cpu:forward:float-value"}
    _same_findings_as_locally(cluster, tmp_path, monkeypatch, "reject:sqrt,wrong:floor", injected, budget=60)


@pytest.mark.slow
@pytest.mark.compiler
def test_a_crashing_fault_on_ray_is_the_same_bucket_and_shrinks_to_the_same_program(cluster, tmp_path, monkeypatch):
    # a crash is shrunk one candidate at a time, each crashing one costing a
    # worker's restart (an actor's worker on Ray): minutes on two cores
    injected = {"faulty-warp-cpu:compile:worker killed by SIGABRT", "faulty-warp-cpu:forward:float-value"}
    _same_findings_as_locally(cluster, tmp_path, monkeypatch, "crash:atan2,wrong:floor", injected, budget=180)


@pytest.mark.compiler
def test_generate_on_ray_writes_the_same_rows_as_locally(cluster, tmp_path):
    from kernel_synth.synth.cli import main

    def generate(out: Path, *executor: str) -> list[str]:
        command = ["generate", "--count", "12", "--seed", "3", "--out", str(out), "--corpus", str(tmp_path / "c"), "--workers", "2", *executor]
        assert main(command) == 0
        return out.read_text().splitlines()

    on_ray = generate(tmp_path / "ray.jsonl", "--executor", "ray")
    local = generate(tmp_path / "local.jsonl")
    assert len(on_ray) == 12
    assert on_ray == local  # row for row, byte for byte: IR, sources and metadata
