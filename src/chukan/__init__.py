"""chukan: byte-exact conversion and validation of Japanese municipal data files.

>>> import chukan
>>> df = chukan.read("fixtures/vendor-a/juki-kojin.dat", "examples/vendor-a/juki-kojin")
>>> df.height
5
"""

from chukan._sheet import ImportResult, import_layout
from chukan.convert import ConvertResult, NotInvertibleError, convert
from chukan.errors import (
    ChukanError,
    DataError,
    LayoutError,
    LayoutNotFoundError,
    LayoutProblem,
    SheetError,
    UsageError,
)
from chukan.read import DecodedBlock, decode_block, read, read_batches, read_records, scan
from chukan.report import GaijiEntry, Problem, Report
from chukan.spec import (
    CodeTable,
    Field,
    Layout,
    RecordKind,
    available_layouts,
    catalogue,
    load_code_map,
    load_code_page,
    load_code_table,
    load_file_set,
    load_gaiji_map,
    load_layout,
    load_mapping,
    loads_layout,
)
from chukan.validate import validate, validate_set
from chukan.write import write, write_records

__version__ = "0.1.0"

__all__ = [
    "ChukanError",
    "CodeTable",
    "ConvertResult",
    "DataError",
    "DecodedBlock",
    "Field",
    "GaijiEntry",
    "ImportResult",
    "Layout",
    "LayoutError",
    "LayoutNotFoundError",
    "LayoutProblem",
    "NotInvertibleError",
    "Problem",
    "RecordKind",
    "Report",
    "SheetError",
    "UsageError",
    "__version__",
    "available_layouts",
    "catalogue",
    "convert",
    "decode_block",
    "import_layout",
    "load_code_map",
    "load_code_page",
    "load_code_table",
    "load_file_set",
    "load_gaiji_map",
    "load_layout",
    "load_mapping",
    "loads_layout",
    "read",
    "read_batches",
    "read_records",
    "scan",
    "validate",
    "validate_set",
    "write",
    "write_records",
]
