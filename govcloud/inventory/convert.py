"""Typed conversion of raw YAML/JSON data into entities, driven by the dataclass annotations.

Converters are built once per class and reused for every record: with a
province inventory of 50,000 records the per-field cost is what matters, so the
common case (a value of the right type) takes one ``type(...) is`` test.
Converters never raise for bad data; they report through ``sink`` and return
:data:`INVALID`, so every problem of a record is found in one pass.
"""

from __future__ import annotations

import dataclasses
import difflib
import types
import typing
from datetime import date
from enum import Enum
from functools import cache
from typing import Any, Callable

from govcloud.base.i18n import Msg
from govcloud.model.dates import DateError, parse_date
from govcloud.model.entities import yaml_key
from govcloud.model.ids import ID_DESCRIPTION, ID_RE, id_problem
from govcloud.model.vocabulary import NO, YES

INVALID = object()

# sink(path, code, message, hint=None, warning=False, field=None)
# Converters take the parent's path and their own key separately and only build
# ``path + (key,)`` when they report or descend: on a province inventory that
# saves a million tuple allocations.
Sink = Callable[..., None]
Converter = Callable[[Any, tuple, Any, Sink], Any]

_TRUE = {YES, "true", "True", "yes"}
_FALSE = {NO, "false", "False", "no"}


def _type_name(v: Any) -> str:
    if isinstance(v, bool):
        return Msg("a boolean")
    if isinstance(v, (int, float)):
        return Msg("a number")
    if isinstance(v, str):
        return Msg("text")
    if isinstance(v, dict):
        return Msg("a mapping")
    if isinstance(v, list):
        return Msg("a list")
    if v is None:
        return Msg("nothing (null)")
    return type(v).__name__


