"""Telegram's HTML parse mode: plain text + MessageEntity list (UTF-16 offsets), strictly.

Only the tags and entities Telegram documents are accepted; anything else is the
"can't parse entities" error a real bot would get, so escaping bugs surface in tests.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from bot.sandbox.errors import ApiError, bad_request

_SIMPLE_TAGS = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}
_SPECIAL_TAGS = frozenset({"span", "a", "blockquote", "tg-emoji"})
_NAMED = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}
_ENTITY = re.compile(r"&(#[0-9]{1,8}|#[xX][0-9a-fA-F]{1,7}|[a-zA-Z]{1,10});")
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_END_TAG = re.compile(r"</([a-zA-Z][a-zA-Z0-9-]*)\s*>")
_ATTR_NAME = re.compile(r"[a-zA-Z_:][a-zA-Z0-9_:.-]*")
_UNQUOTED = re.compile(r"[^\s\"'=<>`]+")
_COMMAND = re.compile(r"/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,64})?(?![A-Za-z0-9_@])")
_TRIM = " \t\r\n"
ENTITY_TYPES = frozenset(
    {
        "mention",
        "hashtag",
        "cashtag",
        "bot_command",
        "url",
        "email",
        "phone_number",
        "bold",
        "italic",
        "underline",
        "strikethrough",
        "spoiler",
        "blockquote",
        "expandable_blockquote",
        "code",
        "pre",
        "text_link",
        "text_mention",
        "custom_emoji",
        "date_time",
    }
)


def utf16_len(text: str) -> int:
    """Length of `text` in UTF-16 code units, the unit of MessageEntity offsets."""
    return len(text) + sum(1 for ch in text if ord(ch) > 0xFFFF)


def entity_error(detail: str) -> ApiError:
    """The 400 answer for malformed markup."""
    return bad_request(f"can't parse entities: {detail}")


@dataclass(slots=True)
class _Open:
    name: str
    start: int
    entity: dict[str, Any] | None


@dataclass(slots=True)
class _Parser:
    source: str
    pos: int = 0
    pieces: list[str] = field(default_factory=list)
    length16: int = 0
    stack: list[_Open] = field(default_factory=list)
    entities: list[dict[str, Any]] = field(default_factory=list)

    def byte_offset(self, index: int) -> int:
        """Where Telegram's error messages point (computed only for an error)."""
        return len(self.source[:index].encode("utf-8"))

    def emit(self, text: str) -> None:
        self.pieces.append(text)
        self.length16 += utf16_len(text)

    def run(self) -> tuple[str, list[dict[str, Any]]]:
        src = self.source
        while self.pos < len(src):
            nxt = min(
                (i for i in (src.find("<", self.pos), src.find("&", self.pos)) if i >= 0),
                default=len(src),
            )
            if nxt > self.pos:
                self.emit(src[self.pos : nxt])
                self.pos = nxt
            if self.pos >= len(src):
                break
            if src[self.pos] == "&":
                self.emit(self.entity())
            elif src.startswith("</", self.pos):
                self.end_tag()
            else:
                self.start_tag()
        if self.stack:
            raise entity_error(
                f'Can\'t find end tag corresponding to start tag "{self.stack[-1].name}"'
            )
        return "".join(self.pieces), self.entities

    def entity(self) -> str:
        match = _ENTITY.match(self.source, self.pos)
        char = _decode_entity(match.group(1)) if match else None
        if match is None or char is None:
            raise entity_error(
                f'Unsupported HTML entity or raw "&" at byte offset {self.byte_offset(self.pos)};'
                ' escape it as "&amp;"'
            )
        self.pos = match.end()
        return char

    def end_tag(self) -> None:
        at = self.pos
        match = _END_TAG.match(self.source, self.pos)
        if match is None or not self.stack:
            raise entity_error(f"Unexpected end tag at byte offset {self.byte_offset(at)}")
        name = match.group(1).lower()
        top = self.stack.pop()
        if name != top.name:
            raise entity_error(
                f"Unmatched end tag at byte offset {self.byte_offset(at)}, "
                f'expected "</{top.name}>", '
                f'found "</{name}>"'
            )
        self.pos = match.end()
        if top.entity is not None and self.length16 > top.start:
            top.entity["offset"] = top.start
            top.entity["length"] = self.length16 - top.start
            self.entities.append(top.entity)

    def start_tag(self) -> None:
        at = self.pos
        match = _TAG_NAME.match(self.source, self.pos + 1)
        name = match.group(0).lower() if match else ""
        if name not in _SIMPLE_TAGS and name not in _SPECIAL_TAGS:
            offset = self.byte_offset(at)
            raise entity_error(f'Unsupported start tag "{name}" at byte offset {offset}')
        assert match is not None
        self.pos = match.end()
        attrs = self.attributes(at)
        entity = self.tag_entity(name, attrs, at)
        parent = self.stack[-1] if self.stack else None
        if name == "code" and parent is not None and parent.name == "pre":
            # <pre><code class="language-x"> is one pre entity with a language
            language = attrs.get("class", "")
            if language.startswith("language-") and parent.entity is not None:
                parent.entity["language"] = language[len("language-") :]
            entity = None
        self.stack.append(_Open(name, self.length16, entity))

    def attributes(self, tag_at: int) -> dict[str, str]:
        src, attrs = self.source, dict[str, str]()
        while True:
            while self.pos < len(src) and src[self.pos] in _TRIM:
                self.pos += 1
            if self.pos >= len(src):
                raise entity_error(f"Unclosed start tag at byte offset {self.byte_offset(tag_at)}")
            if src[self.pos] == ">":
                self.pos += 1
                return attrs
            match = _ATTR_NAME.match(src, self.pos)
            if match is None:
                offset = self.byte_offset(tag_at)
                raise entity_error(f"Invalid attribute name in tag at byte offset {offset}")
            self.pos = match.end()
            attrs[match.group(0).lower()] = self.attribute_value(tag_at)

    def attribute_value(self, tag_at: int) -> str:
        src = self.source
        if not src.startswith("=", self.pos):
            return ""
        self.pos += 1
        if self.pos < len(src) and src[self.pos] in "\"'":
            end = src.find(src[self.pos], self.pos + 1)
            if end < 0:
                offset = self.byte_offset(tag_at)
                raise entity_error(f"Unclosed attribute value at byte offset {offset}")
            raw, self.pos = src[self.pos + 1 : end], end + 1
        else:
            match = _UNQUOTED.match(src, self.pos)
            if match is None:
                offset = self.byte_offset(tag_at)
                raise entity_error(f"Empty attribute value at byte offset {offset}")
            raw, self.pos = match.group(0), match.end()
        return decode_entities(raw)

    def tag_entity(self, name: str, attrs: dict[str, str], at: int) -> dict[str, Any] | None:
        if name in _SIMPLE_TAGS:
            return {"type": _SIMPLE_TAGS[name]}
        if name == "span":
            if attrs.get("class") != "tg-spoiler":
                offset = self.byte_offset(at)
                raise entity_error(
                    f'Tag "span" must have class "tg-spoiler" at byte offset {offset}'
                )
            return {"type": "spoiler"}
        if name == "a":
            href = attrs.get("href", "")
            return {"type": "text_link", "url": href} if href else None
        if name == "blockquote":
            return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
        emoji_id = attrs.get("emoji-id", "")
        if not emoji_id:
            offset = self.byte_offset(at)
            raise entity_error(
                f'Tag "tg-emoji" must have attribute "emoji-id" at byte offset {offset}'
            )
        return {"type": "custom_emoji", "custom_emoji_id": emoji_id}


