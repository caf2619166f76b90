"""Choosing the executor: the options' errors, and where Ray actors are
placed; no Ray, no compiler needed."""

from __future__ import annotations

import sys
import time

import pytest

from kernel_synth.backends.ray_executor import SIDE_POOLS, ActorResources, actor_resources
from kernel_synth.synth.cli import main


@pytest.mark.parametrize("command", [["fuzz", "--budget", "5s"], ["generate", "--count", "3", "--out", "x.jsonl"]])
def test_executor_ray_without_ray_is_one_line_naming_the_extra(command, monkeypatch, capsys, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is not installed
    assert main([*command, "--executor", "ray"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("synth: error: --executor ray:") and "pip install 'kernel-synth[ray]'" in err
    assert not list(tmp_path.iterdir())  # refused before any work


def test_a_ray_address_without_the_ray_executor_is_refused(capsys):
    assert main(["fuzz", "--budget", "5s", "--ray-address", "auto"]) == 2
    assert capsys.readouterr().err == "synth: error: --ray-address: only with --executor ray\n"


@pytest.mark.parametrize(
    "address, said",
    [("127.0.0.1:1", "--ray-address: nothing answers at 127.0.0.1:1"), ("nonsense", "--ray-address: 'nonsense' is not auto, HOST:PORT or ray://HOST:PORT")],
)
def test_a_ray_address_where_no_cluster_answers_is_one_line_at_once(address, said, capsys, tmp_path):
    pytest.importorskip("ray")
    began = time.monotonic()
    assert main(["generate", "--count", "3", "--out", str(tmp_path / "x.jsonl"), "--executor", "ray", "--ray-address", address]) == 2
    assert time.monotonic() - began < 30  # Ray alone would retry for minutes
    err = capsys.readouterr().err
    assert err.startswith(f"synth: error: {said}") and err.count("\n") == 1, err
    assert not (tmp_path / "x.jsonl").exists()


def test_an_unknown_executor_is_refused_naming_the_choices(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["fuzz", "--budget", "5s", "--executor", "dask"])
    assert exit_.value.code == 2
    assert "--executor: invalid choice: 'dask'" in capsys.readouterr().err


CPU_ONLY = {"CPU": 64.0}
EIGHT_GPUS = {"CPU": 64.0, "GPU": 8.0}


def test_compile_only_work_goes_anywhere_and_fuzzing_workers_hold_a_core():
    # a backend that needs no GPU never asks for one, even where there are some
    assert actor_resources(needs_device=False, side=False, workers=60, cluster=EIGHT_GPUS) == ActorResources(1.0, 0.0)
    # a pool beside the fuzzing shares the cores, as it does locally
    assert actor_resources(needs_device=False, side=True, workers=60, cluster=EIGHT_GPUS) == ActorResources(0.0, 0.0)
    # a backend that runs on a GPU only compiles on a cluster without one: anywhere
    assert actor_resources(needs_device=True, side=False, workers=60, cluster=CPU_ONLY) == ActorResources(1.0, 0.0)


def test_gpu_backends_ask_for_a_gpu_share_that_lets_every_pool_fit():
    resources = actor_resources(needs_device=True, side=False, workers=60, cluster=EIGHT_GPUS)
    assert 0 < resources.num_gpus < 1
    # the fuzzing workers and the side pools fit on the GPUs together
    assert resources.num_gpus * (60 + SIDE_POOLS) <= 8
    assert round(resources.num_gpus, 4) == resources.num_gpus  # Ray's precision
    side = actor_resources(needs_device=True, side=True, workers=60, cluster=EIGHT_GPUS)
    assert side.num_gpus == resources.num_gpus and side.num_cpus == 0
    # fewer workers than GPUs: a whole GPU each
    assert actor_resources(needs_device=True, side=False, workers=2, cluster=EIGHT_GPUS).num_gpus == 1.0
