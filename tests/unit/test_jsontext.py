"""Stored JSON: orjson, with the json module for what orjson refuses to write or to read."""

from __future__ import annotations

import math

from engine import jsontext


def test_plain_values_round_trip_compactly():
    value = {"upn": "A801200005001", "sessions": [1, 2], "note": "Café ✓", "ok": True, "none": None}
    assert jsontext.dumps(value) == '{"upn":"A801200005001","sessions":[1,2],"note":"Café ✓","ok":true,"none":null}'
    assert jsontext.loads(jsontext.dumps(value)) == value


def test_what_orjson_will_not_write_is_written_by_json():
    assert jsontext.loads(jsontext.dumps({"big": 2**70})) == {"big": 2**70}
    assert jsontext.dumps({1: "one"}) == '{"1":"one"}'  # a non-text key, as json writes it


def test_what_json_wrote_before_still_reads_back():
    assert math.isnan(jsontext.loads('{"ratio": NaN}')["ratio"])
