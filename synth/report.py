"""`synth report`: what a campaign did, from its saved state, as numbers and
as a picture (findings and buckets over time, programs/s over time, buckets
per oracle and per backend, shrink ratios).
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

STATE_FILE = Path(".campaign") / "state.json"
RATE_WINDOW = 10.0  # seconds


class ReportError(Exception):
    """No campaign state where one was named: the message says where."""


def load_state(path: Path) -> dict:
    """The state of the campaign whose corpus (or state file) is `path`."""
    path = Path(path)
    state_path = path / STATE_FILE if path.is_dir() else path
    try:
        return json.loads(state_path.read_text())
    except FileNotFoundError:
        raise ReportError(f"{path}: no campaign state (expected {state_path})") from None
    except (OSError, json.JSONDecodeError) as exc:
        raise ReportError(f"{state_path}: not a readable campaign state: {exc}") from None


def campaign_report(state: dict) -> dict:
    buckets = state.get("buckets", {}).values()
    shrinks = state.get("shrinks", [])
    history = state.get("history", [])
    # programs/s over the last RATE_WINDOW seconds at least: batches land in
    # bursts, so point to point the rate would be noise
    rates = []
    for t1, p1, *_ in history:
        earlier = [(t0, p0) for t0, p0, *_ in history if t1 - t0 >= RATE_WINDOW]
        if earlier:
            t0, p0 = earlier[-1]
            rates.append([t1, round((p1 - p0) / (t1 - t0), 2)])
    return {
        "programs": state.get("programs", 0),
        "elapsed_seconds": state.get("elapsed", 0.0),
        "throughput": round(state.get("programs", 0) / max(state.get("elapsed", 0.0), 1e-9), 2),
        "findings": state.get("findings", {}),
        "buckets": len(state.get("buckets", {})),
        "buckets_per_oracle": dict(Counter(b["oracle"] for b in buckets)),
        "buckets_per_backend": dict(Counter(b["backend"] for b in buckets)),
        "bucket_times": sorted(b.get("found_at", 0.0) for b in buckets),
        "shrink_ratios": [round(s["after"] / s["before"], 3) for s in shrinks if s.get("before")],
        "history": history,
        "rate_over_time": rates,
    }


def plot_report(report: dict, path: Path, title: str = "") -> dict:
    """The four panels in one figure at `path` (.png or .svg); returns the
    series drawn."""
    from .plots import FORMATS, PlotError, _pyplot

    path = Path(path)
    if path.suffix.lower() not in FORMATS:
        raise PlotError(f"--plot {path}: the file must end in .png or .svg")
    plt = _pyplot()
    figure, axes = plt.subplots(2, 2, figsize=(13, 9))
    (over_time, rate), (kinds, shrinks) = axes
    history = report["history"]
    times = [point[0] / 60 for point in history]
    over_time.plot(times, [point[2] for point in history], label="findings", color="#C44E52")
    over_time.step([t / 60 for t in report["bucket_times"]], range(1, len(report["bucket_times"]) + 1), where="post", label="buckets", color="#4C72B0")
    over_time.set_xlabel("minutes")
    over_time.set_title("findings and buckets over time")
    over_time.legend()
    rate.plot([t / 60 for t, _ in report["rate_over_time"]], [r for _, r in report["rate_over_time"]], color="#55A868")
    rate.set_xlabel("minutes")
    rate.set_ylabel("programs/s")
    rate.set_title(f"throughput (mean {report['throughput']}/s)")
    labels = [f"oracle: {o}" for o in report["buckets_per_oracle"]] + [f"backend: {b}" for b in report["buckets_per_backend"]]
    counts = list(report["buckets_per_oracle"].values()) + list(report["buckets_per_backend"].values())
    kinds.barh(range(len(labels)), counts, color="#8172B2")
    kinds.set_yticks(range(len(labels)), labels)
    kinds.set_xlabel("buckets")
    kinds.set_title("buckets per oracle and per backend")
    shrinks.hist(report["shrink_ratios"], bins=20, range=(0, 1), color="#CCB974")
    shrinks.set_xlabel("size after / size before")
    shrinks.set_ylabel("shrinks")
    shrinks.set_title(f"shrink ratios ({len(report['shrink_ratios'])} shrinks)")
    figure.suptitle(title or f"{report['programs']} programs, {report['buckets']} buckets")
    figure.tight_layout()
    figure.savefig(path)
    plt.close(figure)
    return {"labels": labels, "counts": counts, "bucket_times": report["bucket_times"], "shrink_ratios": report["shrink_ratios"]}
