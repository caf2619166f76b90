"""The `synth` command line, run in-process through `synth.cli.main(argv)`
(fast) and once as a real subprocess (exit codes end to end).

Every user error must be one line on stderr, no traceback, and exit code 2.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from kernel_synth.grammar import parse
from kernel_synth.grammar.categories import CATEGORIES, classify
from kernel_synth.grammar.ops import MAX_LAUNCH
from kernel_synth.grammar.weights import DEFAULT_PATH, parse_weights
from kernel_synth.synth.cli import main

REPO = Path(__file__).resolve().parent.parent
VALID_DIR = Path(__file__).resolve().parent / "programs" / "valid"

GOOD = """\
@kernel
def k(x: In[array[float32]], y: Out[array[float32]]):
    i = tid()
    y[i] = x[i] * 2.0
"""

# Line 4, column 18: the `*` after `+`.
BAD_SYNTAX = """\
@kernel
def k(x: In[array[float32]], y: Out[array[float32]]):
    i = tid()
    y[i] = x[i] +* 2.0
"""

# Line 4, column 12: float32 + int32 has no implicit conversion.
BAD_TYPE = """\
@kernel
def k(x: In[array[float32]], y: Out[array[float32]]):
    i = tid()
    y[i] = x[i] + 1
"""

DIAGNOSTIC = re.compile(r"^(?P<file>.+):(?P<line>\d+):(?P<col>\d+): (?P<rule>[\w-]+): (?P<message>.+)$")


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    """main(argv) in-process: (exit code, stdout, stderr). argparse errors raise SystemExit."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def assert_usage_error(code: int, err: str) -> list[str]:
    """Exit code 2, no traceback, and the stderr lines."""
    assert code == 2, err
    assert "Traceback" not in err
    lines = err.splitlines()
    assert lines, "expected an error message on stderr"
    return lines


def default_toml() -> str:
    return DEFAULT_PATH.read_text()


def write(path: Path, text: str) -> Path:
    path.write_text(text)
    return path


# -- sample


def test_sample_same_seed_is_byte_identical_and_seed_matters(capsys):
    code, first, _ = run_cli(capsys, "sample", "--n", "5", "--seed", "7")
    assert code == 0
    code, second, _ = run_cli(capsys, "sample", "--n", "5", "--seed", "7")
    assert code == 0
    assert first == second
    code, other, _ = run_cli(capsys, "sample", "--n", "5", "--seed", "8")
    assert code == 0
    assert other != first
    assert first.count("# kernel-synth ") == 5


def test_sample_out_writes_one_parsable_file_per_program(capsys, tmp_path):
    out = tmp_path / "progs" / "nested"  # created, parents included
    code, stdout, err = run_cli(capsys, "sample", "--n", "5", "--seed", "7", "--out", str(out))
    assert code == 0
    assert stdout == ""
    assert err.strip() == f"wrote 5 programs to {out}"
    names = sorted(p.name for p in out.iterdir())  # no leftover temporary files either
    assert names == [f"s7_{i:06d}.kernel" for i in range(5)]
    texts = [(out / name).read_text() for name in names]
    for name, text in zip(names, texts):
        program = parse(text, name)
        assert program.kernels
        assert text.startswith("# kernel-synth ")
        assert f"# seed 7, index {names.index(name)}," in text
    # The files hold exactly what `sample` prints, program by program.
    _, printed, _ = run_cli(capsys, "sample", "--n", "5", "--seed", "7")
    assert printed == "\n".join(texts)


@pytest.mark.parametrize("category", CATEGORIES)
def test_sample_category_every_program_has_it(capsys, tmp_path, category):
    code, _, _ = run_cli(capsys, "sample", "--n", "5", "--seed", "3", "--category", category, "--out", str(tmp_path))
    assert code == 0
    files = sorted(tmp_path.glob("*.kernel"))
    assert len(files) == 5
    for path in files:
        text = path.read_text()
        assert f"# category {category}\n" in text
        assert category in classify(parse(text, str(path))).categories, path.name


