"""The bot's configuration: ``config.toml`` turned into frozen msgspec Structs.

``Config.from_toml(path)`` refuses a bad file with one ``ConfigError`` line that names the
file, the key and what is wrong: msgspec checks the shape (types, ranges, unknown keys),
``_checked`` the rules between keys, the cron fields and time zones ``pollbot run`` needs.
Relative paths are resolved against the file's directory, and
``POLLBOT_TOKEN`` / ``POLLBOT_HASH_KEY`` in the environment override the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from bot.texts import SUPPORTED_LANGUAGES
from bot.validation import Invalid, shaped

TOKEN_ENV = "POLLBOT_TOKEN"
HASH_KEY_ENV = "POLLBOT_HASH_KEY"
DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{3,}$")
USERNAME_RE = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")  # a public chat's @username
_CHAT_ID_RE = re.compile(r"^-[0-9]{4,19}$")  # a channel or group id (private ones are positive)
SMALLEST_CHAT_ID = -1000  # the ids of groups and channels are this or below
# Telegram's ids are signed 64-bit integers (SQLite's INTEGER too): beyond, no chat exists.
MAX_ID = 2**63 - 1
_PLACEHOLDER_TOKENS = {"123456:ABC"}
# The articles pollbot ships with (package data): [bot] content_dir when it is left out.
SHIPPED_CONTENT_DIR = Path(__file__).parent / "articles" / "seed"


class ConfigError(Invalid):
    """A configuration mistake, as one line naming the file and the key."""


class _Section(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """A table of the config file: unknown keys are mistakes."""


class WebhookConfig(_Section, frozen=True):
    listen: str = "127.0.0.1"
    port: Annotated[int, msgspec.Meta(ge=1, le=65535)] = 8443
    url: str = ""
    secret_token: str = ""
    path: str = "/telegram"


class TelegramConfig(_Section, frozen=True):
    token: str = ""
    api_url: str = DEFAULT_API_URL
    mode: str = "polling"
    poll_timeout: Annotated[int, msgspec.Meta(ge=0, le=50)] = 30
    webhook: WebhookConfig = msgspec.field(default_factory=WebhookConfig)

    @property
    def masked_token(self) -> str:
        return mask_token(self.token)


class StorageConfig(_Section, frozen=True):
    path: Path
    # the sent ledger, dead letters and the audit log, by age (at most a century)
    keep_days: Annotated[int, msgspec.Meta(le=36_500)] = 30


class BotConfig(_Section, frozen=True):
    admins: tuple[Annotated[int, msgspec.Meta(gt=0, le=MAX_ID)], ...]
    channels: tuple[int | str, ...] = ()
    language: str = "en"
    timezone: str = "UTC"
    content_dir: Path = SHIPPED_CONTENT_DIR
    admin_cache_seconds: Annotated[int, msgspec.Meta(ge=0)] = 300
    results_per_minute: Annotated[int, msgspec.Meta(gt=0)] = 6
    preview: bool = True  # /post, /poll, /newpoll first show a preview with Publish / Cancel

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


class DigestConfig(_Section, frozen=True):
    schedule: str = ""
    timezone: str = ""
    target: int | str | None = None
    charts: bool = True
    grace_minutes: Annotated[int, msgspec.Meta(ge=0, le=525_600)] = 120  # at most a year
    skip_unchanged: bool = True  # no scheduled digest to a chat where nothing changed


class PollsConfig(_Section, frozen=True):
    # Remind each chat this long before a poll closes: seconds or a duration like "1h"
    # ("" or 0: no reminder unless the poll asks for one, e.g. /newpoll ... remind=1h).
    remind_before: int | str = ""

    @property
    def remind_seconds(self) -> int | None:
        """``remind_before`` in seconds; None when off."""
        if isinstance(self.remind_before, int):
            return self.remind_before or None
        from bot.polls.spec import parse_duration  # bot.polls imports this module

        return parse_duration(self.remind_before) or None if self.remind_before else None


class PrivacyConfig(_Section, frozen=True):
    hash_voters: bool = False
    hash_key: str = ""


class FetchConfig(_Section, frozen=True):
    # Links sent to /newarticle: allow loopback, private, link-local and reserved addresses
    # (refused by default: no server-side request forgery). Tests use a local server.
    allow_private: bool = False


class Config(_Section, frozen=True):
    telegram: TelegramConfig
    storage: StorageConfig
    bot: BotConfig
    digest: DigestConfig = msgspec.field(default_factory=DigestConfig)
    polls: PollsConfig = msgspec.field(default_factory=PollsConfig)
    privacy: PrivacyConfig = msgspec.field(default_factory=PrivacyConfig)
    fetch: FetchConfig = msgspec.field(default_factory=FetchConfig)

    @classmethod
    def from_toml(cls, path: str | Path, env: Mapping[str, str] | None = None) -> Config:
        """Read and validate a config file; raise ConfigError naming the file and the key."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError("no such file", path=str(path)) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read: {exc}", path=str(path)) from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"not valid TOML: {exc}", path=str(path)) from None
        return cls.from_mapping(raw, base_dir=path.resolve().parent, env=env, source=path)

    @classmethod
    def from_mapping(
        cls,
        raw: Mapping[str, Any],
        *,
        base_dir: Path,
        env: Mapping[str, str] | None = None,
        source: Path | None = None,
    ) -> Config:
        """Check the shape with msgspec, then the rules between keys (``_checked``)."""
        env = os.environ if env is None else env
        where = str(source) if source is not None else ""
        config = shaped(raw, cls, path=where, error=ConfigError, dec_hook=_path_hook)
        try:
            return _checked(config, base_dir, env)
        except ConfigError as error:
            raise ConfigError(error.message, path=where, field=error.field) from None


