"""Pictures of what a profile draws (`synth stats --plot FILE`), with matplotlib.

The figure is written as PNG or SVG, by FILE's suffix. `plot_stats` returns
the series it drew, so that a test can hold them against the numbers.
"""

from __future__ import annotations

from pathlib import Path

from kernel_synth.grammar.categories import CATEGORIES

FORMATS = (".png", ".svg")


class PlotError(Exception):
    """A plot that cannot be made: the message names the option."""


def _pyplot():
    try:
        import matplotlib
    except ImportError:
        raise PlotError("--plot needs matplotlib: pip install 'kernel-synth[plot]'") from None
    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    return plt


def plot_stats(summary: dict, sizes: list[int], path: Path, target: dict[str, float] | None = None, title: str = "") -> dict:
    """Primary-label shares (against `target`'s, when given), the histogram
    of AST sizes and the share of programs using each construct, in one
    figure at `path`. Returns the series drawn."""
    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PlotError(f"--plot {path}: the file must end in .png or .svg")
    plt = _pyplot()
    n = max(summary["n"], 1)
    shares = {c: summary["primary"][c] / n for c in CATEGORIES}
    constructs = {name: count / n for name, count in summary["constructs"].items()}
    figure, (left, middle, right) = plt.subplots(1, 3, figsize=(18, 6.5), gridspec_kw={"width_ratios": [1.1, 1, 1.2]})
    positions = range(len(CATEGORIES))
    left.bar(positions, [shares[c] for c in CATEGORIES], color="#4C72B0", label="drawn")
    if target:
        left.scatter(positions, [target.get(c, 0.0) for c in CATEGORIES], marker="_", s=400, color="#C44E52", zorder=3, label="target")
        left.legend()
    left.set_xticks(list(positions), CATEGORIES, rotation=60, ha="right")
    left.set_ylabel("share of programs (primary label)")
    left.set_title("categories")
    middle.hist(sizes, bins=min(40, max(len(set(sizes)), 1)), color="#55A868")
    middle.set_xlabel("AST nodes")
    middle.set_ylabel("programs")
    middle.set_title(f"program sizes (mean {summary['ast_nodes']['mean']})")
    order = sorted(constructs, key=constructs.get)
    right.barh(range(len(order)), [constructs[c] for c in order], color="#8172B2")
    right.set_yticks(range(len(order)), order, fontsize=6)
    right.set_xlabel("share of programs that use it")
    right.set_title("constructs")
    figure.suptitle(title or f"{summary['n']} programs")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return {"primary": shares, "sizes": list(sizes), "constructs": constructs, "target": dict(target or {})}
