"""`synth bisect`: release specifications (of warp-lang, or of jax with a
`jax:` prefix), a case's history read as since / first fixed, the environment
a release gets, and (slow, builds two environments each) a real Warp bug and a
real XLA one bisected across the releases that differ on them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_synth.synth.bisect import JAX, WARP, BisectError, CaseHistory, parse_releases, recorded_release, split_package
from kernel_synth.synth.cli import main
from kernel_synth.synth.corpus import read_case

AVAILABLE = ["1.0.2", "1.4.1", "1.4.2", "1.8.0", "1.18.0", "1.19.0"]
CORPORA = Path(__file__).resolve().parents[1] / "corpora"


def test_release_specifications():
    assert parse_releases("1.4.1..1.8.0", AVAILABLE) == ["1.4.1", "1.4.2", "1.8.0"]
    assert parse_releases("1.8.0..latest", AVAILABLE) == ["1.8.0", "1.18.0", "1.19.0"]
    assert parse_releases("..1.4.1", AVAILABLE) == ["1.0.2", "1.4.1"]
    assert parse_releases("1.19.0,1.0.2,latest", AVAILABLE) == ["1.0.2", "1.19.0"]
    for bad, words in [("2.0.0..latest", "no available warp-lang release"), ("one..two", "not a release number"), ("1.x", "not a release number"), (",", "no release named")]:
        with pytest.raises(BisectError, match=words):
            parse_releases(bad, AVAILABLE)


JAX_AVAILABLE = ["0.4.30", "0.4.38", "0.5.3", "0.6.2", "0.9.0", "0.9.0.1", "0.9.2", "0.10.2"]


def test_jax_specifications_name_their_package():
    assert split_package("jax:0.4.30..latest") == (JAX, "0.4.30..latest")
    assert split_package(" warp:1.0.2 ") == (WARP, "1.0.2") and split_package("warp-lang:1.0.2") == (WARP, "1.0.2")
    assert split_package("1.4.1..1.8.0") == (WARP, "1.4.1..1.8.0")
    # release numbers in numeric order: 0.10 after 0.9, a re-release after its base
    assert parse_releases("0.6.2..latest", JAX_AVAILABLE, JAX) == ["0.6.2", "0.9.0", "0.9.0.1", "0.9.2", "0.10.2"]
    assert parse_releases("..0.5.3", JAX_AVAILABLE, JAX) == ["0.4.30", "0.4.38", "0.5.3"]
    assert parse_releases("0.10.2,0.4.30,latest", JAX_AVAILABLE, JAX) == ["0.4.30", "0.10.2"]
    with pytest.raises(BisectError, match=r"unknown package 'numpy' \(one of warp-lang, jax\)"):
        split_package("numpy:1.0")
    with pytest.raises(BisectError, match="no available jax release in that range"):
        parse_releases("0.11.0..latest", JAX_AVAILABLE, JAX)


def test_a_jax_environment_installs_that_jax_and_keeps_the_other_pins(tmp_path, monkeypatch):
    """jax[cpu]==r (which brings r's jaxlib) over every pin of
    constraints.txt but jax's and jaxlib's, in a folder of its own."""
    from kernel_synth.synth import bisect as B

    monkeypatch.setenv("KERNEL_SYNTH_ENVS", str(tmp_path))
    commands, constraints = [], []

    def run(command, **_):
        commands.append(command)
        if command[1:3] == ["-m", "venv"]:
            (Path(command[-1]) / "bin").mkdir(parents=True)
            (Path(command[-1]) / "bin" / "python").touch()
        if "-c" in command:
            constraints.append(Path(command[command.index("-c") + 1]).read_text().splitlines())
        return subprocess.CompletedProcess(command, 0, "", "")

    monkeypatch.setattr(B.subprocess, "run", run)
    python = B.environment("0.4.30", package=JAX)
    assert python == tmp_path / "jax-0.4.30" / "bin" / "python" and (tmp_path / "jax-0.4.30" / B.DONE_MARK).exists()
    install = commands[-1]
    assert install[-1] == "jax[cpu]==0.4.30" and install[-2].endswith("[jax]")
    (pins,) = constraints
    assert not [line for line in pins if line.startswith(("jax==", "jaxlib=="))]
    assert any(line.startswith("warp-lang==") for line in pins) and any(line.startswith("numpy==") for line in pins)
    B.environment("0.4.30", package=JAX)  # built: reused, nothing run
    assert len(commands) == 2


def test_a_jax_case_is_bisected_from_the_jax_release_it_was_stored_under(tmp_path, monkeypatch):
    """The header's `jax 0.6.2` (not jaxlib's, not Warp's) is where it failed;
    both ends pass; every environment asked for is a jax one."""
    from kernel_synth.synth import bisect as B
    from kernel_synth.synth.corpus import CaseHeader, format_case

    case = tmp_path / "xla.kernel"
    versions = "kernel-synth 0.1.0, warp-lang 1.19.0, jax 0.6.2, jaxlib 0.6.1"
    header = CaseHeader("jax-cpu:forward:float-value", "forward", "run", "jax-cpu", "x", versions, seed=0, launch=4, origin="t")
    case.write_text(format_case(header, "@kernel\ndef k():\n    pass\n"))
    assert recorded_release(case, JAX) == "0.6.2" and recorded_release(case, WARP) == "1.19.0"
    packages = []

    def environment(release, log, package):
        packages.append(package)
        return Path(release)

    def replay_on(python, cases, backend):
        failing = B.release_parts("0.5.3") <= B.release_parts(str(python)) <= B.release_parts("0.9.0")
        return {str(case.resolve()): {"status": "still_failing" if failing else "fixed", "expected": "s"}}

    monkeypatch.setattr(B, "environment", environment)
    monkeypatch.setattr(B, "replay_on", replay_on)
    (history,), broken = B.bisect([case], JAX_AVAILABLE, search=True, package=JAX)
    assert history.verdict() == "fails on 0.5.3, 0.6.2, 0.9.0: since 0.5.3, first fixed in 0.9.0.1" and not broken
    assert set(packages) == {JAX}


def test_a_history_says_since_when_and_where_fixed():
    fixed = CaseHistory("a.kernel", "sig", {"1.0.2": "fixed", "1.4.1": "still_failing", "1.4.2": "fixed", "1.8.0": "fixed"})
    assert fixed.verdict() == "fails on 1.4.1: since 1.4.1, first fixed in 1.4.2" and fixed.first_fixed() == "1.4.2"
    open_bug = CaseHistory("b.kernel", "sig", {"1.0.2": "still_failing", "1.19.0": "still_failing"})
    assert open_bug.verdict() == "fails on 1.0.2, 1.19.0: since 1.0.2 or earlier, still failing on 1.19.0" and open_bug.first_fixed() is None
    never = CaseHistory("c.kernel", "sig", {"1.0.2": "fixed", "1.19.0": "changed"})
    assert never.verdict() == "fails on none of the releases tried (1.0.2 .. 1.19.0)"


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert main(["bisect", str(tmp_path / "missing.kernel"), "--releases", "1.0.2"]) == 2
    assert main(["bisect", str(tmp_path), "--releases", "1.0.2"]) == 2  # no case in it
    (tmp_path / "a.kernel").write_text("# kernel-synth corpus case\n")
    assert main(["bisect", str(tmp_path), "--releases", "1.x"]) == 2
    assert main(["bisect", str(tmp_path), "--releases", "numpy:1.0"]) == 2
    assert main(["replay", str(tmp_path), "--releases", "jax:0.x"]) == 2
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 5 and "no such file" in err[0] and "no .kernel case" in err[1] and "not a release number" in err[2]
    assert "unknown package 'numpy'" in err[3] and "'0.x' is not a release number" in err[4]


@pytest.mark.slow
def test_bisect_finds_where_a_real_warp_bug_was_fixed(tmp_path):
    """In-place `/=` on an array element did nothing on warp-lang 1.4.1 and
    was fixed in 1.4.2; an unparsable case and a release that does not exist
    each get one line, and the rest still runs. Builds two environments
    (about a minute each, then cached in KERNEL_SYNTH_ENVS)."""
    (stored,) = [p for p in (CORPORA / "warp-cpu").glob("warp-cpu-forward-float-value-*/*.kernel") if "origin: inplacediv" in p.read_text()]
    case = tmp_path / stored.name  # a copy: bisect writes the first fixed release into the header
    case.write_text(stored.read_text())
    bad = tmp_path / "bad.kernel"
    bad.write_text("# kernel-synth corpus case\n# signature: x\n@kernel\ndef k(:\n")
    env = {**os.environ, "KERNEL_SYNTH_ENVS": os.environ.get("KERNEL_SYNTH_ENVS", str(Path.home() / ".cache" / "kernel-synth" / "envs"))}
    run = subprocess.run(
        [sys.executable, "-m", "kernel_synth.synth.cli", "bisect", str(case), str(bad), "--releases", "1.4.1,1.4.2,1.0.99", "--json", str(tmp_path / "b.json")],
        capture_output=True, text=True, env=env, timeout=1200,
    )
    assert run.returncode == 2, run.stderr
    assert f"{case}: fails on 1.4.1: since 1.4.1 or earlier, first fixed in 1.4.2" in run.stdout, run.stdout + run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("synth: error:")]
    assert len(errors) == 2 and any("1.0.99" in e for e in errors) and any(str(bad) in e for e in errors), run.stderr
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["broken_releases"] == ["1.0.99"]
    assert [c["first_fixed"] for c in result["cases"] if c["path"] == str(case)] == ["1.4.2"]
    assert read_case(case).header.first_fixed == "1.4.2"


@pytest.mark.slow
def test_bisect_finds_since_when_a_real_xla_bug_fails(tmp_path):
    """x * 1e38 / 1e38, jitted on the CPU: from jax 0.9.1 on XLA gives 0
    for a normal x (it multiplies by the reciprocal 1e-38, a subnormal it
    flushes); on 0.9.0.1 (and back to 0.4.30) it folds the whole to x, right
    for that x but not where x * 1e38 overflows: the stored case changes
    signature there (jax-cpu:forward:inf). Builds two jax environments
    (about two minutes each, then cached in KERNEL_SYNTH_ENVS)."""
    (stored,) = (CORPORA / "jax-cpu").glob("jax-cpu-forward-float-value-*/*.kernel")
    case = tmp_path / stored.name
    case.write_text(stored.read_text())
    env = {**os.environ, "KERNEL_SYNTH_ENVS": os.environ.get("KERNEL_SYNTH_ENVS", str(Path.home() / ".cache" / "kernel-synth" / "envs"))}
    run = subprocess.run(
        [sys.executable, "-m", "kernel_synth.synth.cli", "bisect", str(case), "--releases", "jax:0.9.0.1,0.9.1", "--json", str(tmp_path / "b.json")],
        capture_output=True, text=True, env=env, timeout=1800,
    )
    assert run.returncode == 0, run.stderr
    assert f"{case}: fails on 0.9.1: since 0.9.1, still failing on 0.9.1" in run.stdout, run.stdout + run.stderr
    result = json.loads((tmp_path / "b.json").read_text())
    assert result["package"] == "jax" and result["cases"][0]["statuses"] == {"0.9.0.1": "changed", "0.9.1": "still_failing"}
    assert read_case(case).header.first_fixed is None


def test_a_range_is_bisected_by_halving(tmp_path, monkeypatch):
    """Over 17 releases, a case fixed in the 12th and one failing everywhere:
    the boundary is found exactly, with the endpoints and four halvings
    replayed instead of all 17; a broken release in the way is stepped over."""
    from kernel_synth.synth import bisect as B

    releases = [f"1.{minor}.0" for minor in range(17)]
    fixed_in, broken = "1.11.0", "1.8.0"
    fixed_case, open_case = tmp_path / "fixed.kernel", tmp_path / "open.kernel"
    visited: list[str] = []

    def environment(release, log, package):
        if release == broken:
            raise BisectError(f"warp-lang {release}: cannot build its environment")
        return Path(release)

    def replay_on(python, cases, backend):
        release = str(python)
        visited.append(release)
        fixed = B.release_parts(release) >= B.release_parts(fixed_in)
        return {
            str(fixed_case): {"status": "fixed" if fixed else "still_failing", "expected": "s"},
            str(open_case): {"status": "still_failing", "expected": "s"},
        }

    monkeypatch.setattr(B, "environment", environment)
    monkeypatch.setattr(B, "replay_on", replay_on)
    histories, failed = B.bisect([fixed_case, open_case], releases, search=True)
    by_path = {Path(h.path).name: h for h in histories}
    assert by_path["fixed.kernel"].first_fixed() == fixed_in
    assert by_path["fixed.kernel"].verdict().endswith(f"first fixed in {fixed_in}")
    assert by_path["open.kernel"].first_fixed() is None
    assert failed == [broken]  # the first halving lands on it
    assert len(visited) == len(set(visited)) <= 7


def test_a_case_that_fails_only_inside_the_range_is_bisected_from_where_it_was_found(tmp_path, monkeypatch):
    """Stored under 1.8.0, failing on 1.6.0 to 1.9.0 only: both ends pass,
    and both boundaries are still found, from the release in its header."""
    from kernel_synth.synth import bisect as B
    from kernel_synth.synth.corpus import CaseHeader, format_case

    releases = [f"1.{minor}.0" for minor in range(17)]
    case = tmp_path / "middle.kernel"
    header = CaseHeader("warp-cpu:forward:float-value", "forward", "run", "warp-cpu", "x", "kernel-synth 0.1.0, warp-lang 1.8.0", seed=0, launch=16, origin="t")
    case.write_text(format_case(header, "@kernel\ndef k():\n    pass\n"))
    visited: list[str] = []

    def replay_on(python, cases, backend):
        visited.append(str(python))
        failing = B.release_parts("1.6.0") <= B.release_parts(str(python)) <= B.release_parts("1.9.0")
        return {str(case.resolve()): {"status": "still_failing" if failing else "fixed", "expected": "s"}}

    monkeypatch.setattr(B, "environment", lambda release, log, package: Path(release))
    monkeypatch.setattr(B, "replay_on", replay_on)
    (history,), broken = B.bisect([case], releases, search=True)
    assert history.verdict() == "fails on 1.6.0, 1.8.0, 1.9.0: since 1.6.0, first fixed in 1.10.0"
    assert not broken and len(visited) <= 10
