#!/usr/bin/env python3
"""Draws the benchmark plots from loadgen's JSON reports (scripts/bench.sh runs it).

usage: bench-plots.py REPORT_DIR OUT_DIR

- OUT_DIR/throughput-latency.png, from REPORT_DIR/send.json, series `throughput_latency`
  (points: offered_per_s, acked_per_s, ack_p50_ms, ack_p99_ms, delivery_p50_ms,
  delivery_p99_ms): latency against the rate achieved, one line per percentile.
- OUT_DIR/memory-connections.png, from REPORT_DIR/idle.json, series `rss_vs_connections`
  (points: connections, rss_bytes, bytes_per_connection): server RSS and bytes per connection
  against the number of connections.

A missing report or series is an error naming it: a plot is never drawn from nothing.
"""
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def series(report_dir: Path, scenario: str, name: str, keys: list[str]) -> list[dict]:
    path = report_dir / f"{scenario}.json"
    if not path.is_file():
        sys.exit(f"bench-plots: no {path} (run `loadgen {scenario} --out {path}`)")
    report = json.loads(path.read_text())
    points = report.get("series", {}).get(name)
    if not points:
        sys.exit(f"bench-plots: {path} has no series `{name}`")
    for p in points:
        missing = [k for k in keys if k not in p]
        if missing:
            sys.exit(f"bench-plots: a point of {path} `{name}` lacks {missing}")
    return points


def throughput_latency(report_dir: Path, out: Path) -> Path:
    keys = ["offered_per_s", "acked_per_s", "ack_p50_ms", "ack_p99_ms",
            "delivery_p50_ms", "delivery_p99_ms"]
    pts = sorted(series(report_dir, "send", "throughput_latency", keys),
                 key=lambda p: p["offered_per_s"])
    x = [p["acked_per_s"] for p in pts]
    fig, ax = plt.subplots(figsize=(8, 5))
    for key, style in [("ack_p50_ms", "o-"), ("ack_p99_ms", "o--"),
                       ("delivery_p50_ms", "s-"), ("delivery_p99_ms", "s--")]:
        ax.plot(x, [p[key] for p in pts], style, label=key.replace("_ms", "").replace("_", " "))
    ax.set_xlabel("achieved rate (messages/s)")
    ax.set_ylabel("latency (ms)")
    ax.set_yscale("log")
    ax.set_title("One-to-one send: latency vs throughput (open loop, durable)")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    path = out / "throughput-latency.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def memory_connections(report_dir: Path, out: Path) -> Path:
    keys = ["connections", "rss_bytes", "bytes_per_connection"]
    pts = sorted(series(report_dir, "idle", "rss_vs_connections", keys),
                 key=lambda p: p["connections"])
    x = [p["connections"] for p in pts]
    fig, ax = plt.subplots(figsize=(8, 5))
    ax.plot(x, [p["rss_bytes"] / 2**20 for p in pts], "o-", color="tab:blue", label="server RSS")
    ax.set_xlabel("idle authenticated connections")
    ax.set_ylabel("server RSS (MiB)", color="tab:blue")
    ax2 = ax.twinx()
    ax2.plot(x, [p["bytes_per_connection"] / 1024 for p in pts], "s--", color="tab:red",
             label="per connection")
    ax2.axhline(8, color="tab:red", alpha=0.3, linestyle=":", label="goal: 8 KiB")
    ax2.set_ylabel("KiB per connection", color="tab:red")
    ax2.set_ylim(bottom=0)
    ax.set_title("Memory vs connections")
    ax.grid(True, alpha=0.3)
    lines = ax.get_legend_handles_labels()
    lines2 = ax2.get_legend_handles_labels()
    ax.legend(lines[0] + lines2[0], lines[1] + lines2[1], loc="upper left")
    path = out / "memory-connections.png"
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def main() -> None:
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    report_dir, out = Path(sys.argv[1]), Path(sys.argv[2])
    out.mkdir(parents=True, exist_ok=True)
    for draw in (throughput_latency, memory_connections):
        print(f"bench-plots: wrote {draw(report_dir, out)}")


if __name__ == "__main__":
    main()
