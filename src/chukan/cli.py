"""The ``chukan`` command line: a thin layer over the library.

Exit codes: 0 success; 1 problems found in the data; 2 usage, layout or file errors.
Output is written so that a cp932 Windows console shows it (characters it cannot show
are replaced, never crash the command).
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn

import click
import polars as pl

from chukan._files import OutputSet, check_distinct
from chukan._formula import guard_frame, unguard_frame
from chukan._show import HEADINGS, describe, listing
from chukan.codec import schema_of
from chukan.errors import ChukanError, DataError, FileError, UsageError
from chukan.read import read_batches
from chukan.report import Report
from chukan.spec import UTF8_BOM, Field, Layout, load_layout
from chukan.write import write

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

EXIT_OK, EXIT_DATA, EXIT_USAGE = 0, 1, 2
_PROGRESS_MIN_BYTES = 8 << 20  # show progress for files of 8 MB or more


def _console_safe() -> None:
    """Never crash on a character the console's encoding lacks (cp932 on Windows)."""
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(AttributeError, ValueError):
            stream.reconfigure(errors="replace")  # type: ignore[union-attr]


def _fail(message: str, code: int = EXIT_USAGE) -> NoReturn:
    click.echo(f"chukan: {message}", err=True)
    sys.exit(code)


def _layout(name: str) -> Layout:
    try:
        return load_layout(name)
    except ChukanError as exc:
        _fail(str(exc))


class _Group(click.Group):
    """Commands whose OS errors (a missing folder, no permission, a full disk) end in one
    line naming the path and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> Any:  # noqa: ANN401 -- click's own signature
        try:
            return super().invoke(ctx)
        except BrokenPipeError:  # `chukan layouts | more` ended early: not an error to say
            with contextlib.suppress(OSError):
                os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            sys.exit(EXIT_OK)
        except OSError as exc:
            where = f"{exc.filename}: " if exc.filename else ""
            _fail(f"{where}{exc.strerror or exc}")


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chukan")
def main() -> None:
    """chukan: byte-exact conversion and validation of municipal data files.

    Exit codes: 0 success, 1 problems in the data, 2 usage or layout error.
    """
    _console_safe()


def _progress(path: Path, *, enabled: bool | None) -> Any:  # noqa: ANN401 -- click's bar type
    size = path.stat().st_size
    show = enabled if enabled is not None else (size >= _PROGRESS_MIN_BYTES and
                                                sys.stderr.isatty())
    return click.progressbar(length=size, label=path.name, file=sys.stderr,
                             show_eta=True) if show else contextlib.nullcontext()


def _bytes_per_record(path: Path, layout: Layout) -> int:
    """A record's bytes: exact for fixed layouts; for CSV, the average row length of the
    file's first megabyte."""
    if layout.format == "fixed":
        return layout.stride
    with path.open("rb") as fh:
        head = fh.read(1 << 20)
    return max(1, len(head) // max(1, head.count(b"\n")))


def _batches(path: Path, layout: Layout, report: Report | None, record: str | None,
             batch_size: int, bar: Any) -> Iterator[pl.DataFrame]:  # noqa: ANN401
    """Read in batches, advancing the progress bar by the bytes each batch covered
    (for CSV, estimated from the average row length of the file's first megabyte)."""
    kind = layout.kind(record)
    per_record = _bytes_per_record(path, layout)
    for frame in read_batches(path, layout, report=report, record=kind.name if
                              layout.is_multi else None, batch_size=batch_size):
        if hasattr(bar, "update"):
            bar.update(frame.height * per_record)
        yield frame


_EXCEL_OPTIONS = (
    click.option("--bom", is_flag=True,
                 help="CSV for Excel: a UTF-8 byte-order mark, so Excel reads UTF-8"),
    click.option("--header-labels", "labels", is_flag=True,
                 help="CSV header in the fields' labels (Japanese item names)"),
    click.option("--excel-safe", is_flag=True,
                 help="an apostrophe before text values Excel would run as a formula "
                      "(= + - @); see docs/layouts.md"),
)


def _excel_options(command: Any) -> Any:  # noqa: ANN401 -- click's decorator types
    for option in reversed(_EXCEL_OPTIONS):
        command = option(command)
    return command


def _spark_option(command: Any) -> Any:  # noqa: ANN401 -- click's decorator types
    return click.option(
        "--spark", "spark", is_flag=False, flag_value="local[*]", default=None,
        metavar="[MASTER]", help="run on Spark (pip install chukan[spark]): a local "
        "session on every core, or the given master URL")(command)


def _on_spark(master: str, work: Callable[[Any, Any], Any]) -> Any:  # noqa: ANN401 -- either result
    """Run ``work(session, chukan.spark)`` in a Spark session of ``master``."""
    try:
        import pyspark  # noqa: F401, PLC0415

        import chukan.spark as chukan_spark  # noqa: PLC0415 -- an optional extra
    except ImportError:
        _fail("--spark needs PySpark: pip install 'chukan[spark]'")
    with chukan_spark.session(master) as session:
        return work(session, chukan_spark)


@main.command("read")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", "-l", "layout_name", required=True, help="layout name or TOML path")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="OUT.csv (UTF-8) or OUT.parquet")
@click.option("--record", help="record kind to read (multi-record layouts)")
@click.option("--lenient", is_flag=True,
              help="report problems and keep going (failing values become empty)")
@click.option("--batch-size", default=100_000, show_default=True,
              help="records decoded at once (bounds memory)")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a "
                                                              "terminal, for large files)")
