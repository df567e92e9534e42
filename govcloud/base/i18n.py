"""The one message catalog: gettext, English message ids, Chinese translations.

Every user-facing text is written in the source in English, marked by one of the functions
below, and translated from the gettext catalogs under ``govcloud/locale/zh_CN/LC_MESSAGES``
(one ``.po`` per package, compiled to the ``.mo`` next to it). The maintainer's tool
``python -m govcloud.locale.catalog`` extracts the marked texts, updates the ``.po`` files and
compiles them; a test fails on any text without a translation, on a stale ``.mo`` and on
Chinese text written outside the catalogs.

- ``tr(msgid, lang)``: the text in ``lang`` ("zh" or "en").
- ``N_(msgid)``: marks a text kept in a table and translated later with ``tr``.
- ``zh_en(msgid)``: the (Chinese, English) pair, for tables that keep both.
- ``Msg(msgid, **params)``: a message formatted now in English (it *is* that ``str``) that a
  renderer shows in the user's language with ``localize``; for layers that do not know the
  user's language (validation problems, errors).

``ctx=`` separates two uses of one English text that translate differently (gettext's msgctxt).
Only the standard library is imported here: this module sits at the bottom floor.
"""

from __future__ import annotations

import gettext as _gettext
from pathlib import Path
from typing import Any

LANGS = ("zh", "en")
LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
# the catalogs' language: Chinese as used in mainland China (the msgids are English)
CATALOG_LOCALE = "zh_CN"

_CONTEXT_SEP = "\x04"  # how gettext keys a message with a context: ctx + EOT + msgid
_zh: dict[str, str] | None = None


def _load() -> dict[str, str]:
    """Every compiled catalog, merged (the packages' msgids agree; the catalog test checks it)."""
    global _zh
    if _zh is None:
        merged: dict[str, str] = {}
        for mo in sorted((LOCALE_DIR / CATALOG_LOCALE / "LC_MESSAGES").glob("*.mo")):
            with mo.open("rb") as fh:
                cat = _gettext.GNUTranslations(fh)
            merged.update((k, v) for k, v in cat._catalog.items() if isinstance(k, str) and k)  # type: ignore[attr-defined]
        _zh = merged
    return _zh


def catalog_key(msgid: str, ctx: str | None = None) -> str:
    return msgid if not ctx else f"{ctx}{_CONTEXT_SEP}{msgid}"


class Msgid(str):
    """An English message id that carries its gettext context (``N_(…, ctx=…)``)."""

    __slots__ = ("ctx",)
    ctx: str | None

    def __new__(cls, msgid: str, ctx: str | None = None) -> "Msgid":
        obj = str.__new__(cls, msgid)
        obj.ctx = ctx
        return obj


def N_(msgid: str, ctx: str | None = None) -> str:
    """Marks ``msgid`` for the catalog without translating it yet (translate with ``tr``)."""
    return Msgid(msgid, ctx) if ctx else msgid


def tr(msgid: str, lang: str, ctx: str | None = None) -> str:
    """``msgid`` in ``lang``. English is the msgid itself; a text the catalog lacks shows in
    English (the catalog test keeps that from happening)."""
    if lang != "zh":
        return str(msgid)
    ctx = ctx or getattr(msgid, "ctx", None)
    return _load().get(catalog_key(str(msgid), ctx)) or str(msgid)


def zh_en(msgid: str, ctx: str | None = None) -> tuple[str, str]:
    """The (Chinese, English) pair of ``msgid``."""
    return tr(msgid, "zh", ctx), str(msgid)


class Msg(str):
    """A message whose ``str`` value is its English text; ``text(lang)`` formats it in ``lang``.

    Layers below the renderer build these; code that treats a message as plain text (logs,
    tests, JSON) keeps working and sees English."""

    __slots__ = ("msgid", "ctx", "params")
    msgid: str
    ctx: str | None
    params: dict[str, Any]

    def __new__(cls, msgid: str, ctx: str | None = None, /, **params: Any) -> "Msg":
        obj = str.__new__(cls, msgid.format(**params) if params else msgid)
        obj.msgid, obj.ctx, obj.params = str(msgid), ctx, params
        return obj

    def text(self, lang: str) -> str:
        template = tr(self.msgid, lang, self.ctx)
        params = {k: localize(v, lang) if isinstance(v, (Msg, BaseException)) else v for k, v in self.params.items()}
        return template.format(**params) if params else template

    def __reduce__(self) -> tuple[Any, ...]:  # pickles (multiprocessing) as a Msg, not a bare str
        return (_rebuild, (self.msgid, self.ctx, self.params))


def _rebuild(msgid: str, ctx: str | None, params: dict[str, Any]) -> Msg:
    return Msg(msgid, ctx, **params)


def localize(value: Any, lang: str) -> str:
    """A message in ``lang``: a ``Msg`` is translated, and so is an exception whose message is one
    (``Msg("cannot read {path}: {error}", error=exc)``); any other value is shown as it is."""
    if isinstance(value, Msg):
        return value.text(lang)
    if isinstance(value, BaseException) and value.args and isinstance(value.args[0], Msg):
        return value.args[0].text(lang)
    return "" if value is None else str(value)
