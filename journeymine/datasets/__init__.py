"""Demo data and synthetic journeys with known ground truth.

* :func:`make_journeys` -- a fast generator of omnichannel skincare-shop
  journeys with planted personas, bottleneck, negative touchpoint and
  channel-switch drop-off (:class:`JourneyTruth`).
* :func:`make_clickstream` -- a realistic multi-visit e-commerce clickstream
  export (time-ordered rows, long-tailed event names, noise) with a planted
  checkout loop, incident, lift events and bottleneck (:class:`ClickstreamTruth`).
* :func:`load_demo` -- the bundled demo: ~3,000 customers' events, their
  reviews, chats and NPS answers (Indonesian, English and code-mixed), the
  stage map and the journey the business designed.
"""

from journeymine.datasets._clickstream import ClickstreamTruth, make_clickstream
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
    "ClickstreamTruth",
    "DemoData",
    "JourneyTruth",
    "load_demo",
    "make_clickstream",
    "make_journeys",
]
