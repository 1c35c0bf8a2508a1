"""Sample data is deterministic: same seed, byte-identical Parquet; another seed differs."""

from backtest.core.checksum import file_checksum
from backtest.data.sample import generate_bars, write_parquet


def _checksum(tmp_path, name, seed):
    path = tmp_path / name
    write_parquet(generate_bars("GER40", "2024-03-25", "2024-04-05", seed), path)
    return file_checksum(path)


def test_same_seed_same_checksum(tmp_path):
    first = _checksum(tmp_path, "a.parquet", seed=7)
    second = _checksum(tmp_path, "b.parquet", seed=7)

    assert first == second


def test_different_seed_differs(tmp_path):
    first = _checksum(tmp_path, "a.parquet", seed=7)
    other = _checksum(tmp_path, "c.parquet", seed=8)

    assert first != other


def test_symbols_differ_for_one_seed():
    ger40 = generate_bars("GER40", "2024-01-02", "2024-01-02", 7)
    xauusd = generate_bars("XAUUSD", "2024-01-02", "2024-01-02", 7)

    assert (
        not ger40["close"].pct_change().iloc[1:50].equals(xauusd["close"].pct_change().iloc[1:50])
    )
