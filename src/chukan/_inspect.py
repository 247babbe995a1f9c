r"""What ``chukan inspect`` says about a file: encoding, terminator, record length, and
the first records cut at a layout's field boundaries.

>>> head = "山田\r\n髙橋\r\n".encode("cp932")
>>> for line in describe(head, len(head)):
...     if line.startswith(("encoding", "terminator")):
...         print(line)
encoding: cp932 (uses characters Shift_JIS lacks: NEC/IBM extensions)
terminator: crlf (2 records seen)
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from typing import TYPE_CHECKING

import numpy as np

from chukan._csv import looks_utf16, match_header, split_cells
from chukan.codec import field_text
from chukan.spec import UTF8_BOM, codec_name, starts_with_bom

if TYPE_CHECKING:
    from collections.abc import Iterator

    from chukan.spec import Layout, RecordKind



def _decodes(data: bytes, encoding: str) -> bool:
    try:
        data.decode(encoding)
    except UnicodeDecodeError as exc:
        # a multi-byte character cut at the end of the sample is not evidence
        return exc.start >= len(data) - 3 and exc.reason.startswith(("incomplete", "unexpected"))
    return True


def guess_encoding(data: bytes) -> tuple[str, str]:
    """The encoding chukan would choose for these bytes, and why.

    Not a statistical guess (chardet's scores offer EBCDIC for a CP932 file): which codec
    decodes every byte, telling CP932 from Shift_JIS by the bytes only CP932 has.
    """
    body = data[len(UTF8_BOM):] if data.startswith(UTF8_BOM) else data
    if looks_utf16(data):
        return "utf-16", "UTF-16 (Excel's 'Unicode text'): chukan reads no UTF-16; save the " \
                         "file as UTF-8 or CP932"
    if data.startswith(UTF8_BOM):
        return "utf-8-sig", "UTF-8 byte-order mark"
    host = looks_ebcdic(data)
    if host is not None:
        return host
    if body.isascii():
        return "ascii", "only ASCII bytes: any of the Japanese encodings reads it"
    if _decodes(body, "utf-8"):
        return "utf-8", "valid UTF-8"
    cp932, sjis, euc = (_decodes(body, e) for e in ("cp932", "shift_jis", "euc_jp"))
    if cp932 and not sjis:
        text = body.decode("cp932", "replace")
        gaiji = sum(1 for ch in text if "\ue000" <= ch <= "\ue757")
        why = "uses characters Shift_JIS lacks: NEC/IBM extensions"
        if gaiji:
            why += f"; {gaiji} 外字 in the user-defined area (F040–F9FC)"
        return "cp932", why
    if cp932 and sjis:
        return "cp932", "valid Shift_JIS too; cp932 is the safe superset (note 〜 vs ～)"
    if euc:
        return "euc_jp", "valid EUC-JP"
    return "unknown", "no supported encoding decodes every byte"


#: each host family's double-byte runs: its shift-out, double bytes (its space 0x4040
#: among them), its shift-in
_SHIFTED_RUNS = {
    "ibm930": (re.compile(rb"\x0e(?:[\x40-\xfe]{2})+\x0f"), "SO/SI"),
    "jef": (re.compile(rb"[\x28\x38](?:\x40\x40|[\x41-\xfe][\xa1-\xfe])+\x29"), "JEF KI/KO"),
    "keis": (re.compile(rb"\x0a\x42(?:\x40\x40|[\x41-\xfe][\xa1-\xfe])+\x0a\x41"), "KEIS"),
}


def looks_ebcdic(data: bytes) -> tuple[str, str] | None:
    r"""The host page these bytes look like, and why, or None: no line ends, more EBCDIC
    spaces (0x40) than ASCII ones, EBCDIC digits (0xF0–0xF9); the family is the one whose
    shift codes pair up around double bytes most often (IBM's SO 0x0E / SI 0x0F, JEF's
    0x28 / 0x29, KEIS's 0x0A 0x42 / 0x0A 0x41), IBM 930 where no double-byte text shows.

    >>> looks_ebcdic(b"\xf1\xf2\x0eEe\x0f\x40\x40" * 20)
    ('ibm930', 'no line ends, 0x40 spaces, EBCDIC digits; 20 SO/SI pairs (double-byte text)')
    >>> looks_ebcdic(b"\xf1\xf2\x28\xbb\xb3\x29\x40\x40" * 20)[0]
    'jef'
    >>> looks_ebcdic("山田 太郎 12".encode("cp932")) is None
    True
    """
    if len(data) < 16 or b"\n" in data:
        return None
    spaces, ascii_spaces = data.count(0x40), data.count(0x20)
    digits = sum(data.count(b) for b in range(0xF0, 0xFA))
    if spaces <= ascii_spaces or spaces < len(data) // 20 or not digits:
        return None
    why = "no line ends, 0x40 spaces, EBCDIC digits"
    runs = {name: len(pattern.findall(data)) for name, (pattern, _) in _SHIFTED_RUNS.items()}
    found = max(runs, key=lambda name: runs[name])
    if not runs[found]:
        return "ibm930", why + "; no double-byte text seen (the shift codes would tell " \
                               "IBM from JEF or KEIS)"
    return found, why + f"; {runs[found]} {_SHIFTED_RUNS[found][1]} pairs (double-byte text)"


def record_length_guess(data: bytes) -> int | None:
    r"""The record length of a file with no terminators, where its bytes repeat: the
    period at which most bytes equal the byte one record later (padding, codes and
    dates line up); a multiple of it agrees no better, and the first is kept.

    >>> record_length_guess((b"\xf1\xf9\x40\x40ABC\x40" + b"\x40" * 12) * 30)
    20
    """
    a = np.frombuffer(data[:65536], dtype=np.uint8)
    best, score = None, 0.6  # below this agreement, no guess
    for n in range(8, min(4097, len(a) // 3 + 1)):
        agree = float(np.mean(a[:-n] == a[n:]))
        if agree > score + 0.02:  # a multiple of the length agrees as well: keep the first
            best, score = n, agree
    return best


def encoding_hint(head: bytes, layout: Layout) -> str | None:
    """What to say when a file does not decode in its layout's encoding: the encoding
    ``inspect`` finds instead, if any.

    >>> from chukan.spec import load_layout
    >>> encoding_hint("山田".encode("cp932"), load_layout("kihon/juki/kojin"))
    'このファイルは cp932 のようです(レイアウトは utf-8)'
    """
    found, _ = guess_encoding(head)
    family = {"cp932": "sjis", "shift_jis": "sjis", "utf-8": "utf", "utf-8-sig": "utf",
              "ibm930": "ebcdic", "ibm939": "ebcdic", "ibm1390": "ebcdic",
              "ibm1399": "ebcdic"}
    if found in ("ascii", "unknown") or family.get(found, found) == family.get(
            layout.encoding, layout.encoding):
        return None
    return f"このファイルは {found} のようです(レイアウトは {layout.encoding})"


def describe(head: bytes, size: int) -> Iterator[str]:
    """Lines describing a file from its first bytes and its size."""
    yield f"size: {size} bytes"
    encoding, why = guess_encoding(head)
    yield f"encoding: {encoding} ({why})"
    crlf, lf = head.count(b"\r\n"), head.count(b"\n")
    if lf == 0:
        yield "terminator: none seen (records back to back, or one record)"
        length = record_length_guess(head)
        if length is not None:
            whole = "" if size % length else f", {size // length} records"
            yield f"record length: {length} bytes? (the bytes repeat every {length}{whole})"
        if encoding == "ibm930":
            yield "  IBM 930 or 939 (EBCDIC): 930 has katakana single bytes where 939 has " \
                  "Latin lowercase; 1390/1399 add JIS X 0213 kanji. Try the layout with each"
        return
    kind = "crlf" if crlf == lf else "lf" if crlf == 0 else "mixed"
    yield f"terminator: {kind} ({lf} records seen)"
    sep = b"\r\n" if kind == "crlf" else b"\n"
    lines = head.split(sep)[:-1]
    lengths = Counter(len(line.rstrip(b"\r")) for line in lines)
    common = ", ".join(f"{n} bytes × {c}" for n, c in lengths.most_common(3))
    yield f"record length: {common}"


def show_records(head: bytes, layout: Layout, count: int) -> Iterator[str]:
    """The first ``count`` records of a fixed layout, one line per field with its
    position, raw bytes and decoded text (CSV layouts: the parsed values)."""
    enc = codec_name(layout.encoding)
    # (as the readers take it: EF BB BF A1 is 鏤拭 in EUC-JP)
    body = head[len(UTF8_BOM):] if starts_with_bom(head, layout.encoding) else head
    if layout.format == "csv":
        rows = [[cell.decode(enc, "replace") for cell, _ in row]
                for row in split_cells(body, ord(layout.delimiter), ord(layout.quote), enc)]
        fields = [f for f in layout.fields if f.type != "filler"]
        order = list(range(len(fields)))
        if layout.header and rows:  # columns by the header, as reading finds them
            order, extra = match_header(rows[0], layout)
            if extra:
                yield f"columns the layout does not name: {', '.join(extra)}"
            missing = [f.name for f, j in zip(fields, order, strict=True) if j < 0]
            if missing:
                yield f"fields without a column: {', '.join(missing)}"
        for i, row in enumerate(rows):
            if i == 0 and layout.header:
                continue
            number = i if layout.header else i + 1
            if number > count:
                break
            yield f"record {number}:"
            for f, j in zip(fields, order, strict=True):
                value = row[j] if 0 <= j < len(row) else "(なし)"
                yield f"  {pad_columns(f.label or f.name, 14)} {f.name:<20} |{value}|"
        return
    stride = layout.stride
    for i in range(count):
        rec = body[i * stride:i * stride + layout.record_length]
        if len(rec) < layout.record_length:
            break
        kind = _kind_of(rec, layout)
        yield f"record {i + 1} (byte {i * stride}){f' [{kind.name}]' if layout.is_multi else ''}:"
        cut: list[str] = []
        for f in kind.fields:
            raw = rec[f.offset:f.end]
            text = "" if f.storage == "packed" else field_text(raw, enc, f.shift)
            cut.append(text)
            hexed = raw.hex(" ") if len(raw) <= 12 else raw[:12].hex(" ") + " …"
            name = pad_columns(f.label or f.name, 14)
            yield f"  {f.start:>4}-{f.end:<4} {name} {hexed:<38} |{text}|"
        yield "  " + "|".join(cut)


def pad_columns(text: str, width: int) -> str:
    """Left-align by display columns: a full-width character takes two.

    >>> pad_columns("氏名", 6) + "|"
    '氏名  |'
    """
    shown = sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)
    return text + " " * max(0, width - shown)


def _kind_of(rec: bytes, layout: Layout) -> RecordKind:
    if not layout.is_multi or layout.record_type is None:
        return layout.kind()
    s, n = layout.record_type
    tag = rec[s - 1:s - 1 + n].decode("ascii", "replace")
    for k in layout.kinds:
        if k.match == tag:
            return k
    return layout.kinds[0]