def test_sample_out_onto_a_file_is_a_usage_error(capsys, tmp_path):
    target = write(tmp_path / "taken", "")
    code, _, err = run_cli(capsys, "sample", "--n", "1", "--out", str(target))
    lines = assert_usage_error(code, err)
    assert len(lines) == 1 and str(target) in lines[0]


# -- check


def test_check_valid_file(capsys, tmp_path):
    good = write(tmp_path / "good.kernel", GOOD)
    code, out, err = run_cli(capsys, "check", str(good))
    assert code == 0
    assert err == ""
    assert out.strip() == f"{good}: ok (0 helpers; kernels k)"


def test_check_shipped_valid_programs(capsys):
    files = sorted(VALID_DIR.glob("*.kernel"))
    assert files
    code, out, err = run_cli(capsys, "check", *map(str, files))
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == len(files)
    assert all(": ok (" in line for line in lines)


@pytest.mark.parametrize(
    "text, line, col, rule",
    [(BAD_SYNTAX, 4, 18, "syntax"), (BAD_TYPE, 4, 12, None)],
    ids=["syntax-error", "ill-typed"],
)
def test_check_bad_file_one_located_line(capsys, tmp_path, text, line, col, rule):
    bad = write(tmp_path / "bad.kernel", text)
    code, out, err = run_cli(capsys, "check", str(bad))
    lines = assert_usage_error(code, err)
    assert out == ""
    assert len(lines) == 1, lines
    found = DIAGNOSTIC.match(lines[0])
    assert found, lines[0]
    assert found["file"] == str(bad)
    assert (int(found["line"]), int(found["col"])) == (line, col)
    if rule is not None:
        assert found["rule"] == rule
    else:
        assert found["rule"] != "syntax"


def test_check_mixed_files_one_line_per_bad_file(capsys, tmp_path):
    good = write(tmp_path / "good.kernel", GOOD)
    syntax = write(tmp_path / "syntax.kernel", BAD_SYNTAX)
    typed = write(tmp_path / "typed.kernel", BAD_TYPE)
    code, out, err = run_cli(capsys, "check", str(syntax), str(good), str(typed))
    lines = assert_usage_error(code, err)
    assert len(lines) == 2
    assert lines[0].startswith(f"{syntax}:4:18: syntax: ")
    assert lines[1].startswith(f"{typed}:4:12: ")
    assert out.splitlines() == [f"{good}: ok (0 helpers; kernels k)"]


@pytest.mark.parametrize("kind", ["missing", "directory", "binary"])
def test_check_unreadable_file_one_line(capsys, tmp_path, kind):
    if kind == "missing":
        path = tmp_path / "nope.kernel"
    elif kind == "directory":
        path = tmp_path
    else:
        path = tmp_path / "binary.kernel"
        path.write_bytes(b"\xff\xfe\x00\x01")
    code, out, err = run_cli(capsys, "check", str(path))
    lines = assert_usage_error(code, err)
    assert len(lines) == 1
    assert lines[0].startswith(f"{path}: error: ")
    assert out == ""


# -- broken weights profiles


def _broken_profiles(tmp_path: Path) -> dict[str, tuple[Path, list[str]]]:
    """name -> (profile, strings its one-line error must contain)."""
    default = default_toml()
    lines = default.splitlines(keepends=True)
    loop_line = next(i for i, l in enumerate(lines, 1) if l.startswith("loop_depth = "))
    lines[loop_line - 1] = lines[loop_line - 1].replace("loop_depth = ", "loop_depth = = ", 1)
    invalid = write(tmp_path / "invalid.toml", "".join(lines))

    head, sep, tail = default.partition("[rules.statement]\n")
    assert sep and tail.startswith("assign = ")
    unknown = write(tmp_path / "unknown.toml", head + sep + "asign = " + tail[len("assign = "):])

    missing = write(tmp_path / "missing.toml", re.sub(r"(?m)^max_trip = .*\n", "", default, count=1))
    negative = write(tmp_path / "negative.toml", re.sub(r"(?m)^store = 5$", "store = -5", default, count=1))
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe[limits]\n")
    return {
        "invalid-toml": (invalid, [f"{invalid}:{loop_line}:14: ", "TOML"]),
        "unknown-name": (unknown, ["rules.statement", "asign"]),
        "missing-key": (missing, ["limits", "max_trip", "missing"]),
        "negative-weight": (negative, ["rules.statement", "store", "-5"]),
        "not-utf8": (binary, [str(binary), "UTF-8"]),
        "absent-file": (tmp_path / "absent.toml", [str(tmp_path / "absent.toml")]),
    }


