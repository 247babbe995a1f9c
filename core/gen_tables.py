"""Generate the core's decoding tables from CPython's codecs (run from the repository
root: ``python core/gen_tables.py``). The tables are committed as data; the test suite
regenerates them in memory and compares, so a table can never drift from its oracle.

Format, one file per codec: 33,024 little-endian u16 values. The first 256 are the single
bytes: the code point, ``0xFFFF`` for a lead byte, ``0xFFFE`` for a byte the layout
contract treats as undefined. Then 128 rows of 256, for lead bytes 0x80–0xFF: the code
point of the pair (lead, trail), or ``0xFFFE``.

CP932 is Windows-31J as CPython decodes it, except that the single bytes 0x80, 0xA0 and
0xFD–0xFF (which CPython maps to U+0080 and U+F8F0–U+F8F3) are undefined, as in
chukan's contract. Every character either codec yields is in the BMP.
"""

from __future__ import annotations

import sys
from pathlib import Path

LEAD, UNDEFINED = 0xFFFF, 0xFFFE
#: single bytes CPython's cp932 decodes that the contract calls undefined
CP932_UNDEFINED = {0x80, 0xA0, 0xFD, 0xFE, 0xFF}
CODECS = ("cp932", "shift_jis")


def _strict(data: bytes, codec: str) -> str | None:
    try:
        return data.decode(codec)
    except UnicodeDecodeError:
        return None


def table(codec: str) -> bytes:
    """The table for ``codec`` as bytes (see the module docstring)."""
    values: list[int] = []
    leads = set()
    for b in range(256):
        if codec == "cp932" and b in CP932_UNDEFINED:
            values.append(UNDEFINED)
            continue
        text = _strict(bytes([b]), codec)
        if text is not None and len(text) == 1:
            values.append(ord(text))
            continue
        # a lead byte when some trail completes it
        if any(_strict(bytes([b, t]), codec) is not None for t in range(256)):
            values.append(LEAD)
            leads.add(b)
        else:
            values.append(UNDEFINED)
    for lead in range(0x80, 0x100):
        for trail in range(256):
            text = _strict(bytes([lead, trail]), codec) if lead in leads else None
            if text is None or len(text) != 1:
                values.append(UNDEFINED)
            else:
                assert ord(text) < UNDEFINED, (codec, lead, trail)  # noqa: S101
                values.append(ord(text))
    return b"".join(v.to_bytes(2, "little") for v in values)


def main() -> None:
    """Write every table beside this script."""
    out = Path(__file__).resolve().parent / "tables"
    out.mkdir(exist_ok=True)
    for codec in CODECS:
        (out / f"{codec}.bin").write_bytes(table(codec))
        print(f"{codec}: {out / f'{codec}.bin'}", file=sys.stderr)


if __name__ == "__main__":
    main()
