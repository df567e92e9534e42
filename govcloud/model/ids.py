"""The one identifier grammar (pure; no I/O).

Every id that becomes a file or directory name, a host alias, an OpenStack name or tag, or an
Ansible variable — systems, servers, databases, organisations, machine rooms, cloud platforms
and zones, policies, batches, takeovers, freeze windows, move groups and plan ids — matches

    ^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$

ASCII letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters.
So an id is never a path (no '/', never '.' or '..'), never shell or Jinja syntax (no ';', '$',
'`', '{', '|', quotes or spaces), never several lines, and holds no control or bidi characters.
Chinese names belong in ``name``; importers map foreign names onto ids with :func:`safe_id`.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata

from govcloud.base.i18n import Msg

ID_MAX_LEN = 64
ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$"
ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,63}")   # used with fullmatch ($ would accept a final \n)
ID_DESCRIPTION = Msg("ASCII letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 "
                    "characters (Chinese names go in `name`)")


def is_valid_id(value: object) -> bool:
    return isinstance(value, str) and ID_RE.fullmatch(value) is not None


def _show(ch: str) -> str:
    if ch.isprintable() and not unicodedata.category(ch).startswith(("C", "Z")):
        return f"'{ch}' (U+{ord(ch):04X})"
    return f"U+{ord(ch):04X} {unicodedata.name(ch, 'control character')}"


def id_problem(value: object) -> str | None:
    """Why ``value`` is not a valid id (English, for the problem message), or None."""
    if not isinstance(value, str):
        return Msg("an id must be text")
    if is_valid_id(value):
        return None
    if value == "":
        return Msg("an id must not be empty")
    if len(value) > ID_MAX_LEN:
        return Msg("an id has at most {limit} characters (this one has {length})", limit=ID_MAX_LEN, length=len(value))
    if not value[0].isascii() or not value[0].isalnum():
        return Msg("an id must start with an ASCII letter or digit, not {char}", char=_show(value[0]))
    bad = next(ch for ch in value if not (ch.isascii() and (ch.isalnum() or ch in "._-")))
    return Msg("an id may not contain {char}", char=_show(bad))


def is_valid_derived_id(value: object, prefix: str) -> bool:
    """An id the planner derives from another by a fixed prefix (``mg-<system>``)."""
    return is_valid_id(value) or (isinstance(value, str) and value.startswith(prefix)
                                  and is_valid_id(value[len(prefix):]))


def first_control_char(text: str) -> str | None:
    """The first control, format (bidi overrides, zero-width) or line/paragraph-separator
    character of ``text``, described; None when there is none."""
    for ch in text:
        if unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp", "Cs", "Co", "Cn"):
            return _show(ch)
    return None


# a systemd/init unit name: ASCII letters, digits and : _ . @ - (argv to systemctl/service)
SERVICE_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9:_.@-]{0,254}")
# a DNS name (the cutover record becomes an /etc/hosts line)
HOST_NAME_RE = re.compile(r"(?=.{1,253}\.?$)[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?"
                          r"(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9])?)*\.?")


def data_path_problem(path: str) -> str | None:
    """Why ``path`` cannot be a data path the migration syncs (absolute, normalised, one line)."""
    bad = first_control_char(path)
    if bad:
        return Msg("a data path may not contain {bad}", bad=bad)
    if not path.startswith("/"):
        return Msg("a data path must be absolute (start with '/')")
    parts = [p for p in path.split("/") if p]
    if not parts:
        return Msg("a data path must not be the root directory")
    if any(p in (".", "..") for p in parts):
        return Msg("a data path must not contain '.' or '..' components")
    if len(path) > 4096:
        return Msg("a data path has at most 4096 characters")
    return None


_SLUG_RUN = re.compile(r"[^a-z0-9]+")


def digest8(text: str, length: int = 8) -> str:
    return hashlib.sha256(text.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def safe_id(foreign: str, *, prefix: str = "", taken: object = ()) -> str:
    """A valid id for a foreign name (VM name, NetBox name, Ansible host, census row), deterministic.

    ``prefix + foreign`` when that already is a valid id; otherwise ``prefix`` + the lower-case
    ASCII slug of the name + '-' + a short SHA-256 of the original, so two names that slug alike
    (``web/01`` and ``web 01``) never meet. ``taken`` (a container of ids in use) lengthens the
    digest until the id is free. The original name stays in the record's name/label."""
    text = str(foreign)
    candidate = prefix + text
    if is_valid_id(candidate) and candidate not in taken:  # type: ignore[operator]
        return candidate
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode("ascii")
    slug = _SLUG_RUN.sub("-", ascii_text.lower()).strip("-")
    for length in (8, 12, 16, 24, 32, 64):
        tail = digest8(text, length)
        room = ID_MAX_LEN - len(prefix) - len(tail) - 1
        head = slug[:max(room, 0)].strip("-")
        out = f"{prefix}{head}-{tail}" if head else f"{prefix}{tail}"
        if not is_valid_id(out):   # a prefix that is not itself id material
            out = f"id-{tail}"
        if out not in taken:       # type: ignore[operator]
            return out
    raise ValueError(f"no free id for {text!r}")
