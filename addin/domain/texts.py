"""Texts a reviewer reads, said in English here and in the workbook's language at the edge.

A ``Text`` is an English ``str`` (so it prints, compares and joins as before) that also
carries a key and its parameters: the review workbook looks the key up in its language
(addin/workbook/review/language.py). The domain never knows which language that is.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any


class Text(str):
    key: str
    params: dict[str, Any]

    def __new__(cls, key: str, english: str, **params: Any) -> Text:
        shown = {name: "; ".join(map(str, value)) if isinstance(value, list | tuple) else value
                 for name, value in params.items()}  # a list of reasons reads as one line
        text = super().__new__(cls, english.format(**shown))
        text.key, text.params = key, params
        return text

    def __reduce__(self) -> tuple[Any, ...]:  # a str subclass with attributes, pickled whole
        return (_rebuild, (self.key, str(self), self.params))


def _rebuild(key: str, english: str, params: dict[str, Any]) -> Text:
    text = str.__new__(Text, english)
    text.key, text.params = key, params
    return text


def text(key: str, english: str, **params: Any) -> Text:
    return Text(key, english, **params)


def either(choices: Iterable[str]) -> str:
    """``a or b or c``, in the reader's language."""
    first, *others = choices
    said: str = first
    for choice in others:
        said = text("or", "{first} or {second}", first=said, second=choice)
    return said
