"""When each era (元号) begins and ends: the one calendar fact chukan builds in."""

from __future__ import annotations

import datetime as dt
from types import MappingProxyType

#: First day of each era. 明治元年 is taken as the whole of 1868 (the lunisolar calendar
#: used before 1873 is not modelled).
ERA_STARTS = MappingProxyType({
    "明治": dt.date(1868, 1, 1),
    "大正": dt.date(1912, 7, 30),
    "昭和": dt.date(1926, 12, 25),
    "平成": dt.date(1989, 1, 8),
    "令和": dt.date(2019, 5, 1),
})
#: Last day of each era. 大正 and 昭和 began on the day the previous emperor died, so that
#: day belongs to both eras; 平成 and 令和 began the day after the previous era ended.
ERA_ENDS = MappingProxyType({
    "明治": dt.date(1912, 7, 30),
    "大正": dt.date(1926, 12, 25),
    "昭和": dt.date(1989, 1, 7),
    "平成": dt.date(2019, 4, 30),
    "令和": dt.date(9999, 12, 31),
})
