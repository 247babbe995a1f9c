"""Generate the core's decoding tables from CPython's codecs (run from the repository
root: ``python core/gen_tables.py``). The tables are committed as data; the test suite
regenerates them in memory and compares, so a table can never drift from its oracle.

Format, one file per codec: 33,024 little-endian u16 values. The first 256 are the single
bytes: the code point, ``0xFFFF`` for a lead byte, ``0xFFFE`` for a byte the layout
contract treats as undefined. Then 128 rows of 256, for lead bytes 0x80–0xFF: the code
point of the pair (lead, trail), or ``0xFFFE``.

EUC-JP's JIS X 0212 characters are three bytes, 0x8F and two bytes of 0xA1–0xFE: its
pair (0x8F, second byte) is ``0xFFFF`` (a lead of a third byte) where some third byte
completes it, and 128 more rows of 256 follow, for second bytes 0x80–0xFF: the code
point of (0x8F, second, third), or ``0xFFFE``. 65,792 values.

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
CODECS = ("cp932", "shift_jis", "euc_jp")
#: EUC-JP's lead of three-byte characters (JIS X 0212)
THREE = 0x8F


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
    # a lead byte of three-byte characters alone (EUC-JP's 0x8F): its second bytes
    seconds: set[int] = set()
    if codec == "euc_jp":
        seconds = {s for s in range(0x80, 0x100)
                   if any(_strict(bytes([THREE, s, t]), codec) is not None for t in range(256))}
        values[THREE] = LEAD
        leads.add(THREE)
    for lead in range(0x80, 0x100):
        for trail in range(256):
            if lead == THREE and seconds:
                values.append(LEAD if trail in seconds else UNDEFINED)
                continue
            values.append(_code(bytes([lead, trail]), codec) if lead in leads else UNDEFINED)
    if seconds:
        values += [_code(bytes([THREE, second, third]), codec)
                   for second in range(0x80, 0x100) for third in range(256)]
    return b"".join(v.to_bytes(2, "little") for v in values)


def _code(data: bytes, codec: str) -> int:
    """The code point ``data`` decodes to as one character, else ``UNDEFINED``."""
    text = _strict(data, codec)
    if text is None or len(text) != 1:
        return UNDEFINED
    assert ord(text) < UNDEFINED, (codec, data)  # noqa: S101
    return ord(text)


def main() -> None:
    """Write every table beside this script."""
    out = Path(__file__).resolve().parent / "tables"
    out.mkdir(exist_ok=True)
    for codec in CODECS:
        (out / f"{codec}.bin").write_bytes(table(codec))
        print(f"{codec}: {out / f'{codec}.bin'}", file=sys.stderr)


if __name__ == "__main__":
    main()