@_excel_options
def read_cmd(file: Path, layout_name: str, output: Path, record: str | None, *,
             lenient: bool, batch_size: int, progress: bool | None, bom: bool, labels: bool,
             excel_safe: bool) -> None:
    """Read FILE with a layout and write it as CSV (UTF-8) or Parquet.

    For a CSV that a clerk opens in Excel: --bom --header-labels --excel-safe.
    """
    layout = _layout(layout_name)
    try:
        kind = layout.kind(record)
    except ChukanError as exc:
        _fail(f"{exc} (choose one with --record)")
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        _fail("the output must end in .csv or .parquet")
    if suffix != ".csv" and (bom or labels or excel_safe):
        _fail("--bom, --header-labels and --excel-safe are for CSV output")
    style = _Style(bom=bom, labels={f.name: f.label for f in kind.fields if f.label}
                   if labels else {}, guard=excel_safe)
    report = Report() if lenient else None
    rows = 0
    try:
        check_distinct([file], [output])
        # all or nothing: the old output stays until the whole file was read
        with _progress(file, enabled=progress) as bar, OutputSet([output]) as (fh,):
            sink = _Sink(fh, suffix, style)
            for frame in _batches(file, layout, report, record, batch_size, bar):
                sink.add(frame)
                rows += frame.height
            sink.close(schema_of(layout.kind(record).fields))
    except DataError as exc:
        _fail(f"{exc}\n(nothing was written; use --lenient to collect every problem and "
              "keep going)", EXIT_DATA)
    except ChukanError as exc:
        _fail(str(exc))
    click.echo(f"{file} → {output}: {rows} records ({layout.name})")
    _finish(report)


@dataclass(frozen=True)
class _Style:
    """How ``read`` writes its CSV: for a program (the default) or for Excel."""

    bom: bool = False
    labels: dict[str, str] = field(default_factory=dict)  # column → header text
    guard: bool = False