def _decode_entity(body: str) -> str | None:
    if body[0] != "#":
        return _NAMED.get(body)
    code = int(body[2:], 16) if body[1] in "xX" else int(body[1:])
    if code == 0 or code > 0x10FFFF or 0xD800 <= code <= 0xDFFF:
        return None
    return chr(code)


def decode_entities(raw: str) -> str:
    """Replace the HTML entities Telegram knows inside an attribute value."""

    def repl(match: re.Match[str]) -> str:
        char = _decode_entity(match.group(1))
        return match.group(0) if char is None else char

    return _ENTITY.sub(repl, raw)


def _trim(text: str, entities: list[dict[str, Any]]) -> tuple[str, list[dict[str, Any]]]:
    """Strip leading/trailing whitespace as Telegram does, moving and clipping entities."""
    stripped = text.strip(_TRIM)
    if stripped == text:
        return text, entities
    lead = len(text) - len(text.lstrip(_TRIM))
    total = utf16_len(stripped)
    kept = []
    for entity in entities:
        start = max(entity["offset"] - lead, 0)
        end = min(entity["offset"] + entity["length"] - lead, total)
        if end > start:
            kept.append({**entity, "offset": start, "length": end - start})
    return stripped, kept


def _sorted(entities: list[dict[str, Any]]) -> list[dict[str, Any]]:
    ordered = [
        {
            "type": e["type"],
            "offset": e["offset"],
            "length": e["length"],
            **{k: v for k, v in e.items() if k not in ("type", "offset", "length")},
        }
        for e in entities
    ]
    ordered.sort(key=lambda e: (e["offset"], -e["length"]))
    return ordered


def parse_html(source: str) -> tuple[str, list[dict[str, Any]]]:
    """Parse HTML-formatted text into (plain text, entities), raising the 400 on bad markup."""
    text, entities = _Parser(source).run()
    text, entities = _trim(text, entities)
    return text, _sorted(entities)


def format_text(
    source: str, parse_mode: str | None, entities: list[Any] | None
) -> tuple[str, list[dict[str, Any]]]:
    """Text and entities of a message as Telegram stores them, for any accepted input form."""
    mode = (parse_mode or "").strip().lower()
    if mode == "html":
        return parse_html(source)
    if mode in ("markdown", "markdownv2"):
        raise bad_request("the sandbox emulates parse_mode HTML only, not Markdown")
    if mode:
        raise bad_request(f"unsupported parse_mode {parse_mode!r}")
    return _trim(source, check_entities(source, entities or []))


def check_entities(text: str, entities: list[Any]) -> list[dict[str, Any]]:
    """Validate explicitly passed MessageEntity objects against `text`."""
    total = utf16_len(text)
    checked = []
    for entity in entities:
        if not isinstance(entity, dict) or entity.get("type") not in ENTITY_TYPES:
            raise entity_error("unsupported entity type")
        offset, length = entity.get("offset"), entity.get("length")
        if not isinstance(offset, int) or not isinstance(length, int):
            raise entity_error("entity offset and length must be integers")
        if offset < 0 or length <= 0 or offset + length > total:
            raise entity_error(f"entity beginning at UTF-16 offset {offset} is out of the text")
        checked.append(dict(entity))
    return _sorted(checked)


def command_entities(text: str) -> list[dict[str, Any]]:
    """The bot_command entity Telegram puts on a message that starts with /command."""
    match = _COMMAND.match(text)
    if match is None:
        return []
    return [{"type": "bot_command", "offset": 0, "length": utf16_len(match.group(0))}]
