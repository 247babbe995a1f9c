"""Value codecs: raw field text ⇄ typed Polars columns, by field type and encoding.

- :mod:`~chukan.codec.fields`: a field's text ⇄ its typed columns (the dispatch);
- :mod:`~chukan.codec.dates`, :mod:`~chukan.codec.numbers`: each type's parsers (on
  bytes) and formatters (as expressions); :mod:`~chukan.codec.eras` the 和暦 tables;
- :mod:`~chukan.codec.fixed`: numbers and dates straight into fixed-width field bytes;
- :mod:`~chukan.codec.encoding`: text into bytes (CP932's duplicate-code policy, the
  writer's tables, lookalikes); :mod:`~chukan.codec._base` what they share.

Every function here works on whole columns: Polars expressions over String series, or
numpy arithmetic over byte matrices. None loops over records in Python.

>>> import polars as pl
>>> from chukan.codec._base import _f
>>> parse_field(_f("date", 7, format="GYYMMDD"), pl.Series(["4310430", "5010501", "3250000"]))[0]
shape: (3, 2)
┌────────────┬────────────┐
│ d          ┆ d_partial  │
│ ---        ┆ ---        │
│ date       ┆ str        │
╞════════════╪════════════╡
│ 2019-04-30 ┆ null       │
│ 2019-05-01 ┆ null       │
│ null       ┆ 1950-00-00 │
└────────────┴────────────┘
"""

from __future__ import annotations

from chukan.codec._base import (
    CHECK_FAILURES,
    HALF_CHARS,
    Failure,
    FormatCheck,
    column_names,
    dtype_of,
    schema_of,
    select_checked,
    strings_to_matrix,
    text_check,
    unknown_code_message,
)
from chukan.codec.dates import (
    FAST_DATE_FORMATS,
    fast_dates,
    parse_date,
)
from chukan.codec.ebcdic import (
    char_span,
    control_bytes,
    field_text,
    fields_text,
    from_ascii,
    to_ascii,
)
from chukan.codec.encoding import (
    CORE_ENCODINGS,
    LOOKALIKE_CODE,
    LOOKALIKES,
    REPLACEMENT_MESSAGE,
    encode_table,
    encode_text,
    lookalike_message,
    lookalikes,
    needs_markers,
    prepare_for_encoding,
    writer_table,
)
from chukan.codec.eras import (
    era_codes,
    era_of,
    era_table,
    writer_codes,
)
from chukan.codec.fields import (
    apply_fumei_flags,
    format_expr,
    format_field,
    parse_expr,
    parse_field,
)
from chukan.codec.fixed import (
    date_bytes,
    fill_partial,
    number_bytes,
)
from chukan.codec.numbers import (
    NumberForm,
    csv_number_failure,
    csv_whole_digits,
    decimal_series,
    fast_numbers,
    number_form,
    pack_packed,
    parse_number,
    unpack_packed,
    unscaled,
    unscaled_values,
)
from chukan.spec.encoding import UNREADABLE, encodable, undefined_re

__all__ = [
    "CHECK_FAILURES",
    "CORE_ENCODINGS",
    "FAST_DATE_FORMATS",
    "HALF_CHARS",
    "LOOKALIKES",
    "LOOKALIKE_CODE",
    "REPLACEMENT_MESSAGE",
    "UNREADABLE",
    "Failure",
    "FormatCheck",
    "NumberForm",
    "apply_fumei_flags",
    "char_span",
    "column_names",
    "control_bytes",
    "csv_number_failure",
    "csv_whole_digits",
    "date_bytes",
    "decimal_series",
    "dtype_of",
    "encodable",
    "encode_table",
    "encode_text",
    "era_codes",
    "era_of",
    "era_table",
    "fast_dates",
    "fast_numbers",
    "field_text",
    "fields_text",
    "fill_partial",
    "format_expr",
    "format_field",
    "from_ascii",
    "lookalike_message",
    "lookalikes",
    "needs_markers",
    "number_bytes",
    "number_form",
    "pack_packed",
    "parse_date",
    "parse_expr",
    "parse_field",
    "parse_number",
    "prepare_for_encoding",
    "schema_of",
    "select_checked",
    "strings_to_matrix",
    "text_check",
    "to_ascii",
    "undefined_re",
    "unknown_code_message",
    "unpack_packed",
    "unscaled",
    "unscaled_values",
    "writer_codes",
    "writer_table",
]