class _Sink:
    """Appends batches to a CSV or Parquet file."""

    def __init__(self, fh: BinaryIO, suffix: str, style: _Style) -> None:
        self.fh, self.suffix, self.style = fh, suffix, style
        self.writer: Any = None
        self.first = True

    def add(self, frame: pl.DataFrame) -> None:
        if self.suffix == ".csv":
            if self.first and self.style.bom:
                self.fh.write(UTF8_BOM)
            if self.style.guard:
                frame = guard_frame(frame)
            if self.style.labels:  # a label shared by two columns keeps the names
                named = [self.style.labels.get(c, c) for c in frame.columns]
                if len(set(named)) == len(named):
                    frame = frame.rename(dict(zip(frame.columns, named, strict=True)))
            frame.write_csv(self.fh, include_header=self.first)
        else:
            import pyarrow.parquet as pq  # noqa: PLC0415 -- only for Parquet output

            table = frame.to_arrow()
            if self.writer is None:
                self.writer = pq.ParquetWriter(self.fh, table.schema)
            self.writer.write_table(table)
        self.first = False

    def close(self, schema: dict[str, pl.DataType]) -> None:
        if self.first:  # no records at all: still write the columns
            self.add(pl.DataFrame(schema=schema))
        if self.writer is not None:
            self.writer.close()


def _finish(report: Report | None) -> None:
    if report is None:
        return
    if report.problems:
        click.echo(report.summary(), err=True)
        for problem in report.problems[:20]:
            click.echo(f"  {problem}", err=True)
        if len(report.problems) > 20:
            click.echo(f"  … and {len(report.problems) - 20} more", err=True)
    if not report.ok:
        sys.exit(EXIT_DATA)


@main.command("write")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", "-l", "layout_name", required=True, help="layout name or TOML path")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True)
@click.option("--record", help="record kind (multi-record layouts)")
@click.option("--lenient", is_flag=True,
              help="report values that do not fit and write them as padding")
@click.option("--excel-safe", is_flag=True,
              help="SOURCE was written with read --excel-safe: take the apostrophes off")
def write_cmd(source: Path, layout_name: str, output: Path, record: str | None, *,
              lenient: bool, excel_safe: bool) -> None:
    """Write SOURCE (a CSV or Parquet file with the layout's columns) in a layout.

    A CSV header may name the columns by name or by label (read --header-labels).
    """
    layout = _layout(layout_name)
    if layout.is_multi:
        _fail("multi-record layouts are written from Python (chukan.write_records)")
    kind = layout.kind()
    schema = schema_of(kind.fields)
    suffix = source.suffix.lower()
    try:
        if suffix == ".parquet":
            df = pl.read_parquet(source)
        elif suffix == ".csv":
            # the layout decides the types: codes and ids keep their leading zeros; a
            # value that is not of its column's type is a problem in the data (exit 1)
            df = _typed_csv(source, schema, kind.fields, guarded=excel_safe)
        else:
            _fail("the source must end in .csv or .parquet")
    except pl.exceptions.PolarsError as exc:
        _fail(f"cannot read {source}: {exc}")
    try:
        check_distinct([source], [output])
    except ChukanError as exc:
        _fail(str(exc))
    report = Report() if lenient else None
    show = sys.stderr.isatty() and df.height * max(layout.record_length, 100) >= \
        _PROGRESS_MIN_BYTES
    bar_cm: Any = click.progressbar(length=df.height, label=output.name, file=sys.stderr) \
        if show else contextlib.nullcontext()
    try:
        with bar_cm as bar:
            n = write(df, output, layout, record=record, report=report,
                      progress=bar.update if show else None)
    except DataError as exc:
        _fail(f"{exc}\n(nothing was written; use --lenient to write the rest)", EXIT_DATA)
    except ChukanError as exc:
        _fail(str(exc))
    click.echo(f"{source} → {output}: {n} records ({layout.name})")
    _finish(report)


