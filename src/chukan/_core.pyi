"""Type stubs of the compiled core (core/src/python.rs)."""

from collections.abc import Sequence
from typing import TypedDict

import numpy as np
import numpy.typing as npt

class Column(TypedDict):
    """One decoded column: Arrow's string views (16 bytes a row) and the buffers they
    point into, the row masks, and for the numeric kinds each row's number."""

    views: npt.NDArray[np.uint8]
    buffers: list[npt.NDArray[np.uint8]]
    valid: npt.NDArray[np.bool_]
    control: npt.NDArray[np.bool_]
    invalid: npt.NDArray[np.bool_]
    padding: npt.NDArray[np.bool_] | None
    duplicate: npt.NDArray[np.bool_]
    failed: npt.NDArray[np.bool_]
    numbers: npt.NDArray[np.int64]

#: a text column for the writer: Arrow string views and their buffers, valid
TextColumn = tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]],
                   npt.NDArray[np.bool_] | None]

def extract(
    data: npt.NDArray[np.uint8],
    n: int,
    stride: int,
    specs: list[
        tuple[int, int, str, bool, str, tuple[str, int, tuple[int, ...], tuple[int, ...]] | None]
    ],
    encoding: str,
    threads: int = 0,
    rewritten: npt.NDArray[np.bool_] | None = None,
    eras: Sequence[tuple[int, int, int]] = ...,
) -> list[Column]: ...
def decode(data: bytes, encoding: str) -> str | None: ...
def decode_rows(data: npt.NDArray[np.uint8], rows: int, width: int, encoding: str, shift: str
                ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.bool_]]: ...
def place(
    out: npt.NDArray[np.uint8],
    stride: int,
    offset: int,
    width: int,
    data: npt.NDArray[np.uint8],
    lengths: npt.NDArray[np.int64],
) -> None: ...
def encode(
    text: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    table: npt.NDArray[np.uint16],
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.bool_]]: ...
def transcode(data: bytes, encoding: str) -> bytes: ...
def encode_ebcdic(
    text: npt.NDArray[np.uint8],
    offsets: npt.NDArray[np.int64],
    page: str,
    shift: str,
) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64], npt.NDArray[np.bool_]]: ...
def unpack_packed(
    data: npt.NDArray[np.uint8], n: int, stride: int, offset: int, width: int
) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_], npt.NDArray[np.bool_]]: ...
def pack_packed(
    out: npt.NDArray[np.uint8],
    stride: int,
    offset: int,
    width: int,
    values: npt.NDArray[np.int64],
    signed: bool,
    positive: int,
    threads: int = 0,
) -> None: ...
def translate_columns(
    out: npt.NDArray[np.uint8], stride: int, spans: list[tuple[int, int]], table: bytes,
    threads: int = 0,
) -> None: ...
def translated_columns(
    data: npt.NDArray[np.uint8], n: int, stride: int, spans: list[tuple[int, int]],
    table: bytes,
) -> list[npt.NDArray[np.uint8]]: ...
def decode_ebcdic(data: bytes, page: str, shift: str) -> str | None: ...
def char_places(data: npt.NDArray[np.uint8], rows: int, width: int, page: str, shift: str
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]: ...
def ebcdic_ascii(page: str) -> tuple[bytes, bytes]: ...
def page_facts(page: str) -> tuple[int, int, bytes, list[bytes], bytes]: ...
def define_page(name: str, base: str, lines: str) -> None: ...
def views_matrix(
    column: TextColumn, n: int, width: int, threads: int = 0
) -> npt.NDArray[np.uint8]: ...
def encoding_facts(encoding: str) -> tuple[bytes, bytes, bytes, bool] | None: ...
def intact(data: npt.NDArray[np.uint8], n: int, size: int, term: bytes, feeds: bool) -> bool: ...
def encode_lines(text: npt.NDArray[np.uint8], table: npt.NDArray[np.uint16], threads: int
                 ) -> npt.NDArray[np.uint8] | None: ...
def gather_spans(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64],
                 lengths: npt.NDArray[np.int64]) -> npt.NDArray[np.uint8]: ...
def hex_rows(data: npt.NDArray[np.uint8], at: npt.NDArray[np.int64]
             ) -> tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]]: ...
def csv_row_ends(data: npt.NDArray[np.uint8], delimiter: int, quote: int
                 ) -> tuple[npt.NDArray[np.int64], int, int]: ...
def needless_quotes(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], fields: int,
                    row_ends: npt.NDArray[np.int64], delimiter: int, quote: int,
                    encoding: str, threads: int) -> tuple[int, int]: ...
def gather_records(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64], size: int
                   ) -> npt.NDArray[np.uint8]: ...
def format_csv(
    columns: list[TextColumn],
    n: int,
    delimiter: int,
    quote: int,
    terminator: bytes,
    threads: int = 0,
) -> npt.NDArray[np.uint8]: ...

# what a CSV writer refuses in a column: rows over its limit, rows holding a control
# character the reader refuses, rows failing its character check ("class" is a
# keyword), rows holding U+FFFD
Refused = TypedDict(
    "Refused",
    {
        "over": npt.NDArray[np.bool_] | None,
        "control": npt.NDArray[np.bool_] | None,
        "class": npt.NDArray[np.bool_] | None,
        "replacement": npt.NDArray[np.bool_] | None,
    },
)

