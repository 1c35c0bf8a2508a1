"""hosts.yaml is strict before anything connects: each bad value of the review is one
error naming the file and the field (exit 2 from fab), never read as something else."""

from __future__ import annotations

import pytest
import yaml

from farm.errors import HostsFileError
from farm.hosts import load_hosts
from tests.farm.conftest import write_groups

HOST = {"address": "127.0.0.9", "symbol": "GER40", "range": "0:4"}


def _write(tmp_path, defaults=None, host=None, symbol=None):
    groups = write_groups(tmp_path / "g.json", 4)
    doc = {
        "defaults": {"base_dir": "/srv/ibsweep", **(defaults or {})},
        "symbols": {"GER40": {"groups_file": str(groups), **(symbol or {})}},
        "hosts": {"a": {**HOST, **(host or {})}},
    }
    path = tmp_path / "hosts.yaml"
    path.write_text(yaml.safe_dump(doc))
    return path


@pytest.mark.parametrize(
    ("where", "value", "field", "message"),
    [
        ("defaults", {"base_dir": "/"}, "hosts.a.base_dir", "must not be '/'"),
        ("defaults", {"base_dir": "/srv/../.."}, "hosts.a.base_dir", "normalised absolute path"),
        ("defaults", {"base_dir": "/srv//x"}, "hosts.a.base_dir", "normalised absolute path"),
        ("defaults", {"output_dir": "/abs/out"}, "hosts.a.output_dir", "relative to base_dir"),
        ("defaults", {"output_dir": "../../.."}, "hosts.a.output_dir", "without '..'"),
        ("defaults", {"output_dir": "."}, "hosts.a.output_dir", "without '..', '.'"),
        ("defaults", {"output_dir": "venv/x"}, "hosts.a.output_dir", "inside base_dir's 'venv'"),
        ("defaults", {"venv": "/"}, "hosts.a.venv", "relative to base_dir"),
        ("defaults", {"venv": "../venv"}, "hosts.a.venv", "without '..'"),
        ("defaults", {"charts": "false"}, "hosts.a.charts", "true or false (unquoted)"),
        ("defaults", {"strict_data": "no"}, "hosts.a.strict_data", "true or false"),
        ("defaults", {"port": 99999}, "hosts.a.port", "integer from 1 to 65535"),
        ("defaults", {"port": 0}, "hosts.a.port", "integer from 1 to 65535"),
        ("defaults", {"env": {"TOKEN": True}}, "hosts.a.env.TOKEN", "a string or a number"),
        ("host", {"stop_timeout": 0}, "hosts.a.stop_timeout", "integer >= 1"),
        ("defaults", {"collect_max_file_mb": 0}, "hosts.a.collect_max_file_mb", "integer >= 1"),
        ("host", {"collect_max_host_mb": "9"}, "hosts.a.collect_max_host_mb", "integer >= 1"),
        ("symbol", {"allow_uncovered": "no"}, "symbols.GER40.allow_uncovered", "true or false"),
        ("symbol", {"allow_sample": "yes"}, "symbols.GER40.allow_sample", "true or false"),
        (
            "symbol",
            {"in_sample": {"start_date": "$(touch x)"}},
            "symbols.GER40.in_sample.start_date",
            "a date YYYY-MM-DD",
        ),
        (
            "symbol",
            {"control": {"end_date": "2026-13-01"}},
            "symbols.GER40.control.end_date",
            "a date YYYY-MM-DD",
        ),
        (
            "symbol",
            {"in_sample": {"start_date": "2024-02-01", "end_date": "2024-01-01"}},
            "symbols.GER40.in_sample",
            "start_date 2024-02-01 is after end_date 2024-01-01",
        ),
        (
            "symbol",
            {"data_file": "GER40.parquet"},
            "symbols.GER40.data_file",
            "per period now: put it under symbols.GER40.in_sample",
        ),
    ],
)
def test_bad_value_is_one_error_naming_file_and_field(tmp_path, where, value, field, message):
    # Arrange
    path = _write(tmp_path, **{where: value})

    # Act
    with pytest.raises(HostsFileError) as err:
        load_hosts(path)

    # Assert
    text = str(err.value)
    assert text.startswith(f"{path}: {field}: "), text
    assert message in text and "\n" not in text


def test_good_values_are_read_as_written(tmp_path):
    # Arrange: the same keys with valid values (YAML dates unquoted, trailing slash)
    path = _write(
        tmp_path,
        defaults={"base_dir": "/srv/ib/", "charts": True, "port": 65535, "env": {"N": 3}},
        symbol={
            "allow_sample": True,
            "control": {"start_date": "2025-11-04", "end_date": "2026-01-20"},
        },
    )
    path.write_text(path.read_text().replace("'2025-11-04'", "2025-11-04"))

    # Act
    farm = load_hosts(path)

    # Assert
    (host,) = farm.hosts
    assert (host.base_dir, host.charts, host.port, host.env) == (
        "/srv/ib",
        True,
        65535,
        (("N", "3"),),
    )
    control = farm.symbols["GER40"].period("control")
    assert (control.start_date, control.end_date, control.data_file) == (
        "2025-11-04",
        "2026-01-20",
        None,
    )
    assert farm.symbols["GER40"].allow_sample is True