BROKEN = ["invalid-toml", "unknown-name", "missing-key", "negative-weight", "not-utf8", "absent-file"]


@pytest.mark.parametrize("command", [["weights"], ["sample", "--n", "1"], ["stats", "--n", "1"]], ids=lambda c: c[0])
@pytest.mark.parametrize("broken", BROKEN)
def test_broken_weights_profile_is_one_line_exit_2(capsys, tmp_path, command, broken):
    profile, expected = _broken_profiles(tmp_path)[broken]
    code, out, err = run_cli(capsys, *command, "--weights", str(profile))
    lines = assert_usage_error(code, err)
    assert len(lines) == 1, lines
    assert lines[0].startswith("synth: error: ")
    for piece in expected:
        assert piece in lines[0], (piece, lines[0])
    assert out == ""


# -- stats


def stats_json(capsys, *extra: str) -> dict:
    code, out, err = run_cli(capsys, "stats", *extra, "--json")
    assert code == 0, err
    return json.loads(out)


def test_stats_launch_sizes_span_four_orders_of_magnitude(capsys):
    """Drawn launch sizes cover every decade from 1 to ops.MAX_LAUNCH (at
    least four orders of magnitude), small ones the most common, and the
    table counts every program once."""
    summary = stats_json(capsys, "--n", "400", "--seed", "3")
    launches = summary["launch_sizes"]
    decades = launches["decades"]
    assert sum(d["programs"] for d in decades.values()) + launches["default"] == 400
    assert all(d["programs"] > 0 for d in decades.values()), decades
    assert launches["max"] / launches["min"] >= 10**4
    assert launches["max"] <= MAX_LAUNCH
    small = decades["units"]["programs"] + decades["tens"]["programs"]
    assert small > 400 / 2
    code, out, _ = run_cli(capsys, "stats", "--n", "400", "--seed", "3")
    assert code == 0 and "launch sizes" in out
    for name, decade in decades.items():
        assert re.search(rf"{name}\s.*{decade['range'][0]}\.\.{decade['range'][1]}\s.*{decade['programs']} \(", out), name


def test_stats_json_shape(capsys):
    summary = stats_json(capsys, "--n", "50", "--seed", "0")
    assert set(summary) == {"n", "categories", "primary", "productions", "constructs", "launch_sizes", "ast_nodes"}
    assert summary["n"] == 50
    assert all(0 <= v <= 50 for v in summary["constructs"].values()) and summary["constructs"]["out-array"] > 0
    assert set(summary["categories"]) == set(CATEGORIES)
    assert set(summary["primary"]) == set(CATEGORIES)
    assert all(isinstance(v, int) and 0 <= v <= 50 for v in summary["categories"].values())
    assert sum(summary["primary"].values()) == 50
    # a program's primary label is one of its categories, or elementwise
    for name, count in summary["primary"].items():
        if name != "elementwise":
            assert count <= summary["categories"][name]
    cov = summary["productions"]
    assert isinstance(cov["covered"], int) and isinstance(cov["total"], int)
    assert 0 < cov["covered"] <= cov["total"]
    assert len(cov["missing"]) == cov["total"] - cov["covered"]
    nodes = summary["ast_nodes"]
    assert set(nodes) >= {"mean", "max"}
    assert 0 < nodes["mean"] <= nodes["max"]
    # deterministic
    assert stats_json(capsys, "--n", "50", "--seed", "0") == summary


