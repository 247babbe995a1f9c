"""Encodings as objects (``chukan.spec.Encoding``): every fact is what CPython's codec
says, and the compiled core holds the same facts for the encodings it decodes."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

import chukan
from chukan import _core
from chukan.spec import ENCODING_FACTS, ENCODINGS, Encoding, encoding_of


def _width_classes(codec: str) -> set[int]:
    """The byte lengths of every BMP character the codec encodes in more than one byte
    (one byte is half-width: ASCII, half-width katakana, Shift_JIS's ¥ and ‾, and the
    bytes CP932 leaves undefined, which CPython maps to U+0080 and U+F8F0–U+F8F3)."""
    lengths = set()
    for code in range(0x80, 0x10000):
        if 0xD800 <= code < 0xE000:
            continue
        try:
            size = len(chr(code).encode(codec))
        except UnicodeEncodeError:
            continue
        if size > 1:
            lengths.add(size)
    return lengths


@pytest.mark.parametrize("name", ENCODINGS)
def test_each_fact_is_what_the_codec_says(name: str) -> None:
    enc = encoding_of(name)
    assert (enc.name, enc.codec) == (name, chukan.spec.codec_name(name))
    assert enc.space == " ".encode(enc.codec)
    digits = "0123456789".encode(enc.codec)
    assert digits == bytes(range(enc.zero[0], enc.zero[0] + 10))
    ideographic = "\u3000".encode(enc.codec)
    if enc.ebcdic:  # a stream holds double bytes between shift codes; a field, bare
        assert enc.shift is not None
        so, si = enc.shift
        assert (ideographic[:len(so)], ideographic[len(so) + 2:]) == enc.shift
        ideographic = ideographic[len(so):-len(si)]
        # the core's page has the same facts
        space, zero, ideo, shift_out, shift_in = _core.page_facts(name)
        assert (bytes([space]), bytes([zero]), ideo, shift_out[0], shift_in) == \
            (enc.space, enc.zero, enc.ideographic_space, so, si)
    else:
        assert enc.shift is None
    assert enc.ideographic_space == ideographic
    # paired: a full-width field is cut on pairs, so every full-width character is one
    # (not in a mixed EBCDIC field, whose shift codes sit among the pairs)
    assert enc.paired == (_width_classes(enc.codec) == {2})
    # utf-8-sig's codec writes the mark itself
    assert enc.bom == "".encode(enc.codec if enc.ebcdic else name)


@pytest.mark.parametrize("enc", ENCODING_FACTS.values(), ids=list(ENCODING_FACTS))
def test_the_core_knows_what_python_knows(enc: Encoding) -> None:
    # every encoding a layout may name is decoded by the core (EUC-JP too)
    assert _core.encoding_facts(enc.codec) == (enc.space, enc.zero, enc.ideographic_space,
                                               enc.paired)
    assert _core.encoding_facts("latin-1") is None


def test_an_unknown_encoding_is_a_usage_error() -> None:
    with pytest.raises(chukan.UsageError, match="ebcdic"):
        encoding_of("ebcdic")
    assert _core.encoding_facts("ebcdic") is None


def test_a_layout_gives_its_encoding_as_an_object() -> None:
    layout = chukan.load_layout("examples/vendor-a/juki-kojin")
    assert layout.charset is encoding_of(layout.encoding)


def test_a_layout_changed_in_code_may_name_its_encoding_by_an_alias() -> None:
    """Found by review: the loader turns ``ms932`` into ``cp932``, but a layout made or
    changed in code keeps what it was given, and reading it must not fail."""
    layout = chukan.load_layout("examples/vendor-a/juki-kojin")
    data = Path("fixtures/vendor-a/juki-kojin.dat").read_bytes()
    aliased = dataclasses.replace(layout, encoding="MS932")
    assert aliased.charset is encoding_of("cp932")
    assert chukan.read(data, aliased).equals(chukan.read(data, layout), null_equal=True)
