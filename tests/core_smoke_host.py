"""Host side of core_smoke.py: values the guest must reproduce, and a check that a
file the guest wrote in the mapped directory is visible on the host."""
import datetime
import decimal
import json
import os


def prepare(scratch):
    d = datetime.datetime(2026, 11, 26, 12, 30, tzinfo=datetime.timezone.utc)
    ctx = decimal.Context(prec=50)
    doc = {"a": [1, 2.5, None, True], "b": {"c": "\u00e9\u4e2d"}}
    return {
        "json_dump": json.dumps(doc, sort_keys=True),
        "date_plus_40": (d + datetime.timedelta(days=40)).strftime("%Y-%m-%d %a"),
        "one_seventh_50": str(ctx.divide(decimal.Decimal(1), decimal.Decimal(7))),
    }


def check(scratch):
    path = os.path.join(scratch, "core-written.txt")
    ok = os.path.isfile(path) and open(path).read() == "written by pylon\n"
    return [("a file written in the guest is visible on the host", ok, f"{path} missing or wrong")]