def test_stats_text_output(capsys):
    code, out, err = run_cli(capsys, "stats", "--n", "10", "--seed", "0")
    assert code == 0, err
    assert "productions covered:" in out
    for name in CATEGORIES:
        assert name in out


# -- weights


def test_weights_prints_the_default_profile(capsys):
    code, out, err = run_cli(capsys, "weights")
    assert code == 0, err
    assert out == default_toml()
    parse_weights(out, "printed.toml")  # accepted


def _statement_only(default: str, keep: set[str]) -> str:
    """default.toml with every [rules.statement] weight 0 except those in keep."""
    head, sep, tail = default.partition("[rules.statement]\n")
    body, blank, rest = tail.partition("\n\n")
    lines = []
    for line in body.splitlines():
        name, _, _ = line.partition(" = ")
        lines.append(line if name in keep else f"{name} = 0")
    return head + sep + "\n".join(lines) + blank + rest


def test_weights_edited_profile_validates_and_steers_stats(capsys, tmp_path):
    edited = write(tmp_path / "edited.toml", _statement_only(default_toml(), {"assign", "store"}))
    code, out, err = run_cli(capsys, "weights", "--weights", str(edited))
    assert code == 0, err
    assert out == edited.read_text()

    # 60 draws: the steered profile still reaches atomics through helpers, so
    # at 30 its reduction count (2) could top the default's (1 after the 2-D arrays' draws)
    base = stats_json(capsys, "--n", "60", "--seed", "0")
    steered = stats_json(capsys, "--n", "60", "--seed", "0", "--weights", str(edited))
    assert base["categories"]["loop"] > 0  # the default does draw loops at this seed
    for name in ("loop", "nested_loop", "nested_branch", "multi_conditional", "reduction"):
        assert steered["categories"][name] <= base["categories"][name]
    for name in ("loop", "nested_loop", "nested_branch", "multi_conditional"):
        assert steered["categories"][name] == 0, name
    assert "statement.for" in steered["productions"]["missing"]
    assert "statement.while" in steered["productions"]["missing"]

    code, out, _ = run_cli(capsys, "sample", "--n", "3", "--seed", "0", "--weights", str(edited))
    assert code == 0
    assert "weights edited," in out  # the header names the profile


# -- argument errors (argparse: SystemExit(2))


@pytest.mark.parametrize(
    "argv",
    [
        ["sample", "--n", "-1"],
        ["sample", "--n", "abc"],
        ["stats", "--n", "-1"],
        ["sample", "--category", "nope"],
        ["stats", "--category", "nope"],
        ["check"],
        ["frobnicate"],
    ],
    ids=["n-negative", "n-not-int", "stats-n-negative", "unknown-category", "stats-unknown-category", "check-no-files", "unknown-command"],
)
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as info:
        main(argv)
    assert info.value.code == 2
    _, err = capsys.readouterr()
    assert "Traceback" not in err
    assert "error:" in err.splitlines()[-1]


# -- end to end, as a real process


def _subprocess(*argv: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "kernel_synth.synth.cli", *argv], cwd=cwd, capture_output=True, text=True, timeout=120)


def test_subprocess_end_to_end(capsys, tmp_path):
    done = _subprocess("sample", "--n", "3", "--seed", "7", cwd=REPO)
    assert done.returncode == 0, done.stderr
    assert done.stderr == ""
    # the same bytes as in-process: draws do not depend on the process
    _, in_process, _ = run_cli(capsys, "sample", "--n", "3", "--seed", "7")
    assert done.stdout == in_process

    bad = write(tmp_path / "bad.kernel", BAD_SYNTAX)
    done = _subprocess("check", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.splitlines()) == 1
    assert done.stderr.startswith(f"{bad}:4:18: syntax: ")

    done = _subprocess("sample", "--n", "abc", cwd=tmp_path)
    assert done.returncode == 2
    assert "Traceback" not in done.stderr
