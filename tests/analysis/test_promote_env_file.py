"""The bot's .env: KEY=VALUE lines, export, comments, quotes; anything else is refused."""

import pytest

from backtest.promotion.botfolder import read_env
from backtest.promotion.checklist import PromoteError


def test_the_usual_dotenv_forms_are_read(tmp_path):
    path = tmp_path / ".env"
    path.write_text(
        "# account\nexport ACCOUNT_TYPE=DEMO  # the demo account\n\n"
        "NEWS_FILE='calendar #1.csv'\nMT5_SERVER=\"The5ers-Server\"\nEMPTY=\n"
    )
    assert read_env(path) == {
        "ACCOUNT_TYPE": "DEMO",
        "NEWS_FILE": "calendar #1.csv",
        "MT5_SERVER": "The5ers-Server",
        "EMPTY": "",
    }


def test_a_missing_env_file_is_bad_input(tmp_path):
    with pytest.raises(PromoteError, match=r"\.env: \.env file not found"):
        read_env(tmp_path / ".env")


def test_a_bad_key_is_refused_with_its_line(tmp_path):
    path = tmp_path / ".env"
    path.write_text("OK=1\n2BAD=x\n")
    with pytest.raises(PromoteError) as info:
        read_env(path)
    assert str(info.value) == f"{path}: line 2: not KEY=VALUE: '2BAD=x'"
