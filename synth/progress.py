"""The live displays of a campaign and of a dataset run: a rich panel on a
terminal, plain lines otherwise."""

from __future__ import annotations

import sys
import time


class LiveDisplay:
    """A rich panel (`_panel`) kept up to date on a terminal; elsewhere a plain
    line (`_line`) at most every PLAIN_EVERY seconds, and messages as lines."""

    PLAIN_EVERY = 10.0  # seconds between plain progress lines

    def __init__(self, config, stream=None):
        self.config = config
        self.stream = stream or sys.stderr
        self.tty = self.stream.isatty()
        self.last: dict | None = None
        self.live = None
        self.printed = 0.0

    def __enter__(self):
        if self.tty:
            from rich.console import Console
            from rich.live import Live

            self.live = Live(self._panel(), console=Console(file=self.stream), refresh_per_second=4, transient=True)
            self.live.__enter__()
        return self

    def __exit__(self, *exc) -> None:
        if self.live is not None:
            self.live.__exit__(*exc)

    def show(self, data: dict) -> None:
        self.last = data
        if self.live is not None:
            self.live.update(self._panel())
        elif time.monotonic() - self.printed >= self.PLAIN_EVERY:
            self.printed = time.monotonic()
            print(self._line(data), file=self.stream, flush=True)

    def _say(self, text: str) -> None:
        if self.live is not None:
            self.live.console.print(text)
        else:
            print(text, file=self.stream, flush=True)


