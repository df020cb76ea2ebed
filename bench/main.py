"""Run benchmark rows and append their results to bench/results/<date>.jsonl (see docs/benchmarks.md)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import harness
from harness import ROOT, machine, top_frames
from rows import p1_download, p2_check_in, p3_boot_storm, p5_inventory

ROWS = ("p1", "p2", "p3", "p5")


def build() -> str:
    """Which phonehome was measured: the git commit of the tree ``import phonehome`` found."""
    import phonehome

    tree = Path(phonehome.__file__).resolve().parents[2]
    commit = subprocess.run(
        ["git", "-C", str(tree), "rev-parse", "--short", "HEAD"], capture_output=True, text=True
    )
    return f"{tree} @ {commit.stdout.strip() or '?'}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("rows", nargs="*", default=list(ROWS), choices=ROWS)
    parser.add_argument(
        "--seconds", type=float, default=10.0, help="measured window of P1/P2 (after 2 s warm-up)"
    )
    parser.add_argument("--phones", type=int, default=20_000, help="P3 fleet size")
    parser.add_argument("--storm", type=float, default=60.0, help="P3 boot storm window, seconds")
    parser.add_argument("--inventory", type=int, default=1_000_000, help="P5 large inventory size")
    parser.add_argument("--p3-server", choices=["phonehome", "nginx"], default="phonehome")
    parser.add_argument("--out", type=Path, default=ROOT / "bench" / "results")
    parser.add_argument("--py-spy", type=Path, help="profile phonehome during each measurement into this dir")
    args = parser.parse_args()
    harness.PROFILE_DIR = args.py_spy
    args.out.mkdir(parents=True, exist_ok=True)
    now = dt.datetime.now(dt.UTC)
    out = args.out / f"{now:%Y-%m-%d}.jsonl"
    for row in args.rows:
        if row == "p1":
            result = p1_download(args.seconds)
        elif row == "p2":
            result = p2_check_in(args.seconds)
        elif row == "p3":
            result = p3_boot_storm(args.phones, args.storm, args.p3_server)
        else:
            result = p5_inventory(args.seconds, large=args.inventory)
        record = {
            "at": now.isoformat(timespec="seconds"),
            "argv": sys.argv[1:],
            "machine": machine(),
            "build": build(),
            **result,
        }
        with out.open("a") as f:
            f.write(json.dumps(record) + "\n")
        print(json.dumps(result, indent=2))
    for collapsed in sorted(args.py_spy.glob("*.txt")) if args.py_spy else []:
        print(f"\n{collapsed.stem}: inclusive share of py-spy samples")
        for frame, pct in top_frames(collapsed):
            print(f"  {pct:5.1f}%  {frame}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
