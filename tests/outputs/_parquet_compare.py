"""Compares Parquet event files with the JSON of the same run, value by value, with pyarrow (an
independent reader). Usage: _parquet_compare.py PARQUET JSON [ROW_GROUPS]; exit 0 and "ok N" when
equal, else the first difference."""
import json
import sys
from datetime import datetime, timezone

import pyarrow.parquet as pq

JSON_COLUMNS = {"RDNS", "Samples", "Tools", "Tags"}


def ns(text):
    """RFC 3339 UTC with up to nine fraction digits -> nanoseconds since the epoch."""
    base, _, frac = text.rstrip("Z").partition(".")
    sec = int(datetime.strptime(base, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=timezone.utc).timestamp())
    return sec * 1_000_000_000 + int((frac or "0").ljust(9, "0"))


def load_json(path):
    text = open(path).read()
    return json.loads(text) if text.lstrip().startswith("[") else [json.loads(l) for l in text.splitlines() if l]


def main():
    pf = pq.ParquetFile(sys.argv[1])
    table = pf.read()
    events = load_json(sys.argv[2])
    if len(sys.argv) > 3 and pf.num_row_groups != int(sys.argv[3]):
        sys.exit(f"{pf.num_row_groups} row groups, expected {sys.argv[3]}")
    if table.num_rows != len(events):
        sys.exit(f"{table.num_rows} rows, {len(events)} events")
    columns = {name: table.column(name) for name in table.column_names}
    keys = [k for k in table.column_names if k != "SourceIPv4"]
    if list(events[0].keys()) != keys if events else False:
        sys.exit(f"columns {keys} are not the event keys {list(events[0].keys())}")
    for i, e in enumerate(events):
        for k in keys:
            col = columns[k]
            got = col[i]
            if k in ("First", "Last"):
                got = got.cast("int64").as_py()
                want = ns(e[k])
            elif k in JSON_COLUMNS:
                got = got.as_py()
                got = None if got is None else json.loads(got)
                want = e[k]
            else:
                got = got.as_py()
                want = e[k]
            if got != want:
                sys.exit(f"row {i} {k}: parquet {got!r}, json {want!r}")
        ip = e["SourceIP"]
        v4 = None
        if ":" not in ip:
            a, b, c, d = (int(x) for x in ip.split("."))
            v4 = (a << 24) | (b << 16) | (c << 8) | d
        if columns["SourceIPv4"][i].as_py() != v4:
            sys.exit(f"row {i} SourceIPv4: {columns['SourceIPv4'][i].as_py()} for {ip}")
    types = {f.name: str(f.type) for f in table.schema}
    assert types["First"] == "timestamp[ns, tz=UTC]", types["First"]
    assert types["Packets"] == "int64" and types["Port"] == "int32", types
    print(f"ok {len(events)}")


main()