def _typed_csv(source: Path, schema: dict[str, pl.DataType], fields: tuple[Field, ...], *,
               guarded: bool) -> pl.DataFrame:
    """A CSV read as text (a header of labels renamed to the names, a byte-order mark
    read past), the spaces around numbers dropped. Numbers and dates stay text: the
    writer reads each one exactly as written and reports one that is none, with its
    record and field (Polars' casts here rounded 1.239 to 1.24 in a field of two places)."""
    text = pl.read_csv(source, infer_schema=False)
    by_label = {f.label: f.name for f in fields if f.label and f.name not in text.columns}
    text = text.rename({c: by_label[c] for c in text.columns if c in by_label})
    if guarded:
        text = unguard_frame(text)
    return text.with_columns(pl.col(c).str.strip_chars() for c, t in schema.items()
                             if c in text.columns and t.is_numeric())


@main.command("validate")
@click.argument("files", nargs=-1, required=True)
@click.option("--layout", "-l", "layout_name", help="layout name or TOML path")
@click.option("--set", "set_name", help="a file set (name or TOML path): FILES are then "
                                         "NAME=PATH, one per file of the set")
@click.option("--format", "fmt", type=click.Choice(["text", "json", "html"]), default="text",
              show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="write the report here (default: the console)")
@click.option("--repertoire", type=click.Choice(["jisx0208", "cp932", "jisx0213"]),
              help="characters every text field must keep to (layouts may set their own)")
@click.option("--mask", is_flag=True,
              help="replace personal values by their length and character class")
@click.option("--max-errors", type=click.IntRange(min=0),
              help="list at most N problems (counts always cover all)")
@click.option("--progress/--no-progress", default=None)
@click.option("--eudc", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the municipality's 外字 font (EUDC.TTE, .ttf): the report draws each 外字 "
                   "from it, and says which it lacks (pip install 'chukan[gaiji]')")
@_spark_option
def validate_cmd(files: tuple[str, ...], layout_name: str | None, set_name: str | None,
                 fmt: str, output: Path | None, repertoire: str | None, *, mask: bool,
                 max_errors: int | None, progress: bool | None, eudc: Path | None,
                 spark: str | None) -> None:
    """Check FILES against a layout (or a file set) and report every problem, located
    to the byte.

    Exit code 0 when the files are valid, 1 when errors were found (外字 alone are
    warnings), 2 for usage or layout errors.
    """
    from chukan.report import to_html, to_json, to_text  # noqa: PLC0415
    from chukan.spec import load_file_set  # noqa: PLC0415
    from chukan.validate import validate, validate_set  # noqa: PLC0415

    if (layout_name is None) == (set_name is None):
        _fail("give either --layout or --set")
    members = dict(f.partition("=")[::2] for f in files) if set_name else {}
    paths = [Path(p) for p in (members.values() if set_name else files)]
    for p in paths:
        if not p.is_file():
            _fail(f"no such file: {p}" + (" (with --set, give NAME=PATH)" if set_name else ""))
    if output is not None:
        try:
            check_distinct(paths, [output])
        except ChukanError as exc:
            _fail(str(exc))
    try:
        if set_name:
            file_set = load_file_set(set_name)
            layouts = list(file_set.files.values())
            name = file_set.name
        else:
            layouts = [_layout(str(layout_name))]
            name = layouts[0].name
    except ChukanError as exc:
        _fail(str(exc))
    size = sum(p.stat().st_size for p in paths)
    show = progress if progress is not None else (size >= _PROGRESS_MIN_BYTES and
                                                  sys.stderr.isatty())
    per_record = max(lay.stride if lay.format == "fixed" else 100 for lay in layouts)
    bar_cm: Any = click.progressbar(length=size, label="validate", file=sys.stderr) \
        if show else contextlib.nullcontext()
    try:
        if spark is not None and set_name:
            report = _on_spark(spark, lambda session, chukan_spark: chukan_spark.validate_set(
                session, file_set, members, repertoire=repertoire, mask=mask,
                max_errors=max_errors))
        elif spark is not None:
            report = _on_spark(spark, lambda session, chukan_spark: chukan_spark.validate(
                session, [str(p) for p in paths], layouts[0], repertoire=repertoire,
                mask=mask, max_errors=max_errors))
        else:
            with bar_cm as bar:
                options: Any = {"repertoire": repertoire, "mask": mask,
                                "max_errors": max_errors,
                                "progress": (lambda n: bar.update(n * per_record)) if show
                                else None}
                report = validate_set(file_set, members, **options) if set_name else \
                    validate(paths, layouts[0], **options)
    except ChukanError as exc:
        _fail(str(exc))
    glyphs = None
    if eudc is not None:
        from chukan.gaiji import glyphs_of, load_eudc  # noqa: PLC0415 -- an optional extra

        try:
            glyphs = glyphs_of(report, load_eudc(eudc))
        except ChukanError as exc:
            _fail(str(exc))
    if fmt == "json":
        text = to_json(report, layout=name)
    elif fmt == "html":
        text = to_html(report, layout=name, glyphs=glyphs)
    else:
        text = to_text(report)
    if glyphs is not None and fmt != "html":  # the text and JSON reports draw nothing
        lacking = [f"U+{ord(ch):04X}" for ch, svg in sorted(glyphs.items()) if svg is None]
        have = len(glyphs) - len(lacking)
        click.echo(f"{eudc}: 外字{len(glyphs)}字のうち{have}字の字形があります"
                   + (f"。フォントにない外字: {', '.join(lacking)}" if lacking else ""),
                   err=True)
    if output is None:
        click.echo(text)
    else:
        try:
            with OutputSet([output]) as (fh,):
                fh.write(text.encode("utf-8"))  # UTF-8 whatever the Windows locale
        except ChukanError as exc:
            _fail(str(exc))
        click.echo(f"{output}: {report.total} problem(s) in {report.records_read} records; "
                   f"{len(report.gaiji)} 外字, {len(report.outside)} outside the repertoire",
                   err=True)
    sys.exit(EXIT_OK if report.ok else EXIT_DATA)