def mask_token(token: str) -> str:
    """Show enough of a token to recognise it, never enough to use it."""
    if ":" not in token:
        return "***"
    bot_id, secret = token.split(":", 1)
    return f"{bot_id}:{secret[:2]}***{secret[-2:]}" if len(secret) > 8 else f"{bot_id}:***"


def is_chat_ref(value: str | int) -> bool:
    """``@username`` or the id (an int, or its text) of a channel or group: from -1000
    down, within 64 bits (a private chat's id is positive; "-5" is no chat)."""
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return -MAX_ID <= value <= SMALLEST_CHAT_ID
    if _CHAT_ID_RE.match(value):
        return -MAX_ID <= int(value) <= SMALLEST_CHAT_ID
    return bool(USERNAME_RE.match(value))


def _path_hook(kind: type, value: Any) -> Any:
    if kind is Path and isinstance(value, str):
        return Path(value)
    raise ValueError(f"Expected `{kind.__name__}`, got `{type(value).__name__}`")


def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ConfigError(message, field=where)


def _checked(config: Config, base_dir: Path, env: Mapping[str, str]) -> Config:
    """The rules msgspec cannot express, with paths resolved against ``base_dir``."""
    return msgspec.structs.replace(
        config,
        telegram=_telegram(config.telegram, env),
        storage=_storage(config.storage, base_dir),
        bot=_bot(config.bot, base_dir),
        digest=_digest(config.digest, config.bot.timezone),
        polls=_polls(config.polls),
        privacy=_privacy(config.privacy, env),
    )


def _telegram(section: TelegramConfig, env: Mapping[str, str]) -> TelegramConfig:
    w = "telegram"
    token = env.get(TOKEN_ENV) or section.token
    _check(bool(token), f"{w}.token", f"missing (set it in the file or in {TOKEN_ENV})")
    _check(
        bool(_TOKEN_RE.match(token)),
        f"{w}.token",
        "does not look like a bot token (digits:letters, from @BotFather)",
    )
    _check(
        token not in _PLACEHOLDER_TOKENS,
        f"{w}.token",
        f"is the example placeholder: put your bot's token from @BotFather here or in {TOKEN_ENV}",
    )
    _check(
        section.api_url.startswith(("http://", "https://")),
        f"{w}.api_url",
        "must be an http(s) URL",
    )
    _check(section.mode in ("polling", "webhook"), f"{w}.mode", 'must be "polling" or "webhook"')
    webhook = section.webhook
    _check(
        re.fullmatch(r"[A-Za-z0-9_-]{0,256}", webhook.secret_token) is not None,
        f"{w}.webhook.secret_token",
        "may only hold A-Z a-z 0-9 _ - (at most 256)",
    )
    _check(webhook.path.startswith("/"), f"{w}.webhook.path", 'must start with "/"')
    if section.mode == "webhook":
        _check(
            webhook.url.startswith(("https://", "http://")),
            f"{w}.webhook.url",
            "must be the public URL when mode is webhook",
        )
        _check(
            len(webhook.secret_token) >= 16,
            f"{w}.webhook.secret_token",
            "must be 16-256 characters of A-Z a-z 0-9 _ - when mode is webhook",
        )
    return msgspec.structs.replace(section, token=token, api_url=section.api_url.rstrip("/"))


def _storage(section: StorageConfig, base_dir: Path) -> StorageConfig:
    path = _resolve(section.path, base_dir)
    _check(path.name != "", "storage.path", "must name a file")
    _check(not path.is_dir(), "storage.path", f"{path} is a directory, not a database file")
    _check(path.parent.is_dir(), "storage.path", f"directory {path.parent} does not exist")
    _check(
        not path.exists() or path.is_file(),
        "storage.path",
        f"{path} is not a regular file: name a database file",
    )
    _check(
        os.access(path if path.exists() else path.parent, os.W_OK),
        "storage.path",
        f"{path if path.exists() else path.parent} is not writable by this user",
    )
    # Telegram may deliver an update again for 24 hours: the ledger must outlive that.
    days = section.keep_days
    _check(days >= 1, "storage.keep_days", f"must be at least 1 (a day), got {days}")
    return msgspec.structs.replace(section, path=path)


