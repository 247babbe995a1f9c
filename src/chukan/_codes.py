"""The one registry of problem codes: for each stable code, what it means in English and
in Japanese, and its severity. Problems, reports, rejects and the docs all take their
words from here.

>>> REGISTRY["not-digits"].ja, REGISTRY["noncanonical"].severity
('数字項目に数字以外の文字があります', 'warning')
"""

from __future__ import annotations

from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

Severity = Literal["error", "warning"]


@dataclass(frozen=True, slots=True)
class _Code:
    """One code: English and Japanese words, and how bad it is. An ``error`` makes a
    report fail (and a strict read raise); a ``warning`` is said and read past."""

    en: str
    ja: str
    severity: Severity = "error"


#: Stable codes for problems in data. Codes never change meaning.
REGISTRY = MappingProxyType({
    "empty-file": _Code(
        "the file holds no records",
        "ファイルにレコードがありません",
    ),
    "bom-unexpected": _Code(
        "a UTF-8 byte-order mark where the layout expects none",
        "想定していないBOM(EF BB BF)があります",
    ),
    "record-length": _Code(
        "a record is longer or shorter than the layout's record_length",
        "レコード長がレイアウトと異なります",
    ),
    "truncated-record": _Code(
        "the last record is cut short (file size not a multiple of the record)",
        "最終レコードが途中で切れています",
    ),
    "terminator-missing": _Code(
        "the last record does not end with the terminator",
        "最終レコードに改行がありません",
    ),
    "terminator-mixed": _Code(
        "records end with different terminators (CRLF and LF mixed)",
        "改行コードが混在しています",
    ),
    "eof-marker": _Code(
        "a DOS end-of-file byte (0x1A) after the last record: read past; "
        "written back only where the layout says eof_marker = true (warning)",
        "ファイルの最後にEOF(0x1A)があります(警告)",
        "warning",
    ),
    "nul-byte": _Code(
        "a NUL byte (0x00) inside a record",
        "NULバイト(0x00)があります",
    ),
    "control-char": _Code(
        "a control character inside a field",
        "制御文字があります",
    ),
    "invalid-bytes": _Code(
        "bytes that are not valid in the layout's encoding",
        "文字コードとして正しくないバイトがあります",
    ),
    "dbcs-split": _Code(
        "a double-byte character cut by a field boundary",
        "2バイト文字が項目の境界で分断されています",
    ),
    "halfwidth-in-fullwidth": _Code(
        "a half-width character in a full-width (全角) field",
        "全角項目に半角文字があります",
    ),
    "fullwidth-in-halfwidth": _Code(
        "a full-width character in a half-width (半角) field",
        "半角項目に全角文字があります",
    ),
    "not-digits": _Code(
        "a character other than 0-9 in a digits field",
        "数字項目に数字以外の文字があります",
    ),
    "not-integer": _Code(
        "a value that is not an integer",
        "整数ではありません",
    ),
    "not-decimal": _Code(
        "a value that is not a decimal number of the declared form",
        "数値の形式が正しくありません",
    ),
    "bad-sign-nibble": _Code(
        "a packed-decimal sign nibble other than C, D or F",
        "パック10進数の符号が不正です(C・D・F以外)",
    ),
    "bad-digit-nibble": _Code(
        "a packed-decimal digit nibble above 9",
        "パック10進数の数字部分が不正です",
    ),
    "bad-date": _Code(
        "a value that is not a date in the declared format",
        "日付の形式が正しくありません",
    ),
    "impossible-date": _Code(
        "a date that does not exist (2023-02-30, month 13)",
        "存在しない日付です(2月30日、13月など)",
    ),
    "era-range": _Code(
        "a date outside its era (平成31年5月1日)",
        "元号の期間外の日付です(平成31年5月1日など)",
    ),
    "unknown-era": _Code(
        "an era code that is not in the era code table",
        "元号コードが元号コード表にありません",
    ),
    "unknown-code": _Code(
        "a code that is not in the field's code table",
        "コード表にないコードです",
    ),
    "fumei-flagged": _Code(
        "a 不詳 date whose every part is known (read under its 不詳 flag) "
        "going where nothing would say it is 不詳: written, it would read as "
        "a definite date",
        "不詳フラグ付きの日付を、不詳と示せない形で書こうとしました"
        "(確定した日付になってしまいます)",
    ),
    "unmapped-code": _Code(
        "a code of the source's table that the mapping's code map has no "
        "row for (convert)",
        "コード表にはあるが、コード対応表に対応がないコードです(変換)",
    ),
    "unrouted": _Code(
        "a value read only by rules with a when condition, in a record that meets "
        "none of them: it would go nowhere (convert)",
        "どの条件(when)にも当たらないため、値の行き先がありません(変換)",
    ),
    "required-missing": _Code(
        "a required field is empty",
        "必須項目が空です",
    ),
    "filler-mismatch": _Code(
        "a filler area does not hold its expected bytes",
        "FILLER(空き領域)の内容が想定と異なります",
    ),
    "unknown-record-type": _Code(
        "a record whose record-type value no record kind matches",
        "レコード区分がレイアウトにありません",
    ),
    "trailer-count": _Code(
        "a trailer's record count does not match the records before it",
        "トレーラの件数が実際のレコード数と一致しません",
    ),
    "width-overflow": _Code(
        "a value does not fit its field's width (never truncated)",
        "値が項目の長さに収まりません(切り捨てはしません)",
    ),
    "not-representable": _Code(
        "a character that the target encoding cannot represent",
        "出力する文字コードで表せない文字があります",
    ),
    "noncanonical": _Code(
        "a value read as the layout allows, but in a form the writer does not "
        "give back (padding, leading zeros, sign): written back, its bytes "
        "change (warning)",
        "値は読めますが、書き戻すとバイトが変わる形です"
        "(埋め文字・前ゼロ・符号など)(警告)",
        "warning",
    ),
    "csv-columns": _Code(
        "a CSV row with the wrong number of columns",
        "CSVの列数がレイアウトと一致しません",
    ),
    "csv-header": _Code(
        "a CSV header row without a required field's column, or with columns "
        "the layout does not allow (the file is not read)",
        "CSVの見出し行に必要な列がないか、レイアウトにない列があります",
    ),
    "csv-extra-columns": _Code(
        "columns of a CSV that its layout does not name, read past "
        "(extra_columns = true; warning)",
        "レイアウトにない列を読み飛ばしました(警告)",
        "warning",
    ),
    "csv-missing-columns": _Code(
        "optional fields whose columns a CSV lacks, read as empty "
        "(warning)",
        "ファイルにない任意項目を空として読みました(警告)",
        "warning",
    ),
    "csv-column-order": _Code(
        "a CSV whose columns stand in another order than the layout's: "
        "read by the header, written in the layout's order (warning)",
        "列の順番がレイアウトと異なります。見出しで読みました(警告)",
        "warning",
    ),
    "csv-quote": _Code(
        "a quote where a CSV field cannot have one (inside an unquoted field, "
        "after a closing quote), or one never closed",
        "CSVの引用符(\")の位置が正しくないか、閉じられていません",
    ),
    "wrong-encoding": _Code(
        "a file in an encoding the layout cannot be read as (UTF-16)",
        "レイアウトの文字コードでは読めないファイルです(UTF-16など)",
    ),
    "encoding-hint": _Code(
        "most records did not decode: the encoding the file looks like "
        "instead (warning)",
        "ほとんどのレコードが読めません。ファイルの文字コードが違うようです(警告)",
        "warning",
    ),
    "gaiji": _Code(
        "a 外字: a character of the Private Use Area, to be identified (warning)",
        "外字(私用領域の文字)です。文字同定が必要です(警告)",
        "warning",
    ),
    "unmapped-gaiji": _Code(
        "a 外字 that the mapping's 外字 map does not identify, on its way to "
        "a Unicode layout (convert)",
        "外字対応表にない外字です。Unicodeの出力には変換できません",
    ),
    "outside-repertoire": _Code(
        "a character outside the repertoire the field must keep to",
        "指定された文字集合(JIS X 0208など)にない文字です",
    ),
    "duplicate-key": _Code(
        "a record whose unique key repeats an earlier record's",
        "一意であるべき項目の値が重複しています",
    ),
    "missing-reference": _Code(
        "a value that the file it refers to does not hold (file set)",
        "参照先のファイルにない値です(世帯番号など)",
    ),
    "group-count": _Code(
        "a group with no record, or more than one, where one is required "
        "(file set)",
        "グループごとに1件のはずの記録が0件または複数あります(世帯主など)",
    ),
    "sequence": _Code(
        "a number out of its 1, 2, …, n order within its group (file set)",
        "グループ内の番号が1から順になっていません(記載順位など)",
    ),
})