@main.group("gaiji")
def gaiji_group() -> None:
    """外字: from the municipality's 外字 font to MJ characters (docs/gaiji.md)."""


@gaiji_group.command("candidates")
@click.option("--eudc", required=True,
              type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the municipality's 外字 font (EUDC.TTE or a .ttf)")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the worksheet to write (.xlsx); an HTML page of the same rows goes "
                   "beside it (.html)")
@click.option("--inventory", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="the 外字 to rank: a report of `chukan validate --format json` "
                   "(default: every 外字 in the font)")
@click.option("--mj-font", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="IPAmj明朝 (default: where Debian's fonts-ipamj-mincho installs it)")
@click.option("-k", "k", type=click.IntRange(1, 20), default=5, show_default=True,
              help="candidates per 外字")
@click.option("--cache/--no-cache", default=True,
              help="keep the MJ font's index on disk (CHUKAN_CACHE, or the user's cache "
                   "folder) and use it next time")
def gaiji_candidates_cmd(eudc: Path, output: Path, inventory: Path | None,
                         mj_font: Path | None, k: int, cache: bool) -> None:
    """Rank MJ characters by shape for each 外字 of a 外字 font, into a worksheet
    (.xlsx + .html) with an empty 決定 column for `chukan gaiji map`.

    Exit code 0, or 1 when some 外字 of the inventory are not in the font (listed).
    """
    from chukan.gaiji import candidates, load_eudc, mj_index, write_worksheet  # noqa: PLC0415
    from chukan.gaiji._worksheet import require, worksheet_paths  # noqa: PLC0415

    def say(text: str) -> None:
        click.echo(text, err=True)

    try:
        # what can be refused is refused before the index is built
        require()
        check_distinct([eudc], list(worksheet_paths(output)))
        font = load_eudc(eudc)
        chars, counts = None, None
        if inventory is not None:
            chars, counts = _inventory_of(inventory)
        index = mj_index(mj_font, cache=cache, progress=say)
        wanted = len(font.private) if chars is None else len(chars)
        say(f"外字{wanted}字の候補を MJ 字形{len(index.names)}字から探しています")
        found = candidates(font, index, k=k, chars=chars)
        book, page = write_worksheet(output, found, font, index, counts)
    except ChukanError as exc:
        _fail(str(exc))
    say(f"{book}, {page}: 外字{found.table['code_point'].n_unique()}字の候補")
    if found.missing:
        say("外字フォントにない外字(候補を出せません): " + ", ".join(found.missing))
        sys.exit(EXIT_DATA)