class CampaignDisplay(LiveDisplay):
    def event(self, kind: str, data: dict) -> None:
        if kind == "progress":
            self.show(data)
        elif kind == "finding" and data.get("new"):
            self._say(f"new bucket: {data['signature']}  -> {data['path']}")
        elif kind == "shrinking":
            if self.last is not None:
                self.last = dict(self.last, shrinking=data["signature"])
            if self.live is not None:
                self.live.update(self._panel())
        elif kind == "unconfirmed":
            self._say(f"not confirmed in a fresh process (dropped): {data['signature']}")

    @staticmethod
    def _line(d: dict) -> str:
        compiled = ", ".join(f"{b} {n}" for b, n in d["compiled"].items())
        shrinking = f", shrinking {d['shrinking']}" if d.get("shrinking") else ""
        gradients = f", {d['gradient_checked']} gradient-checked" if "gradient_checked" in d else ""
        eager = "".join(f", {b} {n} jit-vs-eager" for b, n in (d.get("eager_compared") or {}).items())
        eager += "".join(f", {b} {n} jvp-vs-vjp" for b, n in (d.get("jvp_compared") or {}).items())
        compared = _forward_line(d.get("forward_compared"), d.get("forward_skipped"))
        return (
            f"[{d['elapsed']:.0f}s] {d['programs']} programs ({d['rate']:.1f}/s), compiled: {compiled}{compared}{gradients}{eager}; "
            f"{d['findings']} findings in {d['buckets']} buckets ({d.get('unrecognised', 0)} unrecognised){shrinking}; {d['left']:.0f}s left"
        )

    def _panel(self):
        """What a person watching asks: rate and time left, what each oracle
        checked (and why not), the buckets with their hits and shrink state."""
        from rich.console import Group
        from rich.panel import Panel
        from rich.table import Table

        title = f"synth fuzz: {', '.join(self.config.backends)}"
        d = self.last
        if d is None:
            return Panel("starting workers...", title=title)
        head = Table.grid(padding=(0, 3))
        head.add_row(
            f"[bold]{d['programs']}[/] programs", f"{d['rate']:.1f}/s {_sparkline(d.get('history', []))}",
            f"{d['findings']} findings, {d['buckets']} buckets ({d.get('unrecognised', 0)} unrecognised)", f"{d['left']:.0f}s left",
        )
        checks = Table("oracle", "checked", "not checked", box=None, header_style="bold")
        unsupported = d.get("unsupported") or {}
        checks.add_row("compile", ", ".join(f"{b} {n}" for b, n in d["compiled"].items()), ", ".join(f"{b}: {n} unsupported by the release" for b, n in unsupported.items()))
        for backend, compared in (d.get("forward_compared") or {}).items():
            skipped = (d.get("forward_skipped") or {}).get(backend) or {}
            checks.add_row(f"forward ({backend})", str(compared), "; ".join(f"{why}: {n}" for why, n in skipped.items()))
        if "gradient_checked" in d:
            excluded = sorted((d.get("gradient_excluded") or {}).items(), key=lambda item: -item[1])[:4]
            checks.add_row("gradient", str(d["gradient_checked"]), "; ".join(f"{rule}: {n}" for rule, n in excluded))
        from .oracles import SAMPLED_OPTIONS

        for oracle, key in SAMPLED_OPTIONS.items():
            for backend, compared in (d.get(f"{key}_compared") or {}).items():
                share = d.get(f"{key}_share", 1.0)
                skipped = (d.get(f"{key}_skipped") or {}).get(backend) or {}
                why = [f"not sampled: {1 - share:.0%} of programs"] if share < 1 else []
                checks.add_row(f"{oracle} ({backend})", str(compared), "; ".join(why + [f"{reason}: {n}" for reason, n in skipped.items()]))
        buckets = Table("bucket", "hits", "case", box=None, header_style="bold")
        for signature, hits, state in d.get("top_buckets", []):
            buckets.add_row(signature, str(hits), state)
        return Panel(Group(head, checks, buckets), title=title)

    def print_summary(self, summary: dict) -> None:
        out = self.stream
        print(
            f"{summary['programs']} programs in {summary['wall_seconds']:.0f} s ({summary['throughput']}/s); "
            f"compiled {summary['compiled']}; findings {summary['findings'] or 'none'}",
            file=out,
        )
        if summary.get("avoided"):
            print(f"left out, as triggers of known Warp bugs this release has: {', '.join(summary['avoided'])} (--known-bugs draw keeps them)", file=out)
        for bucket in summary["buckets"]:
            known = f"  [known: {bucket['known']}]" if bucket.get("known") else ""
            print(f"  {bucket['hits']:5d}  {bucket['signature']}{known}", file=out)
            for path in bucket["corpus"]:
                print(f"         {path}", file=out)
        forward = summary.get("forward")
        if forward is not None:
            for backend, checks in forward.items():
                skipped = ", ".join(f"{why}: {n}" for why, n in checks["not_compared"].items()) or "none"
                print(f"forward ({backend}): outputs compared with the reference for {checks['compared']} programs; not compared: {skipped}", file=out)
        gradient = summary.get("gradient")
        if gradient is not None:
            excluded = ", ".join(f"{rule} {n}" for rule, n in gradient["excluded"].items()) or "none"
            unsampled = f", {gradient['unsampled']} outside --gradient-share {gradient['share']:g}" if gradient.get("unsampled") else ""
            print(
                f"gradients: {gradient['checked']} checked of {gradient['eligible']} eligible{unsampled} "
                f"({gradient['compared_share']:.0%} of the {gradient['candidates']} programs with a float input array), "
                f"{gradient['findings']} findings; excluded: {excluded}",
                file=out,
            )
        for oracle, key, what in (
            ("jit-eager", "jit_eager", "jitted outputs compared with eager ones"),
            ("vmap-loop", "vmap_loop", "vmapped outputs compared with the thread loop's"),
            ("xla-config", "xla_config", "outputs compared with those under another XLA configuration"),
            ("jvp-vjp", "jvp_vjp", "forward mode compared with reverse mode"),
        ):
            sampled = summary.get(key)
            if sampled is not None and sampled["compared"]:
                compared = ", ".join(f"{backend} {n}" for backend, n in sampled["compared"].items())
                skipped = "; ".join(f"{backend} {reason}: {n}" for backend, reasons in sampled.get("not_compared", {}).items() for reason, n in reasons.items())
                print(
                    f"{oracle}: {what} for {compared} programs (share {sampled['share']:g}), {sampled['findings']} findings"
                    + (f"; not compared: {skipped}" if skipped else ""), file=out,
                )
        state = summary.get("process_state")
        if state is not None:
            not_for = "".join(f"; not for {backend}: {why}" for backend, why in state["not_for"].items())
            print(f"process-state: a warm worker's outputs compared with a fresh one's for {state['checked']} programs, {state['findings']} findings{not_for}", file=out)
        shrink = summary["shrink"]
        if shrink["count"]:
            print(f"shrunk {shrink['count']} (median size ratio {shrink['median_ratio']:.2f}, {shrink['tests']} tests)", file=out)


