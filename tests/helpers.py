"""Shared helpers: paths to fixtures, and byte surgery on the golden records."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures"
KOJIN = "examples/vendor-a/juki-kojin"
NOUZEI = "examples/mainframe/nouzei"
ZENGIN = "zengin/kouza-furikae"
KOJIN_CSV = "examples/vendor-a/juki-kojin-csv"
SETAI = "examples/vendor-a/juki-setai"


def kojin_bytes() -> bytes:
    return (FIXTURES / "vendor-a" / "juki-kojin.dat").read_bytes()


def kojin_records() -> list[bytearray]:
    data = kojin_bytes()
    return [bytearray(data[i:i + 202]) for i in range(0, len(data), 202)]


def put(record: bytearray, start: int, raw: bytes) -> bytearray:
    """Overwrite bytes of a record at a 1-based position (as on layout sheets)."""
    record[start - 1:start - 1 + len(raw)] = raw
    return record