def _inventory_of(path: Path) -> tuple[list[str], dict[str, int]]:
    """The 外字 of a JSON report (``validate --format json``) and their counts."""
    import json  # noqa: PLC0415

    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileError(path, exc) from None
    try:
        entries = json.loads(raw)["gaiji"]
        for number, e in enumerate(entries, 1):
            if not (isinstance(e["char"], str) and len(e["char"]) == 1):
                msg = f"外字一覧の{number}番目の char が1文字ではありません: {e['char']!r}"
                raise ValueError(msg)
        chars = [e["char"] for e in entries]
        counts = {str(e["code_point"]): int(e["count"]) for e in entries}
    except (ValueError, KeyError, TypeError) as exc:
        msg = (f"{path}: chukan validate --format json の報告として読めません "
               f"({type(exc).__name__}: {exc})")
        raise UsageError(msg) from None
    return chars, counts


@gaiji_group.command("map")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the 外字 map to write (gaiji.toml), for a mapping's gaiji_map")
@click.option("--mj-font", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="IPAmj明朝 (default: where Debian's fonts-ipamj-mincho installs it)")
@click.option("--name", help="the 外字 map's name (default: the output file's name)")
def gaiji_map_cmd(sheet: Path, output: Path, mj_font: Path | None, name: str | None) -> None:
    """Turn a worksheet's decisions (columns コードポイント and 決定: an MJ 文字図形名
    such as mj030244, U+XXXX code points with an IVS, or the character) into a 外字 map.

    Exit code 0 when every 外字 has a decision, 1 when some have none (listed; the map
    holds the others, nothing is guessed), 2 when a decision names what the MJ font
    does not have (nothing is written).
    """
    from chukan.gaiji import decisions, gaiji_toml, load_mj_font  # noqa: PLC0415

    try:
        check_distinct([sheet], [output])
        found = decisions(sheet, load_mj_font(mj_font))
        text = gaiji_toml(found.chars, name=name or output.stem,
                          source=f"{sheet.name}: 文字同定の決定")
        with OutputSet([output]) as (fh,):
            fh.write(text.encode("utf-8"))
    except ChukanError as exc:
        _fail(str(exc))
    click.echo(f"{output}: 外字{len(found.chars)}字の対応表", err=True)
    if found.undecided:
        click.echo("決定のない外字(対応表に入れていません): " + ", ".join(found.undecided),
                   err=True)
        sys.exit(EXIT_DATA)


@main.command("convert")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--mapping", "-m", "mapping_name", required=True,
              help="mapping name or TOML path")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="the output file (with --spark: a new directory of part files)")
@click.option("--reverse", is_flag=True, help="run the mapping backwards (target → source)")
@click.option("--rejects", type=click.Path(dir_okay=False, path_type=Path),
              help="reject file (default: OUTPUT.rejects.csv)")
@click.option("--manifest", type=click.Path(dir_okay=False, path_type=Path),
              help="manifest (default: OUTPUT.manifest.json)")
@click.option("--progress/--no-progress", default=None, help="progress bar (default: on a "
              "terminal, for files of 8 MB or more)")
@click.option("--mask", is_flag=True,
              help="reject file without personal data: values as their shape, bytes counted")
@_excel_options
@_spark_option
@click.option("--single", metavar="NAME",
              help="with --spark: join the parts into one file NAME in the directory")
