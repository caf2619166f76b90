"""The live display of a campaign: a rich panel on a terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time


class CampaignDisplay:
    PLAIN_EVERY = 10.0  # seconds between plain progress lines

    def __init__(self, config, stream=None):
        self.config = config
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last = None
        self.live = None
        self.printed = 0.0

    def __enter__(self) -> "CampaignDisplay":
        if self.tty:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self._panel(), console=Console(file=self.stream), refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def event(self, kind: str, data: dict) -> None:
        if kind == "progress":
            self.last = data
            if self.live is not None:
                self.live.update(self._panel())
            elif time.monotonic() - self.printed >= self.PLAIN_EVERY:
                self.printed = time.monotonic()
                print(self._line(data), file=self.stream, flush=True)
        elif kind == "finding" and data.get("new"):
            self._say(f"new bucket: {data['signature']}  -> {data['path']}")
        elif kind == "shrinking":
            if self.last is not None:
                self.last = dict(self.last, shrinking=data["signature"])
            if self.live is not None:
                self.live.update(self._panel())
        elif kind == "unconfirmed":
            self._say(f"not confirmed in a fresh process (dropped): {data['signature']}")

    def _say(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(text)
        else:
            print(text, file=self.stream, flush=True)

    @staticmethod
    def _line(d: dict) -> str:
        compiled = ", ".join(f"{b} {n}" for b, n in d["compiled"].items())
        shrinking = f", shrinking {d['shrinking']}" if d.get("shrinking") else ""
        gradients = f", {d['gradient_checked']} gradient-checked" if "gradient_checked" in d else ""
        return (
            f"[{d['elapsed']:.0f}s] {d['programs']} programs ({d['rate']:.1f}/s), compiled: {compiled}{gradients}; "
            f"{d['findings']} findings in {d['buckets']} buckets ({d.get('unrecognised', 0)} unrecognised){shrinking}; {d['left']:.0f}s left"
        )

    def _panel(self):
        from rich.panel import Panel

        if self.last is None:
            return Panel("starting workers...", title="synth fuzz")
        return Panel(self._line(self.last), title=f"synth fuzz: {', '.join(self.config.backends)}")

    def print_summary(self, summary: dict) -> None:
        out = self.stream
        print(
            f"{summary['programs']} programs in {summary['wall_seconds']:.0f} s ({summary['throughput']}/s); "
            f"compiled {summary['compiled']}; findings {summary['findings'] or 'none'}",
            file=out,
        )
        for bucket in summary["buckets"]:
            known = f"  [known: {bucket['known']}]" if bucket.get("known") else ""
            print(f"  {bucket['hits']:5d}  {bucket['signature']}{known}", file=out)
            for path in bucket["corpus"]:
                print(f"         {path}", file=out)
        gradient = summary.get("gradient")
        if gradient is not None:
            excluded = ", ".join(f"{rule} {n}" for rule, n in gradient["excluded"].items()) or "none"
            print(
                f"gradients: {gradient['checked']} checked of {gradient['eligible']} eligible, "
                f"{gradient['findings']} findings; excluded: {excluded}",
                file=out,
            )
        shrink = summary["shrink"]
        if shrink["count"]:
            print(f"shrunk {shrink['count']} (median size ratio {shrink['median_ratio']:.2f}, {shrink['tests']} tests)", file=out)
