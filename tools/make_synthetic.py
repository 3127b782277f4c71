"""Write a synthetic Market-1501-format data set and print its statistics.

    python tools/make_synthetic.py data/synth --ids 120 --seed 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from reid.data import market1501  # noqa: E402
from reid.data.synthetic import generate  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out", type=Path, help="output folder (its split folders' .jpg files are replaced)")
    ap.add_argument("--ids", type=int, default=120, help="identities, half train, half test (default 120)")
    ap.add_argument("--cams", type=int, default=6, help="cameras (default 6)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--height", type=int, default=256)
    ap.add_argument("--width", type=int, default=128)
    ap.add_argument("--images-per-id", type=int, default=20)
    args = ap.parse_args(argv)
    out = generate(args.out, num_ids=args.ids, cams=args.cams, seed=args.seed, height=args.height,
                   width=args.width, images_per_id=args.images_per_id)
    print(market1501.load(out).summary())
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