def csv_refused(
    columns: list[TextColumn], n: int, limits: list[int], checks: list[str],
    threads: int = 0,
) -> list[Refused]: ...
def format_csv_checked(
    columns: list[TextColumn], n: int, delimiter: int, quote: int, terminator: bytes,
    limits: list[int], checks: list[str], threads: int = 0,
) -> tuple[npt.NDArray[np.uint8], list[Refused]]: ...
def shapes(
    column: TextColumn, n: int, kinds: npt.NDArray[np.uint8], names: list[str]
) -> tuple[tuple[npt.NDArray[np.uint8], npt.NDArray[np.int64]], npt.NDArray[np.bool_]]: ...
def byte_places(data: npt.NDArray[np.uint8], byte: int) -> npt.NDArray[np.int64]: ...
def private_use(columns: list[TextColumn], n: int, threads: int = 0) -> list[bool]: ...
def outside_codes(column: TextColumn, n: int, codes: list[bytes]) -> npt.NDArray[np.bool_]: ...
def csv_integers(column: TextColumn, n: int, signed: bool, limit: int
                 ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]]: ...
def csv_decimals(column: TextColumn, n: int, signed: bool, whole: int, scale: int,
                 precision: int) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.uint8]]: ...
def join_views(
    chunks: list[npt.NDArray[np.uint8]], buffers: list[int]
) -> npt.NDArray[np.uint8]: ...
def replace_chars(
    column: TextColumn, n: int, keys: list[str], values: list[str], threads: int = 0
) -> tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]]]: ...

# what became of a text column's values in compose_text: only the rows refused, each
# with its reasons (bits: 1 class, 2 short, 4 lookalike, 8 control, 16 unencodable,
# 32 overflow, 64 a code the table lacks) and its value's bytes
class Written(TypedDict):
    rows: npt.NDArray[np.int64]
    reasons: npt.NDArray[np.uint8]
    lengths: npt.NDArray[np.int64]

def compose_text(
    out: npt.NDArray[np.uint8],
    stride: int,
    n: int,
    fields: list[tuple[int, int, str, bool]],
    columns: list[TextColumn],
    table: npt.NDArray[np.uint16] | None,
    page: str | None = None,
    shifts: list[str] | None = None,
    codes: list[list[bytes] | None] | None = None,
    threads: int = 0,
    repads: list[tuple[bytes, int] | None] | None = None,
) -> list[Written]: ...

class NumbersWritten(TypedDict):
    """The rows :func:`compose_numbers` refused, each for every reason it has."""

    lowest: npt.NDArray[np.bool_]
    negative: npt.NDArray[np.bool_]
    overflow: npt.NDArray[np.bool_]

def compose_numbers(
    out: npt.NDArray[np.uint8],
    stride: int,
    offset: int,
    width: int,
    style: str,
    signed: bool,
    values: npt.NDArray[np.int64],
    present: npt.NDArray[np.bool_],
    threads: int = 0,
) -> NumbersWritten: ...
def compose_dates(
    out: npt.NDArray[np.uint8],
    stride: int,
    offset: int,
    form: tuple[str, int, list[int], list[int]],
    eras: Sequence[tuple[int, int, int]],
    days: npt.NDArray[np.int64],
    present: npt.NDArray[np.bool_],
    threads: int = 0,
) -> npt.NDArray[np.bool_]: ...

class Cells(TypedDict):
    """A CSV chunk's rows cut into cells: fields per row, the rows decoded, where their
    cells start (rows × fields), each field's values as string views and buffers,
    whether a field's values may hold a control character or an undecodable byte,
    whether a cell of the rows decoded was quoted, and whether a field has a value
    failing its check or longer than its limit."""

    counts: npt.NDArray[np.int64]
    kept: npt.NDArray[np.int64]
    starts: npt.NDArray[np.int64]
    columns: list[tuple[npt.NDArray[np.uint8], list[npt.NDArray[np.uint8]]]]
    suspect: list[bool]
    quoted: bool
    failing: list[bool]

def csv_cells(data: npt.NDArray[np.uint8], starts: npt.NDArray[np.int64],
              ends: npt.NDArray[np.int64], width: int, delimiter: int, quote: int,
              encoding: str, threads: int = 0, checks: list[str] = ...,
              limits: list[int] = ...) -> Cells: ...
def render_glyphs(data: bytes, glyphs: npt.NDArray[np.uint16], size: int, fill: float,
                  threads: int = 0) -> npt.NDArray[np.uint8]: ...
def render_normalised(data: bytes, glyphs: npt.NDArray[np.uint16], raw: int, size: int,
                      spread: float, threads: int = 0) -> npt.NDArray[np.uint8]: ...
def rerank_glyphs(queries: npt.NDArray[np.uint8], glyphs: npt.NDArray[np.uint8],
                  chosen: npt.NDArray[np.uint32], k: int, size: int, apart: float,
                  near: float, bend: tuple[int, int, int, float, float, float],
                  threads: int = 0) -> npt.NDArray[np.float32]: ...
