"""Config loading: a good file becomes dataclasses, a bad one one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import main
from bot.config import SHIPPED_CONTENT_DIR, Config, ConfigError, is_chat_ref, mask_token

ROOT = Path(__file__).resolve().parent.parent
GOOD = """
[telegram]
token = "123456:SECRET-token_value"
api_url = "http://127.0.0.1:9/bot"
[storage]
path = "db/pollbot.sqlite3"
[bot]
admins = [11111111, 22222222]
channels = ["@mychannel", -1001234567890]
"""


def write(tmp_path: Path, text: str) -> Path:
    (tmp_path / "db").mkdir(exist_ok=True)
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_good_file_gives_typed_values_and_resolves_paths(tmp_path: Path) -> None:
    config = Config.from_toml(write(tmp_path, GOOD), env={})
    assert config.telegram.token == "123456:SECRET-token_value"
    assert config.bot.admins == (11111111, 22222222)
    assert config.bot.channels == ("@mychannel", -1001234567890)
    assert config.storage.path == tmp_path / "db" / "pollbot.sqlite3"
    assert config.storage.keep_days == 30
    assert config.bot.content_dir == SHIPPED_CONTENT_DIR  # left out: the shipped article
    assert config.digest.charts is True and config.privacy.hash_voters is False


def test_a_relative_content_dir_starts_at_the_config_file(tmp_path: Path) -> None:
    text = GOOD.replace("[bot]", '[bot]\ncontent_dir = "articles"')
    assert Config.from_toml(write(tmp_path, text), env={}).bot.content_dir == tmp_path / "articles"


def test_environment_token_overrides_the_file(tmp_path: Path) -> None:
    config = Config.from_toml(write(tmp_path, GOOD), env={"POLLBOT_TOKEN": "42:from-env-xyz"})
    assert config.telegram.token == "42:from-env-xyz"


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (('token = "123456:SECRET-token_value"', ""), "telegram.token: missing"),
        (
            ('token = "123456:SECRET-token_value"', 'token = "123456:ABC"'),
            "telegram.token: is the example placeholder",
        ),
        (
            ("admins = [11111111, 22222222]", 'admins = [11111111, "me"]'),
            "bot.admins: item 2 must be an integer, got a string",
        ),
        (("admins = [11111111, 22222222]", "admins = [0]"), "bot.admins: item 1 must be"),
        (("admins = [11111111, 22222222]", "admins = 11111111"), "bot.admins: must be a list"),
        (("[bot]", "[bot]\ncolour = 1"), "bot.colour: unknown key"),
        (("[storage]", "[storage]\nextra = 1"), "storage.extra: unknown key"),
        (("[storage]", "[storage]\nkeep_days = 0"), "storage.keep_days: must be at least 1"),
        (("[storage]", "[storage]\nkeep_days = 1000000000000000"), "storage.keep_days: must be"),
        (
            ("[bot]", "[digest]\ngrace_minutes = 1000000000000000\n[bot]"),
            "digest.grace_minutes: must be an integer <= 525600",
        ),
        (('path = "db/pollbot.sqlite3"', 'path = "missing/x.sqlite3"'), "storage.path: directory"),
        (('path = "db/pollbot.sqlite3"', 'path = "db"'), "storage.path:"),
        (
            ('channels = ["@mychannel", -1001234567890]', 'channels = ["mychannel"]'),
            "bot.channels: 'mychannel' is not @username",
        ),
        (('api_url = "http://127.0.0.1:9/bot"', 'api_url = "ftp://x"'), "telegram.api_url"),
        (("[bot]", '[bot]\ntimezone = "Mars/Olympus"'), "bot.timezone: unknown timezone"),
        (("[bot]", '[digest]\nschedule = "every day"\n[bot]'), "digest.schedule: must be"),
        (("[bot]", '[digest]\nschedule = "0 25 * * *"\n[bot]'), "digest.schedule: The hour"),
        (("[bot]", '[digest]\nschedule = "0 0 30 2 *"\n[bot]'), "digest.schedule: “0 0 30 2"),
        (("[bot]", '[digest]\ntimezone = "Mars/Olympus"\n[bot]'), "digest.timezone: unknown"),
        (("-1001234567890]", "12345]"), "bot.channels: 12345 is not @username or the id"),
        (("-1001234567890]", '"12345"]'), "bot.channels: '12345' is not"),
        (("[bot]", "[digest]\ntarget = 0\n[bot]"), "digest.target: 0 is not"),
        (("[telegram]", "[telegram]\npoll_timeout = 99"), "telegram.poll_timeout: must be"),
        (("[telegram]", '[telegram]\npoll_timeout = "30"'), "must be an integer, got a string"),
        (("[bot]", "[privacy]\nhash_voters = true\n[bot]"), "privacy.hash_key"),
        (("[telegram]", '[telegram]\nmode = "webhook"'), "telegram.webhook.url"),
        (("[storage]", "[storage]\n[storage]"), "not valid TOML"),
        # ids are signed 64-bit integers at Telegram and in SQLite: beyond, no chat exists
        (("admins = [11111111, 22222222]", f"admins = [{2**63}]"), "bot.admins: item 1 must"),
        (("-1001234567890]", f"-{2**63}]"), f"bot.channels: -{2**63} is not @username"),
        (('path = "db/pollbot.sqlite3"', 'path = "/dev/null"'), "storage.path: /dev/null is not"),
    ],
)
def test_bad_files_are_refused_with_one_line_naming_the_key(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    old, new = change
    assert old in GOOD
    with pytest.raises(ConfigError) as caught:
        Config.from_toml(write(tmp_path, GOOD.replace(old, new, 1)), env={})
    message = str(caught.value)
    assert expected in message
    assert message.startswith(f"{tmp_path / 'config.toml'}: ")  # the file, then the key
    assert "\n" not in message


def test_missing_section_and_missing_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"\[storage\]: section is missing"):
        text = GOOD.replace('[storage]\npath = "db/pollbot.sqlite3"\n', "")
        Config.from_toml(write(tmp_path, text), env={})
    with pytest.raises(ConfigError, match="no such file"):
        Config.from_toml(tmp_path / "nope.toml", env={})


def test_a_digest_target_is_a_channel_or_group_as_run_requires(tmp_path: Path) -> None:
    # run cannot send the default digest to a private chat: check-config must not say OK
    text = GOOD.replace("[bot]", "[digest]\ntarget = 11111111\n[bot]")
    with pytest.raises(ConfigError, match=r"digest\.target: 11111111 is not @username"):
        Config.from_toml(write(tmp_path, text), env={})
    text = GOOD.replace("[bot]", '[digest]\ntarget = "-1001234567890"\n[bot]')
    assert Config.from_toml(write(tmp_path, text), env={}).digest.target == -1001234567890


def test_a_chat_id_written_as_text_is_the_same_chat_as_the_number(tmp_path: Path) -> None:
    text = GOOD.replace("-1001234567890]", '"-1001234567890"]')
    assert Config.from_toml(write(tmp_path, text), env={}).bot.channels[-1] == -1001234567890


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("@mychannel", True),
        (-1001234567890, True),
        ("-1001234567890", True),
        (12345, False),  # a private chat
        ("12345", False),
        ("mychannel", False),
        ("@abc", False),  # usernames have 5 to 32 characters
        (True, False),
        (-(2**63 - 1), True),  # the lowest 64-bit id
        (-(2**63), False),  # beyond 64 bits
        (str(-(2**64)), False),
    ],
)
def test_one_chat_reference_check(ref: str | int, expected: bool) -> None:
    assert is_chat_ref(ref) is expected


def test_mask_token_hides_the_secret() -> None:
    masked = mask_token("123456:SECRET-token_value")
    assert masked.startswith("123456:") and "SECRET-token" not in masked


def test_check_config_prints_masked_token(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    assert main(["check-config", str(write(tmp_path, GOOD))]) == 0
    out = capsys.readouterr().out
    assert "SECRET-token_value" not in out
    assert "123456:" in out and "@mychannel" in out


def test_check_config_on_the_example_explains_what_is_missing(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    assert main(["check-config", str(ROOT / "config.example.toml")]) == 2
    err = capsys.readouterr().err
    assert "telegram.token" in err and "@BotFather" in err
    assert "Traceback" not in err


def test_example_is_valid_once_a_token_is_given(monkeypatch: pytest.MonkeyPatch) -> None:
    config = Config.from_toml(ROOT / "config.example.toml", env={"POLLBOT_TOKEN": "1:abcdef"})
    assert config.bot.channels == ("@mychannel",)


# ---------------------------------------------------------------- check-config = run's checks

ARTICLE = 'id = "a1"\ntitle = "T"\nlanguage = "en"\nbody = "B."\n'


def check(tmp_path: Path, text: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(["check-config", str(write(tmp_path, text))])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("[bot]", '[digest]\nschedule = "0 25 * * *"\n[bot]'), "digest.schedule: The hour field"),
        (("-1001234567890]", "1234567890]"), "bot.channels: 1234567890 is not"),
    ],
)
def test_check_config_and_run_refuse_what_run_cannot_start_with(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    change: tuple[str, str],
    expected: str,
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    monkeypatch.setattr("bot.app.run", None)  # never reached: run refuses while reading
    code, out, err = check(tmp_path, GOOD.replace(*change), capsys)
    assert code != 0 and "OK" not in out
    (line,) = err.splitlines()
    assert expected in line and str(tmp_path / "config.toml") in line
    assert main(["run", "--config", str(tmp_path / "config.toml")]) == code
    assert capsys.readouterr().err == err


def test_check_config_refuses_a_missing_content_directory(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    code, out, err = check(tmp_path, GOOD + 'content_dir = "articles"\n', capsys)
    assert code == 1 and "OK" not in out
    (line,) = err.splitlines()
    assert f"{tmp_path / 'articles'}: no such directory" in line


def test_check_config_refuses_a_broken_article_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    path = write(tmp_path, GOOD + 'content_dir = "content"\n')
    (tmp_path / "content").mkdir()
    (tmp_path / "content" / "good.toml").write_text(ARTICLE, encoding="utf-8")
    (tmp_path / "content" / "broken.toml").write_text(
        ARTICLE.replace('"a1"', '"a2"').replace('title = "T"\n', ""), encoding="utf-8"
    )
    assert main(["check-config", str(path)]) == 1
    out, err = capsys.readouterr()
    assert "OK" not in out
    (line,) = err.splitlines()
    assert f"{tmp_path / 'content' / 'broken.toml'}: title: missing" in line
    (tmp_path / "content" / "broken.toml").unlink()
    assert main(["check-config", str(path)]) == 0
    assert "articles:   1" in capsys.readouterr().out


def test_previews_are_on_unless_the_config_turns_them_off(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("POLLBOT_TOKEN", raising=False)
    assert Config.from_toml(write(tmp_path, GOOD), env={}).bot.preview is True
    off = write(tmp_path, GOOD.replace("[bot]", "[bot]\npreview = false"))
    assert Config.from_toml(off, env={}).bot.preview is False
    assert main(["check-config", str(off)]) == 0
    assert "preview:    off" in capsys.readouterr().out


def test_polls_remind_before_and_digest_skip_unchanged(tmp_path: Path) -> None:
    config = Config.from_toml(write(tmp_path, GOOD), env={})
    assert config.polls.remind_seconds is None and config.digest.skip_unchanged is True
    text = GOOD + '[polls]\nremind_before = "1h"\n[digest]\nskip_unchanged = false\n'
    config = Config.from_toml(write(tmp_path, text), env={})
    assert config.polls.remind_seconds == 3600 and config.digest.skip_unchanged is False
    with pytest.raises(ConfigError, match=r"polls\.remind_before: must be seconds or a duration"):
        Config.from_toml(write(tmp_path, GOOD + '[polls]\nremind_before = "soon"\n'), env={})
    assert (
        Config.from_toml(
            write(tmp_path, GOOD + "[polls]\nremind_before = 900\n"), env={}
        ).polls.remind_seconds
        == 900
    )


def test_fetch_allow_private_is_off_by_default_and_shown_by_check_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert Config.from_toml(write(tmp_path, GOOD), env={}).fetch.allow_private is False
    example = Config.from_toml(ROOT / "config.example.toml", env={"POLLBOT_TOKEN": "1:abcdef"})
    assert example.fetch.allow_private is False
    code, out, err = check(tmp_path, GOOD + "[fetch]\nallow_private = true\n", capsys)
    assert code == 0 and "fetch:      private addresses allowed" in out
    code, out, err = check(tmp_path, GOOD + "[fetch]\nallow_privat = true\n", capsys)
    assert code != 0 and "fetch.allow_privat" in out + err