def _conv_str(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
    if type(v) is str:
        return v
    if isinstance(v, bool):
        sink(path + (key,), "wrong-type", Msg("expected text, got a boolean ({value})", value=v),
             Msg("YAML reads yes/no/on/off/true/false as booleans; quote the value"))
        return INVALID
    if isinstance(v, (int, float)):
        sink(path + (key,), "number-as-text", Msg("number {number!r} read as text {text!r}", number=v, text=str(v)),
             Msg("quote it: versions like 7.10 would otherwise read as 7.1"), warning=True)
        return str(v)
    sink(path + (key,), "wrong-type", Msg("expected text, got {type_name}", type_name=_type_name(v)))
    return INVALID


def _conv_ident(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
    """An identifier: text matching the one id grammar (model/ids.py), or an error at its field."""
    if type(v) is str and ID_RE.fullmatch(v):
        return v
    if type(v) is not str:
        v = _conv_str(v, path, key, sink)
        if v is INVALID or ID_RE.fullmatch(v):
            return v
    sink(path + (key,), "bad-id", Msg("{value!r:.80} is not a valid id: {why}", value=v, why=id_problem(v)), ID_DESCRIPTION)
    return INVALID


def _bounded(conv_type: str, lo: float | None, hi: float | None) -> Converter:
    def conv(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
        t = type(v)
        if t is int or (t is float and conv_type == "float"):
            pass
        elif t is float and v.is_integer():
            v = int(v)
        else:
            hint = Msg("remove the quotes") if isinstance(v, str) and _numeric(v) else None
            want = Msg("a whole number") if conv_type == "int" else Msg("a number")
            sink(path + (key,), "wrong-type", Msg("expected {want}, got {type_name} {value!r}", want=want,
                                                  type_name=_type_name(v), value=v), hint)
            return INVALID
        if lo is not None and v < lo:
            sink(path + (key,), "out-of-range", Msg("{value} is below the minimum {minimum:g}", value=v, minimum=lo))
            return INVALID
        if hi is not None and v > hi:
            sink(path + (key,), "out-of-range", Msg("{value} is above the maximum {maximum:g}", value=v, maximum=hi))
            return INVALID
        return v
    return conv


def _numeric(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _conv_bool(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
    if type(v) is bool:
        return v
    if isinstance(v, str):
        if v in _TRUE:
            return True
        if v in _FALSE:
            return False
    sink(path + (key,), "wrong-type", Msg("expected true/false ({yes}/{no}), got {type_name} {value!r}", yes=YES,
                                          no=NO, type_name=_type_name(v), value=v))
    return INVALID


def _conv_date(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
    try:
        return parse_date(v)
    except DateError as exc:
        sink(path + (key,), "bad-date", exc.args[0])
        return INVALID


def _conv_any_mapping(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
    if isinstance(v, dict):
        return v
    sink(path + (key,), "wrong-type", Msg("expected a mapping, got {type_name}", type_name=_type_name(v)))
    return INVALID


def _enum_converter(enum_cls: type[Enum]) -> Converter:
    table = enum_cls.lookup()  # type: ignore[attr-defined]
    keys = [m.value for m in enum_cls]

    def conv(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
        if type(v) is str:
            member = table.get(v)
            if member is not None:
                return member
            close = difflib.get_close_matches(v, list(table), n=1, cutoff=0.5)
            hint = Msg("did you mean '{close}'?", close=table[close[0]].value) if close else None
            sink(path + (key,), "unknown-value", Msg("'{value}' is not a valid {enum_title}; valid: {keys}", value=v,
                                                     enum_title=_enum_title(enum_cls), keys=', '.join(keys)), hint)
        else:
            sink(path + (key,), "wrong-type", Msg("expected one of {keys}, got {type_name}", keys=', '.join(keys),
                                                  type_name=_type_name(v)))
        return INVALID
    return conv


def _enum_title(enum_cls: type) -> str:
    name = enum_cls.__name__
    return "".join(" " + c.lower() if c.isupper() else c for c in name).strip()


def _tuple_converter(item: Converter) -> Converter:
    def conv(v: Any, path: tuple, key: Any, sink: Sink) -> Any:
        if type(v) is not list:
            if v is None:
                return ()
            sink(path + (key,), "wrong-type", Msg("expected a list, got {type_name}", type_name=_type_name(v)),
                 Msg("write it as a list: [{value}]", value=v) if isinstance(v, (str, int)) else None)
            return INVALID
        out = []
        here = path + (key,)
        for i, x in enumerate(v):
            c = item(x, here, i, sink)
            if c is not INVALID:
                out.append(c)
        return tuple(out)
    return conv


@cache
def record_converter(cls: type) -> "RecordConverter":
    return RecordConverter(cls)


class RecordConverter:
    """Converts one mapping into ``cls``, reporting unknown keys, wrong types and missing fields."""

    def __init__(self, cls: type) -> None:
        self.cls = cls
        hints = typing.get_type_hints(cls)
        # key → (attribute, converter, type accepted as is): most values already have the
        # right type, and skipping the converter call for them halves the cost of a record
        self.fields: dict[str, tuple[str, Converter, type | None]] = {}
        self.required: list[tuple[str, str]] = []
        self.waiver: str | None = None      # the key listing required fields the record may leave out
        self.waiver_names: dict[str, Any] = {}
        for f in dataclasses.fields(cls):
            key = yaml_key(f.name)
            self.fields[key] = (f.name, _converter_for(hints[f.name], f.metadata), _as_is(hints[f.name], f.metadata))
            if f.metadata.get("required"):
                self.required.append((key, f.name))
            if f.metadata.get("waives"):
                self.waiver = key
                item = typing.get_args(hints[f.name])[0]    # tuple[SomeEnum, ...]: its spellings count
                self.waiver_names = item.lookup() if hasattr(item, "lookup") else {}
        self.keys = sorted(self.fields)

    def __call__(self, raw: Any, parent: tuple, at: Any, sink: Sink) -> Any:
        path = parent if at is None else parent + (at,)
        if type(raw) is not dict:
            sink(path, "wrong-type", Msg("expected a mapping (key: value), got {type_name}", type_name=_type_name(raw)))
            return INVALID
        kwargs: dict[str, Any] = {}
        fields = self.fields
        for key, value in raw.items():
            spec = fields.get(key)
            if spec is None:
                if isinstance(key, str) and key.startswith("x_"):
                    continue  # documented extension keys
                close = difflib.get_close_matches(str(key), self.keys, n=1, cutoff=0.6)
                sink(path + (key,), "unknown-key", Msg("unknown key '{key}'", key=key),
                     Msg("did you mean '{close}'?", close=close[0]) if close else Msg("custom data goes under a key starting with x_"))
                continue
            attr, conv, as_is = spec
            if type(value) is as_is:
                kwargs[attr] = value
                continue
            if value is None:
                continue  # absent and null mean the same
            out = conv(value, path, key, sink)
            if out is not INVALID:
                kwargs[attr] = out
        waived = raw.get(self.waiver) if self.waiver is not None else None
        waived = {getattr(self.waiver_names.get(w), "value", w) for w in waived if isinstance(w, str)} \
            if type(waived) in (list, tuple) else ()
        for key, attr in self.required:
            if attr in kwargs or key in waived:
                continue
            if key not in raw:
                sink(path, "missing-field", Msg("required field '{key}' is missing", key=key), field=key)
            elif raw[key] is None:
                sink(path + (key,), "missing-field", Msg("required field '{key}' is empty", key=key))
            # otherwise the value was invalid and has been reported already
        return self.cls(**kwargs)


def _as_is(tp: Any, meta: typing.Mapping[str, Any]) -> type | None:
    """The Python type a value may have to be stored without conversion, if any."""
    if typing.get_origin(tp) in (typing.Union, types.UnionType):
        tp = [a for a in typing.get_args(tp) if a is not type(None)][0]
    if tp is str and meta.get("ident"):
        return None  # every id goes through the grammar check
    if tp in (str, bool):
        return tp
    if tp in (int, float) and meta.get("min") is None and meta.get("max") is None:
        return tp
    return None


def _converter_for(tp: Any, meta: typing.Mapping[str, Any]) -> Converter:
    origin = typing.get_origin(tp)
    if origin in (typing.Union, types.UnionType):
        # records skip null values before converting, so Optional needs no wrapper
        args = [a for a in typing.get_args(tp) if a is not type(None)]
        return _converter_for(args[0], meta)
    if origin is tuple:
        return _tuple_converter(_converter_for(typing.get_args(tp)[0], {}))
    if tp is str:
        return _conv_ident if meta.get("ident") else _conv_str
    if tp is bool:
        return _conv_bool
    if tp is int:
        return _bounded("int", meta.get("min"), meta.get("max"))
    if tp is float:
        return _bounded("float", meta.get("min"), meta.get("max"))
    if tp is date:
        return _conv_date
    if tp is dict or origin is dict:
        return _conv_any_mapping
    if isinstance(tp, type) and issubclass(tp, Enum):
        return _enum_converter(tp)
    if dataclasses.is_dataclass(tp):
        return record_converter(tp)
    raise TypeError(f"no converter for {tp!r}")
