"""Write a realistic fake identity database (for GUI work and benchmarks): tools/make_fake_db.py OUT --tracklets N."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]  # run from a checkout; the generator is tests/fake_store.py

from fake_store import populate  # noqa: E402

from reid.errors import ReidError  # noqa: E402
from reid.store import Store  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", type=Path, help="database file to create (must not exist unless --force)")
    parser.add_argument("--tracklets", type=int, default=10_000)
    parser.add_argument("--cameras", type=int, default=4)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dim", type=int, default=64, help="embedding size")
    parser.add_argument("--hours", type=float, help="recording length per camera (default: two 6-minute files)")
    parser.add_argument("--force", action="store_true", help="replace an existing file")
    args = parser.parse_args(argv)
    if args.out.exists():
        if not args.force:
            print(f"error: {args.out}: exists; use --force to replace it", file=sys.stderr)
            return 2
        for suffix in ("", "-wal", "-shm"):
            Path(f"{args.out}{suffix}").unlink(missing_ok=True)
    start = time.perf_counter()
    try:
        with Store(args.out) as store:
            counts = populate(store, args.tracklets, args.cameras, args.seed, args.dim, hours=args.hours)
    except ReidError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"{args.out}: {counts['tracklets']} tracklets, {counts['detections']} detections, "
          f"{counts['identities']} identities in {time.perf_counter() - start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