def convert_cmd(source: Path, mapping_name: str, output: Path, rejects: Path | None,
                manifest: Path | None, *, reverse: bool, progress: bool | None,
                mask: bool, bom: bool, labels: bool, excel_safe: bool, spark: str | None,
                single: str | None) -> None:
    """Convert SOURCE through a mapping: the output, a reject file with every record that
    could not be converted and why, and a manifest with hashes and counts.

    Exit code 0 when every record was converted, 1 when some were rejected, 2 for usage,
    layout or mapping errors.
    """
    from chukan.convert import convert  # noqa: PLC0415
    from chukan.spec import load_mapping  # noqa: PLC0415

    try:
        spec = load_mapping(mapping_name)
        if bom or labels or excel_safe:  # the output's layout, as a file for Excel
            side = "source" if reverse else "target"
            spec = dataclasses.replace(spec, **{side: getattr(spec, side).for_excel(
                bom=bom, labels=labels, guard=excel_safe)})
        if spark is not None:
            if rejects or manifest:
                _fail("with --spark the rejects and the manifest go into the output directory")
            result = _on_spark(spark, lambda session, chukan_spark: chukan_spark.convert(
                session, str(source), spec, str(output), reverse=reverse, single=single,
                mask=mask))
        else:
            if single:
                _fail("--single joins the parts of a --spark conversion")
            per_record = _bytes_per_record(source, spec.target if reverse else spec.source)
            with _progress(source, enabled=progress) as bar:
                result = convert(source, spec, output, reverse=reverse, rejects=rejects,
                                 manifest=manifest,
                                 progress=(lambda n: bar.update(n * per_record))
                                 if hasattr(bar, "update") else None, mask=mask)
    except DataError as exc:  # the file cannot be converted as it is (its CSV header)
        _fail(str(exc), EXIT_DATA)
    except ChukanError as exc:
        _fail(str(exc))
    for problem in result.file_problems:  # the file as a whole: said, not counted as rejects
        click.echo(f"chukan: {problem}", err=True)
    where = f"{output}: " + ", ".join(result.rejects) if spark is not None else result.rejects
    click.echo(f"{source} → {output}: {result.records_in} in, {result.records_out} out, "
               f"{result.records_rejected} rejected ({where})")
    for reason, n in result.rejects_by_reason.most_common():
        click.echo(f"  {reason}: {n}", err=True)
    troubled = result.records_rejected or any(p.severity == "error"
                                              for p in result.file_problems)
    sys.exit(EXIT_DATA if troubled else EXIT_OK)


@main.command("inspect")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--layout", "-l", "layout_name", help="show the first records field by field")
@click.option("-n", "--records", "count", default=3, show_default=True)
def inspect_cmd(file: Path, layout_name: str | None, count: int) -> None:
    """Guess a file's encoding, terminator and record length; with a layout, show the
    first records with their field boundaries."""
    from chukan._infer import SAMPLE_BYTES, guess_columns, sniff  # noqa: PLC0415
    from chukan._inspect import describe, show_records  # noqa: PLC0415 -- inspect only

    with file.open("rb") as fh:
        head = fh.read(SAMPLE_BYTES)
    for line in describe(head[:1 << 20], file.stat().st_size):
        click.echo(line)
    try:
        shape = sniff(head)
    except ChukanError:
        shape = None
    if shape is not None and shape.columns > 1 and not layout_name:
        click.echo(f"CSV: delimiter {shape.delimiter!r}, {shape.columns} columns, "
                   f"header {'yes' if shape.header else 'no'}, "
                   f"quoted values {'yes' if shape.quoted else 'no'}")
        click.echo("  列 見出し                     推定                   長さ(最大)  空/行")
        for guess in guess_columns(head, shape):
            click.echo("  " + guess.describe())
        click.echo("(chukan layout infer FILE -o L.toml writes a layout from these guesses)")
    if layout_name:
        layout = _layout(layout_name)
        for line in show_records(head, layout, count):
            click.echo(line)


