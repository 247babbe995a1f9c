"""The byte-matrix → string-columns kernel: the one hot loop of reading, behind a small
interface, done by the compiled core.

Input: a ``(records, record_length)`` uint8 matrix and a list of :class:`ColumnSpec`.
Output: one :class:`RawColumn` per spec: a Polars String series with padding removed
(null where the field is all padding) and masks of rows whose bytes were unusable.

The tests hold a reference kernel of their own (numpy and CPython's codecs,
``tests/reference_kernel.py``), which they put in :data:`REFERENCE` to read whole files
through it with ``CHUKAN_KERNEL=python`` and compare with the core.

>>> m = np.frombuffer("0012山田　A ".encode("cp932"), dtype=np.uint8).reshape(1, -1)
>>> cols = extract(m, [ColumnSpec(0, 4, "ascii"), ColumnSpec(4, 6, "fullwidth"),
...                    ColumnSpec(10, 2, "text")], "cp932")
>>> [c.values.to_list() for c in cols]
[['0012'], ['山田'], ['A']]
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import numpy as np
import polars as pl

from chukan import _core
from chukan._arrow import view_series
from chukan._threads import thread_count
from chukan.codec import NumberForm, era_table
from chukan.spec import encoding_of

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt

ColumnKind = Literal["ascii", "text", "fullwidth", "date"] | NumberForm
#: the numeric kinds: read on their bytes into ``RawColumn.numbers``
_TYPED = ("date", "unsigned", "signed-integer", "signed-display")

@dataclass(frozen=True, slots=True)
class ColumnSpec:
    """Where a field sits in the record and how to turn its bytes into text.

    ``ascii``: no codec, kept whole (null when all spaces), a value that is not ASCII
    becomes ``?`` so that the type check reports it; ``text``: decoded, trailing spaces
    removed; ``fullwidth``: decoded, trailing spaces and U+3000 removed. A ``text``
    column whose bytes are all ASCII in this block skips the codec too.

    ``date`` and the number forms of :func:`chukan.codec.number_form` read the short
    path of a date or number field on its bytes: ``RawColumn.numbers`` and ``taken``.
    """

    offset: int
    length: int
    kind: ColumnKind
    #: ``fullwidth``: the padding the writer puts after a value (U+3000, or spaces)
    pad: str = "\u3000"
    #: the check each value gets (:func:`chukan.codec.text_check`): ``RawColumn.failed``
    check: str = ""
    #: ``date``: format, pivot, era codes and the writer's code of each era
    #: (:func:`chukan.codec.era_codes`, :func:`chukan.codec.writer_codes`)
    date: tuple[str, int, tuple[int, ...], tuple[int, ...]] | None = None
    #: EBCDIC text: ``none``, ``so-si`` or ``graphic`` (:attr:`chukan.spec.Field.shift`)
    shift: str = "none"


@dataclass(frozen=True, slots=True)
class RawColumn:
    """A decoded column; ``control`` and ``invalid`` mark rows whose value is null because
    their bytes held control characters or did not decode."""

    values: pl.Series
    control: npt.NDArray[np.bool_]
    invalid: npt.NDArray[np.bool_]
    #: rows whose padding is not what writing the value back gives (U+3000 and spaces
    #: mixed, or the other kind than the field's ``pad``): the value is read all the
    #: same, but the bytes would not come back
    padding: npt.NDArray[np.bool_] | None = None
    #: rows holding a two-byte character the writer would write as other bytes (a CP932
    #: duplicate outside the layout's policy), where ``extract`` was given the pairs
    duplicate: npt.NDArray[np.bool_] | None = None
    #: rows whose value fails the spec's ``check``
    failed: npt.NDArray[np.bool_] | None = None
    #: numeric kinds: days or unscaled values of the rows the short path ``taken``
    numbers: npt.NDArray[np.int64] | None = None
    taken: npt.NDArray[np.bool_] | None = None


#: a kernel of the tests' (numpy over CPython's codecs, ``tests/reference_kernel.py``)
#: that :func:`extract` calls instead of the core under ``CHUKAN_KERNEL=python``: the
#: oracle the core is tested against, kept out of the package; None outside the tests
REFERENCE: Callable[[npt.NDArray[np.uint8], Sequence[ColumnSpec], str],
                    list[RawColumn]] | None = None


def extract(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec], encoding: str,
            rewritten: npt.NDArray[np.bool_] | None = None) -> list[RawColumn]:
    """Decode every spec'd column of ``matrix`` (see the module docstring): in the
    compiled core, with the GIL released. ``rewritten``
    (128 × 256 booleans for the lead bytes 0x80–0xFF) marks the two-byte sequences the
    writer writes as other bytes: the core then fills ``RawColumn.duplicate``.

    With ``CHUKAN_KERNEL=python`` and a :data:`REFERENCE` kernel set (by the tests), that
    kernel decodes instead."""
    enc = encoding_of(encoding)
    # the reference has no EBCDIC: its oracle is glibc's iconv (tests/test_ebcdic.py)
    if REFERENCE is not None and os.environ.get("CHUKAN_KERNEL") == "python" and \
            not enc.ebcdic:
        return REFERENCE(matrix, specs, encoding)
    return _extract_core(matrix, specs, enc.codec, rewritten if not enc.ebcdic else None,
                         marks_duplicates=enc.ebcdic)


def _extract_core(matrix: npt.NDArray[np.uint8], specs: Sequence[ColumnSpec], codec: str,
                  rewritten: npt.NDArray[np.bool_] | None, *, marks_duplicates: bool = False
                  ) -> list[RawColumn]:
    n = matrix.shape[0]
    flat, stride = flat_rows(matrix)
    columns = _core.extract(np.ascontiguousarray(flat), n, stride,
                            [(s.offset, s.length,
                              s.kind if s.shift == "none" else f"{s.kind}:{s.shift}",
                              s.pad == "\u3000", s.check, s.date) for s in specs],
                            codec, thread_count(), rewritten, era_table())
    out = []
    for s, c in zip(specs, columns, strict=True):
        # Polars takes the views and buffers as they are: the text is never copied
        if s.kind in _TYPED:
            out.append(RawColumn(_NO_VALUES, c["control"], c["invalid"],
                                 numbers=c["numbers"], taken=c["valid"]))
            continue
        out.append(RawColumn(view_series(n, c["views"], c["buffers"], c["valid"]),
                             c["control"], c["invalid"], c["padding"],
                             c["duplicate"] if rewritten is not None or marks_duplicates
                             else None,
                             failed=c["failed"] if s.check else None))
    return out


#: the values of a numeric column (its numbers are elsewhere)
_NO_VALUES = pl.Series(dtype=pl.String)


def flat_rows(matrix: npt.NDArray[np.uint8]) -> tuple[npt.NDArray[np.uint8], int]:
    """The bytes under a row-strided matrix as one 1-D view, and the row stride (no
    bytes for no rows).

    >>> flat, stride = flat_rows(np.zeros((0, 4), dtype=np.uint8))
    >>> len(flat), stride
    (0, 4)
    """
    if not matrix.shape[0]:
        return np.zeros(0, dtype=np.uint8), max(1, matrix.shape[1])
    if matrix.strides[1] != 1 or matrix.strides[0] < matrix.shape[1]:
        matrix = np.ascontiguousarray(matrix)
    n, w = matrix.shape
    stride = matrix.strides[0]
    flat = np.lib.stride_tricks.as_strided(matrix, shape=((n - 1) * stride + w,),
                                           strides=(1,), writeable=False)
    return flat, stride
