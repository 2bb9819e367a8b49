"""Regenerate the bundled demo data of journeymine, deterministically.

Usage::

    python datasets/build_demo.py                # rewrite journeymine/datasets/data
    python datasets/build_demo.py --out /tmp/x   # write somewhere else
    python datasets/build_demo.py --check        # exit 1 if the bundled files differ

The demo is ``make_journeys(3200, random_state=2025)`` plus texts and NPS
answers rendered from the templates in ``journeymine/datasets/_texts.py``
(seed ``[2025, 1]``). The output is byte-for-byte reproducible (gzip
``mtime=0``), so ``--check`` can run in CI.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

from journeymine.datasets._demo import DEMO_FILES, build_demo

BUNDLED = Path(__file__).resolve().parent.parent / "journeymine" / "datasets" / "data"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=BUNDLED, help="output directory")
    parser.add_argument("--check", action="store_true",
                        help="build into a temporary directory and compare with --out")
    args = parser.parse_args(argv)
    if not args.check:
        for name, path in build_demo(args.out).items():
            print(f"{name:24s} {path.stat().st_size / 1024:8.1f} KiB")
        return 0
    with tempfile.TemporaryDirectory() as tmp:
        build_demo(tmp)
        differ = [n for n in DEMO_FILES
                  if (Path(tmp) / n).read_bytes() != (args.out / n).read_bytes()]
    if differ:
        print("Out of date: " + ", ".join(differ) + ". Run python datasets/build_demo.py")
        return 1
    print("Bundled demo files are up to date.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
