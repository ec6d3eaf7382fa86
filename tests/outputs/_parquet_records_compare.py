"""Compares a Parquet file of analysis records (--dosout, --sourceout) with the JSON of the same
run, value by value, with pyarrow (an independent reader). Usage: _parquet_records_compare.py
PARQUET JSON; exit 0 and "ok N" when every record's every key is its column's value, in order,
then a line of NAME=TYPE (! when not nullable), else the first difference."""
import json
import sys
from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.parquet as pq


def ns(text):
    """RFC 3339 UTC with up to nine fraction digits -> nanoseconds since the epoch."""
    base, _, frac = text.rstrip("Z").partition(".")
    sec = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return sec * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def main():
    table = pq.read_table(sys.argv[1])
    text = open(sys.argv[2]).read()
    records = json.loads(text) if text.lstrip().startswith("[") else [json.loads(l) for l in text.splitlines() if l]
    if table.num_rows != len(records):
        sys.exit(f"{table.num_rows} rows, {len(records)} records")
    if records and list(records[0].keys()) != table.column_names:
        sys.exit(f"columns {table.column_names} are not the record keys {list(records[0].keys())}")
    fields = {f.name: f for f in table.schema}
    for name in table.column_names:
        col = table.column(name)
        t = fields[name].type
        for i, r in enumerate(records):
            want = r[name]
            if pa.types.is_timestamp(t):
                assert str(t) == "timestamp[ns, tz=UTC]", t
                got = col[i].cast("int64").as_py()
                want = None if want is None else ns(want)
            else:
                got = col[i].as_py()
                if isinstance(want, (list, dict)):
                    got = json.loads(got)
            numbers = isinstance(got, float) and isinstance(want, (int, float)) and not isinstance(want, bool)
            if got != want or type(got) is not type(want) and not numbers:
                sys.exit(f"row {i} {name}: parquet {got!r} ({t}), json {want!r}")
            if isinstance(r[name], bool) and not pa.types.is_boolean(t):
                sys.exit(f"{name}: {t}, expected bool")
            if isinstance(r[name], int) and not isinstance(want, bool) and not (pa.types.is_int64(t) or pa.types.is_floating(t)):
                sys.exit(f"{name}: {t}, expected int64")
    print(f"ok {len(records)}")
    print(" ".join(f"{f.name}={f.type}{'' if f.nullable else '!'}" for f in table.schema))


main()
