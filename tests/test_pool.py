"""Worker isolation: a crashing and a hanging program cost only themselves."""

from __future__ import annotations

import numpy as np
import pytest

from kernel_synth.grammar import parse
from kernel_synth.grammar.sampling import draw_programs
from kernel_synth.backends.faults import ABORT_MARK, HANG_MARK
from kernel_synth.backends.pool import BatchPool, PoolError
from kernel_synth.backends.warp_backend import WarpCompiler


def _marked(name: str, value: float):
    return parse(f"@kernel\ndef {name}(o: Out[array[float32]]):\n    i = tid()\n    o[i] = {value!r}\n")


@pytest.mark.compiler
def test_crash_and_hang_are_isolated_and_other_results_survive(tmp_path):
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