def _sparkline(history: list) -> str:
    """Programs/s over time, from (seconds, programs) points, as a row of
    block characters."""
    steps = [(p1 - p0) / (t1 - t0) for (t0, p0), (t1, p1) in zip(history, history[1:]) if t1 > t0]
    if not steps or max(steps) <= 0:
        return ""
    blocks = "▁▂▃▄▅▆▇█"
    top = max(steps)
    return "".join(blocks[min(int(step / top * (len(blocks) - 1)), len(blocks) - 1)] for step in steps[-24:])


def _forward_line(compared: dict | None, skipped: dict | None) -> str:
    """", outputs compared: warp-cpu 120", and for a backend that compared
    nothing although it compiled, why (a warp-cuda campaign without a GPU)."""
    if compared is None:
        return ""
    parts = []
    for backend, n in compared.items():
        reasons = (skipped or {}).get(backend) or {}
        if n == 0 and reasons:
            parts.append(f"{backend} NOT compared ({max(reasons, key=reasons.get)})")
        else:
            parts.append(f"{backend} {n}")
    return ", outputs compared: " + ", ".join(parts) if parts else ""


class GenerateDisplay(LiveDisplay):
    """The live display of `synth generate`: rows, rate, ETA and rows per
    category in a rich panel on a terminal; a plain line every
    PLAIN_EVERY seconds otherwise."""

    def __init__(self, config, stream=None):
        super().__init__(config, stream)
        self.printed = self.started = time.monotonic()
        self.rows_at_start: int | None = None

    def event(self, kind: str, data: dict) -> None:
        if kind == "start":  # a resumed run starts with rows
            self.rows_at_start, self.started = data["rows"], time.monotonic()
        if kind in ("start", "progress"):
            self.show(data)
        elif kind == "finding":
            self._say(f"compile failure, new signature: {data['signature']}  -> {data['path']}")

    def _rate(self, d: dict) -> float:
        """Rows per second in this process (a resumed run's earlier rows aside)."""
        return (d["rows"] - (self.rows_at_start or 0)) / max(time.monotonic() - self.started, 1e-9)

    def _line(self, d: dict) -> str:
        rate = self._rate(d)
        left = (d["count"] - d["rows"]) / rate if rate > 0 else float("inf")
        eta = f"{left:.0f}s left" if left != float("inf") else "rate unknown"
        categories = ", ".join(f"{c} {n}" for c, n in d["categories"].items())
        skipped = sum(d["skipped"].values())
        return f"[{time.monotonic() - self.started:.0f}s] {d['rows']}/{d['count']} rows ({rate:.1f}/s, {eta}); drawn {d['drawn']}, compiled {d['compiled']}, skipped {skipped}; {categories}"

    def _panel(self):
        from rich.panel import Panel
        from rich.table import Table

        title = f"synth generate: {', '.join(self.config.backends)} -> {self.config.out}"
        d = self.last
        if d is None:
            return Panel("starting workers...", title=title)
        rate = self._rate(d)
        left = (d["count"] - d["rows"]) / rate if rate > 0 else None
        table = Table.grid(padding=(0, 2))
        table.add_row(
            f"rows {d['rows']}/{d['count']}", f"{rate:.1f} rows/s", f"ETA {left:.0f}s" if left is not None else "ETA -",
            f"drawn {d['drawn']}", f"compiled {d['compiled']}", f"failures {sum(d['findings'].values())}",
        )
        categories = Table(show_header=True, header_style="bold", box=None)
        names = list(d["categories"]) or ["-"]
        for name in names:
            categories.add_column(name, justify="right")
        categories.add_row(*(str(d["categories"].get(n, "")) for n in names))
        from rich.console import Group

        return Panel(Group(table, categories), title=title)

    def print_summary(self, summary: dict) -> None:
        out = self.stream
        if summary["already_complete"]:
            print(f"{summary['out']}: already complete; nothing to do", file=out)
            return
        print(
            f"{summary['rows']} rows -> {summary['out']} in {summary['elapsed_seconds']:.0f} s ({summary['rows_per_second']}/s); "
            f"drawn {summary['drawn']}, compiled {summary['compiled']}",
            file=out,
        )
        print("categories: " + (", ".join(f"{c} {n}" for c, n in summary["categories"].items()) or "none"), file=out)
        if summary["skipped"]:
            print("skipped: " + ", ".join(f"{reason} {n}" for reason, n in summary["skipped"].items()), file=out)
        if summary["findings"]:
            print("compile failures (stored in the corpus):", file=out)
            for signature, hits in summary["findings"].items():
                print(f"  {hits:5d}  {signature}", file=out)