def _bot(section: BotConfig, base_dir: Path) -> BotConfig:
    w = "bot"
    for channel in section.channels:
        _check(
            is_chat_ref(channel),
            f"{w}.channels",
            f"{channel!r} is not @username or the id of a channel or group "
            "(a negative number; a positive id is a private chat)",
        )
    _check(
        section.language in SUPPORTED_LANGUAGES,
        f"{w}.language",
        f"must be one of {', '.join(SUPPORTED_LANGUAGES)}",
    )
    _valid_timezone(section.timezone, f"{w}.timezone")
    return msgspec.structs.replace(
        section,
        channels=tuple(_chat_ref(c) for c in section.channels),
        content_dir=_resolve(section.content_dir, base_dir),
    )


def _digest(section: DigestConfig, default_zone: str) -> DigestConfig:
    w = "digest"
    if section.timezone:
        _valid_timezone(section.timezone, f"{w}.timezone")
    if section.schedule:
        _valid_schedule(section.schedule, section.timezone or default_zone)
    target = section.target
    if target is None:
        return section
    # run refuses a private chat as a digest's target too (admins get the default digest
    # privately when no target is set)
    _check(
        is_chat_ref(target),
        f"{w}.target",
        f"{target!r} is not @username or the id of a channel or group "
        "(leave target out for a digest to every admin privately)",
    )
    return msgspec.structs.replace(section, target=_chat_ref(target))


def _polls(section: PollsConfig) -> PollsConfig:
    value = section.remind_before
    if isinstance(value, int):
        _check(value >= 0, "polls.remind_before", f"must be 0 (off) or more seconds, got {value}")
        return section
    from bot.polls.spec import parse_duration  # bot.polls imports this module

    _check(
        not value or bool(parse_duration(value)),
        "polls.remind_before",
        f'must be seconds or a duration like "1h", "30m", "1d", got {value!r}',
    )
    return section


def _chat_ref(value: int | str) -> int | str:
    """A chat reference as the bot compares it: an id written as text becomes the number."""
    return int(value) if isinstance(value, str) and _CHAT_ID_RE.match(value) else value


def _valid_schedule(cron: str, zone: str) -> None:
    """The check /schedule and the start of ``pollbot run`` make (cron fields, a due time)."""
    from bot.digests.schedules import ScheduleError, check  # digests import this module

    _check(
        len(cron.split()) == 5,
        "digest.schedule",
        f'must be a 5-field cron expression like "0 20 * * *", got {cron!r}',
    )
    try:
        check(cron, zone, datetime.now(UTC))
    except ScheduleError as exc:
        raise ConfigError(exc.render("en"), field="digest.schedule") from None


def _privacy(section: PrivacyConfig, env: Mapping[str, str]) -> PrivacyConfig:
    key = env.get(HASH_KEY_ENV) or section.hash_key
    if section.hash_voters:
        _check(
            len(key) >= 16,
            "privacy.hash_key",
            f"must be at least 16 characters when hash_voters is on (or set {HASH_KEY_ENV})",
        )
    return msgspec.structs.replace(section, hash_key=key)


def _valid_timezone(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        raise ConfigError(f"unknown timezone {name!r} (e.g. Europe/Moscow)", field=where) from None
    return name


def _resolve(value: Path, base_dir: Path) -> Path:
    path = value.expanduser()
    return path if path.is_absolute() else (base_dir / path)


def describe(config: Config) -> list[str]:
    """What the bot would use, line by line, with the token masked (for check-config)."""
    t, b, d = config.telegram, config.bot, config.digest
    lines = [
        f"token:      {t.masked_token}",
        f"api_url:    {t.api_url}",
        f"mode:       {t.mode}" + (f" ({t.webhook.url})" if t.mode == "webhook" else ""),
        f"database:   {config.storage.path}",
        f"admins:     {', '.join(map(str, b.admins)) or '(none: nobody can command the bot)'}",
        f"channels:   {', '.join(map(str, b.channels)) or '(none)'}",
        f"language:   {b.language}",
        f"timezone:   {b.timezone}",
        f"content:    {b.content_dir}",
        "preview:    "
        + ("on (Publish / Cancel before posting)" if b.preview else "off (posted at once)"),
        "digest:     "
        + (
            f"{d.schedule} ({d.timezone or b.timezone}) -> {d.target or 'admins'}"
            if d.schedule
            else "(no default schedule)"
        ),
        f"charts:     {'on' if d.charts else 'off'}"
        + ("" if d.skip_unchanged else " (unchanged digests sent too)"),
        "reminders:  "
        + (
            f"{config.polls.remind_seconds} s before a poll closes"
            if config.polls.remind_seconds
            else "(only for polls that ask: remind=1h)"
        ),
        "privacy:    "
        + ("voters stored as keyed hashes" if config.privacy.hash_voters else "voter ids stored"),
        "fetch:      "
        + (
            "private addresses allowed"
            if config.fetch.allow_private
            else "public addresses only (private ones refused)"
        ),
    ]
    return lines