@main.command("layouts")
@click.argument("name", required=False)
@click.option("--kind", type=click.Choice(list(HEADINGS)),
              help="list only one kind of file")
def layouts_cmd(name: str | None, kind: str | None) -> None:
    """List the layouts, mappings, code tables, code maps, file sets and 外字 maps chukan
    can find, or show one of them (NAME: a name from the list, or a TOML path)."""
    try:
        lines = describe(name) if name is not None else listing(kind)
    except ChukanError as exc:
        _fail(str(exc))
    if not lines:
        lines = ["nothing found (set CHUKAN_LAYOUT_PATH)"]
    for line in lines:
        click.echo(line)


@main.group("layout")
def layout_group() -> None:
    """Work on layout files."""


@layout_group.command("infer")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path),
              help="the layout TOML to write (default: print it)")
@click.option("--name", help="layout name (default: the output's or the file's name)")
def layout_infer_cmd(file: Path, output: Path | None, name: str | None) -> None:
    """Write a CSV layout from a data file's header and values: labels keep the header,
    names are valid and unique (a shipped layout's name for a label it knows), types and
    lengths are what the first 8 MB show, checked by reading them back with the layout."""
    from chukan._infer import infer_layout  # noqa: PLC0415 -- this command only

    try:
        check_distinct([file], [output] if output else [])
        text, shape, guesses = infer_layout(file, name or (output or file).stem)
    except ChukanError as exc:
        _fail(str(exc))
    if output is None:
        click.echo(text, nl=False)
        return
    with OutputSet([output]) as (fh,):
        fh.write(text.encode("utf-8"))
    click.echo(f"{file} → {output}: {len(guesses)} fields ({shape.encoding}, "
               f"delimiter {shape.delimiter!r}, header {'yes' if shape.header else 'no'})")


@layout_group.command("import")
@click.argument("sheet", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True,
              help="the layout TOML to write")
@click.option("--name", help="layout name (default: the output's file name)")
@click.option("--format", "layout_format", type=click.Choice(["fixed", "csv"]),
              default="fixed", show_default=True)
@click.option("--encoding", default="cp932", show_default=True)
@click.option("--terminator", type=click.Choice(["crlf", "lf", "none"]), default="crlf",
              show_default=True)
@click.option("--column", "column_opts", multiple=True, metavar="ROLE=HEADER",
              help="which column is which: label, length, attr, start, required, no, "
                   "name, scale (e.g. --column label=データ項目)")
def layout_import_cmd(sheet: Path, output: Path, name: str | None, layout_format: str,
                      encoding: str, terminator: str, column_opts: tuple[str, ...]) -> None:
    """Turn a record-layout or item-list sheet (.csv or .xlsx: 項番, 項目名, 属性, 桁数,
    開始位置, 必須) into a layout TOML, listing every row it could not understand.

    Exit code 0 when every row became a field, 1 when some rows need a look (the TOML is
    written all the same), 2 when the sheet cannot be read.
    """
    from chukan._sheet import HEADERS, import_layout  # noqa: PLC0415

    columns = {}
    for opt in column_opts:
        role, sep, header = opt.partition("=")
        if not sep or role not in HEADERS:
            _fail(f"--column {opt!r}: write ROLE=HEADER, ROLE one of {', '.join(HEADERS)}")
        columns[role] = header
    try:
        result = import_layout(sheet, name=name or output.stem, layout_format=layout_format,
                               encoding=encoding, terminator=terminator, columns=columns)
    except ChukanError as exc:
        _fail(str(exc))
    output.write_bytes(result.toml.encode("utf-8"))
    fields = len(result.layout.kind().fields) if result.layout else 0
    click.echo(f"{sheet} → {output}: {fields} fields, {len(result.problems)} problem(s)")
    for problem in result.problems:
        click.echo(f"  {problem}", err=True)
    sys.exit(EXIT_OK if not result.problems else EXIT_DATA)
