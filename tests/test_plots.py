"""`synth stats --plot`: the picture is made, and shows the numbers."""

from __future__ import annotations

import pytest

from kernel_synth.grammar.categories import CATEGORIES
from kernel_synth.grammar.sampling import draw_program
from kernel_synth.grammar.stats import StatsCollector
from kernel_synth.synth.cli import main


def test_the_plot_is_a_png_of_the_stats(tmp_path):
    pytest.importorskip("matplotlib")
    from kernel_synth.synth.plots import plot_stats

    collector = StatsCollector()
    for k in range(80):
        collector.add(draw_program(5, k))
    summary = collector.summary()
    path = tmp_path / "stats.png"
    drawn = plot_stats(summary, collector.sizes, path, {c: 1 / 12 for c in CATEGORIES})
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20_000
    assert drawn["primary"] == {c: summary["primary"][c] / 80 for c in CATEGORIES}
    assert sorted(drawn["sizes"]) == sorted(collector.sizes)
    assert drawn["constructs"]["vector"] == summary["constructs"]["vector"] / 80


def test_stats_plot_writes_an_svg_beside_the_table(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    path = tmp_path / "stats.svg"
    assert main(["stats", "--n", "40", "--plot", str(path), "--target", "uniform"]) == 0
    text = path.read_text()
    assert text.startswith("<?xml") and "<svg" in text
    assert f"plot: {path}" in capsys.readouterr().out


def test_a_plot_file_of_another_kind_is_exit_2(tmp_path, capsys):
    assert main(["stats", "--n", "5", "--plot", str(tmp_path / "stats.jpg")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--plot" in err and ".png or .svg" in err


STATE = {
    "programs": 300, "elapsed": 60.0, "findings": {"forward": 3, "crash": 1},
    "buckets": {
        "a:forward:float-value": {"signature": "a", "backend": "faulty-warp-cpu", "oracle": "forward", "hits": 3, "found_at": 12.0},
        "a:compile:crash": {"signature": "b", "backend": "faulty-warp-cpu", "oracle": "crash", "hits": 1, "found_at": 40.0},
    },
    "shrinks": [{"before": 40, "after": 4}, {"before": 30, "after": 6}],
    "history": [[10.0, 50, 0, 0], [20.0, 100, 1, 1], [40.0, 200, 3, 1], [60.0, 300, 4, 2]],
}


def test_report_reads_a_state_and_draws_it(tmp_path, capsys):
    from kernel_synth.synth.report import campaign_report, plot_report

    report = campaign_report(STATE)
    assert report["buckets_per_oracle"] == {"forward": 1, "crash": 1}
    assert report["rate_over_time"] == [[20.0, 5.0], [40.0, 5.0], [60.0, 5.0]]
    assert report["shrink_ratios"] == [0.1, 0.2] and report["bucket_times"] == [12.0, 40.0]
    pytest.importorskip("matplotlib")
    drawn = plot_report(report, tmp_path / "report.png")
    assert (tmp_path / "report.png").read_bytes()[:4] == b"\x89PNG"
    assert drawn["counts"] == [1, 1, 2] and drawn["labels"][-1] == "backend: faulty-warp-cpu"
    corpus = tmp_path / "corpus"
    (corpus / ".campaign").mkdir(parents=True)
    (corpus / ".campaign" / "state.json").write_text(__import__("json").dumps(STATE))
    assert main(["report", str(corpus), "--plot", str(tmp_path / "r.svg")]) == 0
    out = capsys.readouterr().out
    assert "300 programs in 60 s (5.0/s); 2 buckets" in out and "shrinks: 2, median size ratio 0.20" in out
    assert (tmp_path / "r.svg").read_text().startswith("<?xml")


def test_report_without_a_state_is_exit_2(tmp_path, capsys):
    assert main(["report", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no campaign state" in err
