"""Train the default emotion model: ``python models/train.py --data ../shared/data --out DIR``.

A thin wrapper around :func:`journeymine.sentiment._train.train_default`
(same as ``python -m journeymine model train``). Seeded and reproducible; the
encoder features are cached under ``~/.cache/journeymine/embeddings``.

``--domain-refit --base DIR`` then refits the heads and the TF-IDF model with
the generated marketplace review/chat set and calibrates them
(:func:`journeymine.sentiment._refit.refit_domain`; ``DIR`` holds
``train_default``'s output). The shipped model is::

    python models/train.py --out /tmp/base
    python models/train.py --domain-refit --base /tmp/base
"""

from __future__ import annotations

import argparse
import json
import logging

from journeymine.sentiment._train import SEED, train_default


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=None, help="training data dir (default ../shared/data)")
    parser.add_argument("--out", default=None, help="output dir (default the package's model/)")
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--quiet", action="store_true")
    parser.add_argument(
        "--domain-refit", action="store_true", help="refit heads + TF-IDF with the domain set"
    )
    parser.add_argument("--base", default=None, help="train_default output for --domain-refit")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING if args.quiet else logging.INFO)
    if args.domain_refit:
        from journeymine.sentiment._refit import refit_domain

        meta = refit_domain(
            args.data, args.out, base_dir=args.base, seed=args.seed, verbose=not args.quiet
        )
    else:
        meta = train_default(args.data, args.out, seed=args.seed, verbose=not args.quiet)
    summary = {k: v["macro_f1_restricted"] for k, v in meta["metrics"].items()}
    print(json.dumps({"selected": meta["selected"], "macro_f1": summary}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
