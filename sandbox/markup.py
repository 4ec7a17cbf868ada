"""Formatting options (parse_mode): turn marked-up text into the text a user sees.

Telegram rejects malformed markup with "Bad Request: can't parse entities: ...". Unescaped user
input inside an HTML or MarkdownV2 message is a classic bot bug, so the sandbox checks it too.
Only the parts that change what is accepted are modelled; entities are not computed.
"""

from __future__ import annotations

import html
import re

_HTML_TAGS = {
    "b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "span", "tg-spoiler", "a",
    "tg-emoji", "code", "pre", "blockquote", "tg-time",
}  # fmt: skip
_TAG_NAME = re.compile(r"[a-zA-Z][a-zA-Z0-9-]*")
_HTML_ENTITY = re.compile(r"&(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot);")
_MD2_RESERVED = set("_*[]()~`>#+-=|{}.!")
_MD2_TOGGLES = ("||", "__", "*", "_", "~")


class MarkupError(ValueError):
    """The text cannot be parsed in its parse_mode."""


def visible_text(text: str, parse_mode: str | None) -> str:
    """The text after entity parsing; raise MarkupError where Telegram would refuse it."""
    mode = (parse_mode or "").lower()
    if mode == "":
        return text
    if mode == "html":
        return _parse_html(text)
    if mode == "markdownv2":
        return _parse_markdown_v2(text)
    if mode == "markdown":
        return re.sub(r"\\([_*`\[])|[_*`]", lambda m: m.group(1) or "", text)
    raise MarkupError(f"unsupported parse_mode {parse_mode!r}")


def _offset(text: str, index: int) -> int:
    return len(text[:index].encode("utf-8"))


def _parse_html(text: str) -> str:
    out: list[str] = []
    stack: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "&":
            match = _HTML_ENTITY.match(text, index)
            out.append(html.unescape(match.group(0)) if match else "&")
            index = match.end() if match else index + 1
            continue
        if char != "<":
            out.append(char)
            index += 1
            continue
        end = text.find(">", index)
        if end == -1:
            raise MarkupError(f"can't find end of the tag at byte offset {_offset(text, index)}")
        inner = text[index + 1 : end]
        closing = inner.startswith("/")
        name_match = _TAG_NAME.match(inner[1:] if closing else inner)
        name = name_match.group(0).lower() if name_match else ""
        if name not in _HTML_TAGS:
            kind = "end" if closing else "start"
            raise MarkupError(
                f'unsupported {kind} tag "{name}" at byte offset {_offset(text, index)}'
            )
        if closing:
            if not stack or stack[-1] != name:
                raise MarkupError(f"unmatched end tag at byte offset {_offset(text, index)}")
            stack.pop()
        else:
            stack.append(name)
        index = end + 1
    if stack:
        raise MarkupError(f'can\'t find end tag corresponding to start tag "{stack[-1]}"')
    return "".join(out)


def _parse_markdown_v2(text: str) -> str:
    out: list[str] = []
    open_marks: list[str] = []
    index = 0
    at_line_start = True
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            out.append(text[index + 1])
            index += 2
            at_line_start = False
            continue
        if char == "`":
            fence = "```" if text.startswith("```", index) else "`"
            end = text.find(fence, index + len(fence))
            if end == -1:
                raise MarkupError(
                    f"can't find end of Code entity at byte offset {_offset(text, index)}"
                )
            out.append(text[index + len(fence) : end].replace("\\`", "`").replace("\\\\", "\\"))
            index = end + len(fence)
            continue
        toggle = next((t for t in _MD2_TOGGLES if text.startswith(t, index)), None)
        if toggle is not None:
            if open_marks and open_marks[-1] == toggle:
                open_marks.pop()
            else:
                open_marks.append(toggle)
            index += len(toggle)
            continue
        if char == "[":
            link = re.compile(r"\[((?:\\.|[^\]\\])*)\]\(((?:\\.|[^)\\])*)\)").match(text, index)
            if link is None:
                raise MarkupError(
                    f"can't find end of a url for TextUrl entity at byte offset "
                    f"{_offset(text, index)}"
                )
            out.append(_parse_markdown_v2(link.group(1)))
            index = link.end()
            continue
        if char == ">" and at_line_start:
            index += 1
            continue
        if char in _MD2_RESERVED:
            raise MarkupError(
                f"character '{char}' is reserved and must be escaped with the preceding '\\'"
            )
        out.append(char)
        at_line_start = char == "\n"
        index += 1
    if open_marks:
        raise MarkupError(f"can't find end of the entity starting with {open_marks[-1]!r}")
    return "".join(out)
