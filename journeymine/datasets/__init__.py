"""Demo data and synthetic journeys with known ground truth.

* :func:`make_journeys` -- a fast generator of omnichannel skincare-shop
  journeys with planted personas, bottleneck, negative touchpoint and
  channel-switch drop-off (:class:`JourneyTruth`).
* :func:`load_demo` -- the bundled demo: ~3,000 customers' events, their
  reviews, chats and NPS answers (Indonesian, English and code-mixed), the
  stage map and the journey the business designed.
"""

from journeymine.datasets._demo import DemoData, load_demo
from journeymine.datasets._generator import (
    CHANNELS,
    TOUCHPOINTS,
    JourneyTruth,
    make_journeys,
)

__all__ = [
    "CHANNELS",
    "TOUCHPOINTS",
    "DemoData",
    "JourneyTruth",
    "load_demo",
    "make_journeys",
]
