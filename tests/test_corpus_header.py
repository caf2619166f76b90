"""Corpus case headers: one key per field, read back exactly, and a malformed
header rejected with its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kernel_synth.synth.corpus import CaseHeader, CorpusError, format_case, parse_header, read_case, record_first_fixed, write_case

WORD = st.text(st.characters(min_codepoint=33, max_codepoint=126, exclude_characters="#"), min_size=1, max_size=12)
LINE = st.lists(WORD, min_size=1, max_size=5).map(" ".join)  # what a one-line header value can hold
COUNT = st.integers(min_value=0, max_value=10**6)


@st.composite
def headers(draw) -> CaseHeader:
    drawn = draw(st.booleans())
    return CaseHeader(
        signature=draw(LINE), oracle=draw(WORD), stage=draw(WORD), backend=draw(WORD), error=draw(LINE),
        versions=draw(LINE), seed=draw(COUNT), launch=draw(COUNT), weights=draw(WORD),
        index=draw(COUNT) if drawn else None, origin=None if drawn else draw(WORD),
        size_before=draw(st.none() | COUNT), size_after=draw(st.none() | COUNT), date=draw(WORD),
        first_fixed=draw(st.none() | WORD),
    )


@given(headers())
def test_a_header_reads_back_as_written(header):
    text = format_case(header, "@kernel\ndef k():\n    pass\n")
    assert parse_header(text, "case.kernel") == header


def test_write_and_read_a_case(tmp_path):
    header = CaseHeader("warp-cpu:compile:x", "compile", "compile", "warp-cpu", "boom\n  twice", "v", seed=3, launch=16, index=7)
    path = write_case(tmp_path, header, "@kernel\ndef k():\n    pass\n", rendered="import warp as wp\n")
    case = read_case(path)
    assert case.header.error == "boom twice" and case.header.index == 7 and not case.header.shrunk
    assert path.with_suffix(".py").read_text() == "import warp as wp\n"
    assert path.parent.parent.name == "warp-cpu"


def test_the_first_fixed_release_is_recorded_in_place(tmp_path):
    header = CaseHeader("warp-cpu:compile:x", "compile", "compile", "warp-cpu", "boom", "v", seed=3, launch=16, index=7)
    dsl = "@kernel\ndef k():\n    # a comment\n    pass\n"
    path = write_case(tmp_path, header, dsl)
    assert record_first_fixed(path, "1.4.2")
    case = read_case(path)
    assert case.header.first_fixed == "1.4.2" and case.header.index == 7
    assert case.text.endswith("\n" + dsl)
    assert not record_first_fixed(path, "1.4.2")  # already there: the file is left alone


GOOD = format_case(CaseHeader("s", "compile", "compile", "warp-cpu", "e", "v", seed=0, launch=16), "@kernel\ndef k():\n    pass\n")


@pytest.mark.parametrize(
    "text, where, words",
    [
        ("@kernel\n", ":1:", "not a corpus case"),
        (GOOD.replace("# seed: 0", "# seed: zero"), ":8:", "'seed' must be a whole number"),
        (GOOD.replace("# seed: 0", "# colour: red"), ":8:", "unknown header key 'colour'"),
        (GOOD.replace("# seed: 0", "# seed 0"), ":8:", "malformed header line"),
        (GOOD.replace("# launch: 16\n", "# seed: 1\n"), ":9:", "'seed' given twice"),
        (GOOD.replace("# backend: warp-cpu\n", ""), ":11:", "the header lacks backend"),
    ],
)
def test_a_malformed_header_names_its_file_and_line(tmp_path, text, where, words):
    path = tmp_path / "bad.kernel"
    path.write_text(text)
    with pytest.raises(CorpusError) as error:
        read_case(path)
    assert str(error.value).startswith(f"{path}{where}") and words in str(error.value), str(error.value)


def test_the_shipped_cases_of_old_warp_bugs_are_recognised():
    from kernel_synth.synth.corpus import find_cases
    from kernel_synth.synth.oracles import recognised

    root = Path(__file__).resolve().parents[1] / "corpora" / "warp-cpu"
    label = [read_case(p) for p in find_cases([root]) if "undeclared label" in read_case(p).signature]
    assert label and all("1.1.0" in recognised(case.signature) for case in label)


def test_the_shipped_case_of_the_tile_tanh_adjoint_is_recognised():
    from kernel_synth.synth.corpus import find_cases
    from kernel_synth.synth.oracles import recognised

    root = Path(__file__).resolve().parents[1] / "corpora" / "warp-cpu"
    cases = [read_case(p) for p in find_cases([root]) if read_case(p).header.stage == "gradient-compile" and "no matching function" in read_case(p).signature]
    assert cases and all("tanh" in recognised(case.signature) and case.header.first_fixed == "1.19.0" for case in cases)
