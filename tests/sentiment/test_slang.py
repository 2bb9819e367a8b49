"""The one slang table: the model's text normaliser and the key phrases read the same one."""

from __future__ import annotations

import pytest

from journeymine.sentiment import _data, _phrases
from journeymine.sentiment._data import normalize_text
from journeymine.sentiment._phrases import normalize_slang
from journeymine.sentiment._slang import SLANG

SINGLE_WORDS = sorted(k for k in SLANG if " " not in k)


def test_both_users_hold_the_one_table():
    assert _phrases.SLANG is SLANG
    assert _data.SLANG is SLANG


@pytest.mark.parametrize("token", SINGLE_WORDS)
def test_both_users_expand_every_entry_alike(token):
    assert normalize_text(token, "id").split() == normalize_slang(token) == SLANG[token].split()


def test_indonesian_slang_expands_to_indonesian():
    assert normalize_text("tks kak", "id") == "terima kasih kak"
    assert normalize_slang("tks") == ["terima", "kasih"]
    assert normalize_slang("thx") == ["thanks"]


def test_keys_are_lower_case_and_not_elongated():
    # the lookups run on lower-cased text after letters repeated 3+ times are collapsed
    assert all(k == k.lower() for k in SLANG)
    assert not [k for k in SLANG if any(c * 3 in k for c in set(k))]
