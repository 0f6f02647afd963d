"""The bot's configuration: ``config.toml`` turned into frozen dataclasses.

``Config.from_toml(path)`` refuses a bad file with one ``ConfigError`` line that names the
key and what is wrong. Relative paths are resolved against the file's directory, and
``POLLBOT_TOKEN`` / ``POLLBOT_HASH_KEY`` in the environment override the file.
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.texts import SUPPORTED_LANGUAGES

TOKEN_ENV = "POLLBOT_TOKEN"
HASH_KEY_ENV = "POLLBOT_HASH_KEY"
DEFAULT_API_URL = "https://api.telegram.org/bot"
_TOKEN_RE = re.compile(r"^\d+:[A-Za-z0-9_-]{3,}$")
USERNAME_RE = re.compile(r"^@[A-Za-z][A-Za-z0-9_]{3,31}$")  # a public chat's @username
_PLACEHOLDER_TOKENS = {"123456:ABC"}


class ConfigError(ValueError):
    """A configuration mistake, as one line naming the key."""


@dataclass(frozen=True, slots=True)
class WebhookConfig:
    listen: str = "127.0.0.1"
    port: int = 8443
    url: str = ""
    secret_token: str = ""
    path: str = "/telegram"


@dataclass(frozen=True, slots=True)
class TelegramConfig:
    token: str
    api_url: str = DEFAULT_API_URL
    mode: str = "polling"
    poll_timeout: int = 30
    webhook: WebhookConfig = field(default_factory=WebhookConfig)

    @property
    def masked_token(self) -> str:
        return mask_token(self.token)


@dataclass(frozen=True, slots=True)
class StorageConfig:
    path: Path
    keep_days: int = 30  # the sent ledger, dead letters and the audit log, by age


@dataclass(frozen=True, slots=True)
class BotConfig:
    admins: tuple[int, ...]
    channels: tuple[str | int, ...]
    language: str = "en"
    timezone: str = "UTC"
    content_dir: Path = Path("content")
    admin_cache_seconds: int = 300
    results_per_minute: int = 6

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DigestConfig:
    schedule: str = ""
    timezone: str = ""
    target: str | int | None = None
    charts: bool = True
    grace_minutes: int = 120


@dataclass(frozen=True, slots=True)
class PrivacyConfig:
    hash_voters: bool = False
    hash_key: str = ""


@dataclass(frozen=True, slots=True)
class Config:
    telegram: TelegramConfig
    storage: StorageConfig
    bot: BotConfig
    digest: DigestConfig = field(default_factory=DigestConfig)
    privacy: PrivacyConfig = field(default_factory=PrivacyConfig)
    source: Path | None = None

    @classmethod
    def from_toml(cls, path: str | Path, env: Mapping[str, str] | None = None) -> Config:
        """Read and validate a config file; raise ConfigError naming the bad key."""
        path = Path(path)
        try:
            raw = tomllib.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigError(f"{path}: no such file") from None
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{path}: cannot read: {exc}") from None
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: not valid TOML: {exc}") from None
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
        env = os.environ if env is None else env
        _reject_unknown(raw, "", {"telegram", "storage", "bot", "digest", "privacy"})
        config = cls(
            telegram=_telegram(_section(raw, "telegram"), env),
            storage=_storage(_section(raw, "storage"), base_dir),
            bot=_bot(_section(raw, "bot"), base_dir),
            digest=_digest(_section(raw, "digest", required=False)),
            privacy=_privacy(_section(raw, "privacy", required=False), env),
            source=source,
        )
        return config

    def with_overrides(self, **changes: Any) -> Config:
        return replace(self, **changes)


def mask_token(token: str) -> str:
    """Show enough of a token to recognise it, never enough to use it."""
    if ":" not in token:
        return "***"
    bot_id, secret = token.split(":", 1)
    return f"{bot_id}:{secret[:2]}***{secret[-2:]}" if len(secret) > 8 else f"{bot_id}:***"


T = TypeVar("T")


def _section(raw: Mapping[str, Any], name: str, *, required: bool = True) -> Mapping[str, Any]:
    value = raw.get(name)
    if value is None:
        if required:
            raise ConfigError(f"[{name}]: section is missing")
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{name}: must be a table ([{name}])")
    return value


def _reject_unknown(raw: Mapping[str, Any], prefix: str, known: set[str]) -> None:
    for key in raw:
        if key not in known:
            where = f"{prefix}.{key}" if prefix else key
            raise ConfigError(f"{where}: unknown key (known: {', '.join(sorted(known))})")


def _get(
    raw: Mapping[str, Any],
    key: str,
    where: str,
    kind: type[T] | tuple[type, ...],
    default: Any = ...,
    describe: str = "",
) -> Any:
    if key not in raw:
        if default is ...:
            raise ConfigError(f"{where}.{key}: missing")
        return default
    value = raw[key]
    bad_bool = isinstance(value, bool) and kind is not bool and bool not in _as_tuple(kind)
    if not isinstance(value, kind) or bad_bool:
        what = describe or _type_name(kind)
        raise ConfigError(f"{where}.{key}: must be {what}, got {value!r}")
    return value


def _as_tuple(kind: type | tuple[type, ...]) -> tuple[type, ...]:
    return kind if isinstance(kind, tuple) else (kind,)


def _type_name(kind: type | tuple[type, ...]) -> str:
    names = {str: "a string", int: "an integer", bool: "true or false", list: "a list"}
    return " or ".join(names.get(k, k.__name__) for k in _as_tuple(kind))


def _check(ok: bool, where: str, message: str) -> None:
    if not ok:
        raise ConfigError(f"{where}: {message}")


def _telegram(raw: Mapping[str, Any], env: Mapping[str, str]) -> TelegramConfig:
    w = "telegram"
    _reject_unknown(raw, w, {"token", "api_url", "mode", "poll_timeout", "webhook"})
    token = env.get(TOKEN_ENV) or _get(raw, "token", w, str, "")
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
    api_url = _get(raw, "api_url", w, str, DEFAULT_API_URL)
    _check(api_url.startswith(("http://", "https://")), f"{w}.api_url", "must be an http(s) URL")
    mode = _get(raw, "mode", w, str, "polling")
    _check(mode in ("polling", "webhook"), f"{w}.mode", 'must be "polling" or "webhook"')
    timeout = _get(raw, "poll_timeout", w, int, 30)
    _check(0 <= timeout <= 50, f"{w}.poll_timeout", "must be 0-50 seconds")
    webhook = _webhook(_section(raw, "webhook", required=False))
    if mode == "webhook":
        _check(
            webhook.url.startswith("https://") or webhook.url.startswith("http://"),
            f"{w}.webhook.url",
            "must be the public URL when mode is webhook",
        )
        _check(
            len(webhook.secret_token) >= 16,
            f"{w}.webhook.secret_token",
            "must be 16-256 characters of A-Z a-z 0-9 _ - when mode is webhook",
        )
    return TelegramConfig(token, api_url.rstrip("/"), mode, timeout, webhook)


def _webhook(raw: Mapping[str, Any]) -> WebhookConfig:
    w = "telegram.webhook"
    _reject_unknown(raw, w, {"listen", "port", "url", "secret_token", "path"})
    port = _get(raw, "port", w, int, 8443)
    _check(0 < port < 65536, f"{w}.port", "must be 1-65535")
    secret = _get(raw, "secret_token", w, str, "")
    _check(
        re.fullmatch(r"[A-Za-z0-9_-]{0,256}", secret) is not None,
        f"{w}.secret_token",
        "may only hold A-Z a-z 0-9 _ - (at most 256)",
    )
    path = _get(raw, "path", w, str, "/telegram")
    _check(path.startswith("/"), f"{w}.path", 'must start with "/"')
    return WebhookConfig(
        _get(raw, "listen", w, str, "127.0.0.1"), port, _get(raw, "url", w, str, ""), secret, path
    )


def _storage(raw: Mapping[str, Any], base_dir: Path) -> StorageConfig:
    _reject_unknown(raw, "storage", {"path", "keep_days"})
    path = _resolve(_get(raw, "path", "storage", str), base_dir)
    _check(path.name != "", "storage.path", "must name a file")
    _check(not path.is_dir(), "storage.path", f"{path} is a directory, not a database file")
    _check(path.parent.is_dir(), "storage.path", f"directory {path.parent} does not exist")
    keep_days = _get(raw, "keep_days", "storage", int, 30)
    # Telegram may deliver an update again for 24 hours: the ledger must outlive that.
    _check(keep_days >= 1, "storage.keep_days", f"must be at least 1 (a day), got {keep_days}")
    return StorageConfig(path, keep_days)


def _bot(raw: Mapping[str, Any], base_dir: Path) -> BotConfig:
    w = "bot"
    _reject_unknown(raw, w, {f.name for f in fields(BotConfig)})
    admins = _get(raw, "admins", w, list, describe="a list of Telegram user ids")
    _check(
        all(isinstance(a, int) and not isinstance(a, bool) and a > 0 for a in admins),
        f"{w}.admins",
        f"must be a list of positive integer user ids, got {admins!r}",
    )
    channels = _get(raw, "channels", w, list, [], describe='a list like ["@mychannel"]')
    for channel in channels:
        _check(
            _is_chat_ref(channel),
            f"{w}.channels",
            f"{channel!r} is not @username or a numeric chat id",
        )
    language = _get(raw, "language", w, str, "en")
    _check(
        language in SUPPORTED_LANGUAGES,
        f"{w}.language",
        f"must be one of {', '.join(SUPPORTED_LANGUAGES)}",
    )
    timezone = _valid_timezone(_get(raw, "timezone", w, str, "UTC"), f"{w}.timezone")
    content_dir = _resolve(_get(raw, "content_dir", w, str, "content"), base_dir)
    cache = _get(raw, "admin_cache_seconds", w, int, 300)
    _check(cache >= 0, f"{w}.admin_cache_seconds", "must be >= 0")
    per_minute = _get(raw, "results_per_minute", w, int, 6)
    _check(per_minute > 0, f"{w}.results_per_minute", "must be > 0")
    return BotConfig(
        tuple(admins), tuple(channels), language, timezone, content_dir, cache, per_minute
    )


def _digest(raw: Mapping[str, Any]) -> DigestConfig:
    w = "digest"
    _reject_unknown(raw, w, {f.name for f in fields(DigestConfig)})
    schedule = _get(raw, "schedule", w, str, "")
    if schedule:
        _check(
            len(schedule.split()) == 5,
            f"{w}.schedule",
            f'must be a 5-field cron expression like "0 20 * * *", got {schedule!r}',
        )
    timezone = _get(raw, "timezone", w, str, "")
    if timezone:
        _valid_timezone(timezone, f"{w}.timezone")
    target = _get(raw, "target", w, (str, int), None)
    if target is not None:
        _check(_is_chat_ref(target), f"{w}.target", f"{target!r} is not @username or a chat id")
    grace = _get(raw, "grace_minutes", w, int, 120)
    _check(grace >= 0, f"{w}.grace_minutes", "must be >= 0")
    return DigestConfig(schedule, timezone, target, _get(raw, "charts", w, bool, True), grace)


def _privacy(raw: Mapping[str, Any], env: Mapping[str, str]) -> PrivacyConfig:
    w = "privacy"
    _reject_unknown(raw, w, {"hash_voters", "hash_key"})
    hash_voters = _get(raw, "hash_voters", w, bool, False)
    key = env.get(HASH_KEY_ENV) or _get(raw, "hash_key", w, str, "")
    if hash_voters:
        _check(
            len(key) >= 16,
            f"{w}.hash_key",
            f"must be at least 16 characters when hash_voters is on (or set {HASH_KEY_ENV})",
        )
    return PrivacyConfig(hash_voters, key)


def _is_chat_ref(value: Any) -> bool:
    if isinstance(value, bool):
        return False
    if isinstance(value, int):
        return value != 0
    return isinstance(value, str) and bool(USERNAME_RE.match(value))


def _valid_timezone(name: str, where: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"{where}: unknown timezone {name!r} (e.g. Europe/Moscow)") from None
    return name


def _resolve(value: str, base_dir: Path) -> Path:
    path = Path(value).expanduser()
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
        "digest:     "
        + (
            f"{d.schedule} ({d.timezone or b.timezone}) -> {d.target or 'admins'}"
            if d.schedule
            else "(no default schedule)"
        ),
        f"charts:     {'on' if d.charts else 'off'}",
        "privacy:    "
        + ("voters stored as keyed hashes" if config.privacy.hash_voters else "voter ids stored"),
    ]
    return lines
