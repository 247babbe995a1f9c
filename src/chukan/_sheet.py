"""Layout import: a record-layout or item-list sheet (項番, 項目名, 属性, 桁数, 開始位置,
必須 — the columns vendors and J-LIS use) into a layout TOML.

Every row becomes a field or a problem naming the row: nothing is skipped silently. The
TOML is loaded back with `loads_layout` before it is returned, so what comes out is a layout
chukan accepts (or the layout's own problems are listed too).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import polars as pl

from chukan.errors import LayoutError, SheetError
from chukan.spec import loads_layout

if TYPE_CHECKING:
    from collections.abc import Mapping

    from chukan.spec import Layout

#: Header spellings of each role, after NFKC and with spaces removed.
HEADERS: Mapping[str, tuple[str, ...]] = {
    "no": ("項番", "no", "no.", "番号", "項目番号", "連番"),
    "label": ("項目名", "項目名称", "データ項目名", "名称", "論理名"),
    "name": ("項目id", "物理名", "フィールド名", "項目英名", "英名"),
    "attr": ("属性", "データ型", "型", "タイプ", "型式"),
    "length": ("桁数", "バイト数", "長さ", "桁", "サイズ"),
    "scale": ("小数", "小数桁", "小数部", "小数桁数"),
    "start": ("開始位置", "開始", "位置", "開始バイト", "先頭位置"),
    "required": ("必須", "必須区分", "必須項目", "必須/任意"),
}
_YES = {"○", "◯", "〇", "●", "必須", "y", "yes", "1", "true", "要", "◎"}


@dataclass(frozen=True, slots=True)
class ImportResult:
    """The layout TOML, the layout it loads as (None when it does not load), and one
    message per row or column that could not be understood."""

    toml: str
    layout: Layout | None
    problems: list[str] = field(default_factory=list)


def _norm(text: object) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", str(text or ""))).lower()


def _read_sheet(path: Path) -> pl.DataFrame:
    if path.suffix.lower() in (".xlsx", ".xlsm", ".xls"):
        try:
            return pl.read_excel(path, infer_schema_length=0)
        except ImportError as exc:  # fastexcel is the optional extra `xlsx`
            msg = f"{path}: reading Excel needs fastexcel: pip install 'chukan[xlsx]'"
            raise SheetError(msg) from exc
    data = path.read_bytes()
    for encoding in ("utf-8-sig", "cp932"):  # sheets saved from Excel on Windows: CP932
        try:
            text = data.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:
        msg = f"{path}: neither UTF-8 nor CP932"
        raise SheetError(msg)
    return pl.read_csv(text.encode("utf-8"), infer_schema=False, truncate_ragged_lines=True)


def _roles(frame: pl.DataFrame, columns: Mapping[str, str]) -> tuple[dict[str, str], list[str]]:
    problems = []
    roles: dict[str, str] = {}
    by_norm = {_norm(c): c for c in frame.columns}
    for role, spellings in HEADERS.items():
        if role in columns:
            if columns[role] not in frame.columns:
                problems.append(f"--column {role}={columns[role]}: no such column "
                                f"(columns: {', '.join(frame.columns)})")
            else:
                roles[role] = columns[role]
            continue
        found = next((by_norm[s] for s in spellings if s in by_norm), None)
        if found is not None:
            roles[role] = found
    return roles, problems


def _field_type(attr: str, scale: int) -> dict[str, object] | str:
    """The layout keys for an attribute (X, 9, N, S9, P, or a データ型 word), or why not."""
    a = _norm(attr).upper()
    signed = a.startswith("S")
    core = a.removeprefix("S")
    # 文字 / 文字列 say nothing of width (氏名 and 住所 are 文字列 in item lists): any
    # width; only X, 英数, 半角 (カナ) and N, 漢字, 全角 (カナ) choose one
    if core in ("文字", "文字列", "テキスト", "TEXT", "STRING", "VARCHAR", "CHAR"):
        return {"type": "text"}
    if core in ("X", "英数", "英数字", "半角", "半角文字", "半角文字列", "半角カナ", "半角英数",
                "半角英数字", "ｶﾅ", "カナ"):
        return {"type": "text", "chars": "halfwidth"}
    if core in ("N", "漢字", "全角", "全角文字", "全角文字列", "全角カナ", "日本語", "G"):
        return {"type": "text", "chars": "fullwidth"}
    if core in ("9", "数字", "数値", "数", "Z"):
        if scale or signed:
            return {"type": "decimal", "storage": "zoned" if signed else "display",
                    "signed": signed, "scale": scale}
        return {"type": "digits"}
    if core in ("P", "パック", "PACK", "COMP-3"):
        return {"type": "decimal", "storage": "packed", "signed": True, "scale": scale}
    if core in ("日付", "DATE"):
        return {"type": "date"}
    return f"属性 {attr!r} is not one of X, 9, N, S9, P or 文字/数値/日付"


def _toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return '"' + str(value).replace("\\", "\\\\").replace('"', '\\"') + '"'


def import_layout(sheet: str | Path, *, name: str, layout_format: str = "fixed",
                  encoding: str = "cp932", terminator: str = "crlf",
                  columns: Mapping[str, str] | None = None) -> ImportResult:
    r"""Read an item-list sheet (CSV in UTF-8 or CP932, or .xlsx) into a layout.

    ``columns`` names the sheet's column for a role (``label``, ``length``, ``attr``,
    ``start``, ``required``, ``no``, ``name``, ``scale``) where its header is not one of
    `HEADERS`. 桁数 of a packed (P) field is read as digits when the column is headed
    桁数, as bytes when headed バイト数.

    >>> import tempfile, pathlib
    >>> sheet = pathlib.Path(tempfile.mkdtemp()) / "kojin.csv"
    >>> _ = sheet.write_text("項番,項目名,属性,桁数,必須\n1,宛名番号,9,10,○\n"
    ...                      "2,氏名,N,20,\n3,備考,?,4,\n", encoding="utf-8")
    >>> result = import_layout(sheet, name="t/kojin")
    >>> [(f.label, f.type, f.length) for f in result.layout.kind().fields]
    [('宛名番号', 'digits', 10), ('氏名', 'text', 20), ('備考', 'filler', 4)]
    >>> result.problems
    ["row 4 (備考): 属性 '?' is not one of X, 9, N, S9, P or 文字/数値/日付; kept as filler"]
    """
    path = Path(sheet)
    frame = _read_sheet(path)
    roles, problems = _roles(frame, columns or {})
    if "label" not in roles or "length" not in roles:
        msg = (f"{path}: no 項目名 or 桁数 column in {', '.join(frame.columns)}; "
               "name them with --column label=… --column length=…")
        raise SheetError(msg)
    in_digits = _norm(roles["length"]) != "バイト数"
    fields: list[dict[str, object]] = []
    position = 1
    for row_no, row in enumerate(frame.iter_rows(named=True), start=2):  # row 1: header
        cell = {role: str(row[col] or "").strip() for role, col in roles.items()}
        if not any(cell.values()):
            continue
        label = cell["label"]
        where = f"row {row_no} ({label or '?'})"
        length_text = _norm(cell["length"])
        whole, _, frac = length_text.partition(",")  # "7,2": 7 digits, 2 after the point
        scale_text = _norm(cell.get("scale", "")) or frac
        if not whole.isdigit() or int(whole) == 0:
            problems.append(f"{where}: 桁数 {cell['length']!r} is not a length; row left out")
            continue
        length = int(whole)
        scale = int(scale_text) if scale_text.isdigit() else 0
        kind = _field_type(cell.get("attr", "X") or "X", scale)
        entry: dict[str, object] = {"name": cell.get("name") or f"f{len(fields) + 1:03d}",
                                    "label": label or f"項番{cell.get('no', row_no)}"}
        if isinstance(kind, str):
            problems.append(f"{where}: {kind}; kept as filler")
            kind = {"type": "filler"}
        if kind.get("storage") == "packed" and in_digits:
            length = length // 2 + 1  # n digits and a sign nibble
        start_text = _norm(cell.get("start", ""))
        if layout_format == "fixed" and start_text:
            if not start_text.isdigit():
                problems.append(f"{where}: 開始位置 {cell['start']!r} is not a number")
            elif int(start_text) != position:
                problems.append(f"{where}: 開始位置 {start_text}, but the fields before "
                                f"end at {position - 1}")
        entry |= {"length": length, **{k: v for k, v in kind.items()
                                       if v not in (False, 0, "display")}}
        if kind["type"] == "date":
            entry["format"] = {8: "YYYYMMDD", 10: "YYYY-MM-DD", 6: "YYYYMM"}.get(length, "?")
            if entry["format"] == "?":
                problems.append(f"{where}: a date of {length} characters: say its format")
                entry |= {"type": "filler"}
                del entry["format"]
        if _norm(cell.get("required", "")) in _YES and kind["type"] != "filler":
            entry["required"] = True
        fields.append(entry)
        position += length
    lines = [f"# Imported by chukan from {path.name}: check the types, names and",
             "# required flags against the sheet before use.",
             "[layout]", f"name = {_toml_value(name)}", f"format = {_toml_value(layout_format)}",
             f"encoding = {_toml_value(encoding)}"]
    if layout_format == "fixed":
        lines += [f"record_length = {position - 1}", f"terminator = {_toml_value(terminator)}"]
    else:
        lines += [f"terminator = {_toml_value(terminator)}", "header = true",
                  'header_text = "label"']
    for entry in fields:
        lines += ["", "[[field]]", *(f"{k} = {_toml_value(v)}" for k, v in entry.items())]
    toml = "\n".join(lines) + "\n"
    try:
        layout: Layout | None = loads_layout(toml)
    except LayoutError as exc:
        layout = None
        problems += [f"the imported layout: {p}" for p in exc.problems]
    return ImportResult(toml=toml, layout=layout, problems=problems)
