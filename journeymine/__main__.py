"""``python -m journeymine``: see :mod:`journeymine.cli`."""

from journeymine.cli import main

if __name__ == "__main__":
    main()
