"""The product's attachment rules (from the source document) and the media store.

What operators send is checked against these rules before anything is uploaded:
image 5 MB (jpeg, jpg, png); document 20 MB (pdf); video 15 MB (3gp, mp4); audio
15 MB (mp3, mpeg, ogg, amr). Anything else is refused with a reason. Inbound media
are accepted as Meta delivers them (Meta's own limits are looser) up to a safety cap.
"""
from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

MB = 1024 * 1024
INBOUND_SAFETY_CAP = 100 * MB  # Meta's largest (documents)


@dataclass(frozen=True)
class AttachmentRule:
    kind: str          # the Cloud API message type
    max_bytes: int
    extensions: frozenset[str]
    mime_types: frozenset[str]


RULES = (
    AttachmentRule("image", 5 * MB, frozenset({"jpeg", "jpg", "png"}),
                   frozenset({"image/jpeg", "image/png"})),
    AttachmentRule("document", 20 * MB, frozenset({"pdf"}), frozenset({"application/pdf"})),
    AttachmentRule("video", 15 * MB, frozenset({"3gp", "mp4"}), frozenset({"video/3gpp", "video/mp4"})),
    AttachmentRule("audio", 15 * MB, frozenset({"mp3", "mpeg", "ogg", "amr"}),
                   frozenset({"audio/mpeg", "audio/mp3", "audio/ogg", "audio/amr"})),
)


# The type a file is uploaded to WhatsApp as, by its extension (Meta's names: mp3 is audio/mpeg).
MIME_BY_EXTENSION = {"jpeg": "image/jpeg", "jpg": "image/jpeg", "png": "image/png", "pdf": "application/pdf",
                     "3gp": "video/3gpp", "mp4": "video/mp4", "mp3": "audio/mpeg", "mpeg": "audio/mpeg",
                     "ogg": "audio/ogg", "amr": "audio/amr"}
def _starts(*prefixes: bytes):
    return lambda data: data.startswith(prefixes)


def _iso_media(data: bytes) -> bool:
    """mp4 and 3gp are ISO base media files: the first box is `ftyp` (size, then the type)."""
    return data[4:8] == b"ftyp"


def _mpeg_audio(data: bytes) -> bool:
    """An mp3: an ID3 tag, or straight away an MPEG audio frame (11 sync bits set)."""
    return data.startswith(b"ID3") or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


# What the first bytes of a file of this extension must be (every allowed format has one).
_SIGNATURE = {"png": _starts(b"\x89PNG\r\n\x1a\n"), "jpg": _starts(b"\xff\xd8\xff"),
              "jpeg": _starts(b"\xff\xd8\xff"), "pdf": _starts(b"%PDF-"), "ogg": _starts(b"OggS"),
              "amr": _starts(b"#!AMR"), "mp4": _iso_media, "3gp": _iso_media, "mp3": _mpeg_audio,
              "mpeg": _mpeg_audio}


class AttachmentRefused(ValueError):
    """The file breaks the product's attachment rules; the message says which."""


def _human(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n} bytes"


def check_outbound(filename: str, size: int, mime_type: str | None = None) -> AttachmentRule:
    """The rule a file falls under, or AttachmentRefused with a reason a person can act on."""
    ext = Path(filename).suffix.lower().lstrip(".")
    rule = next((r for r in RULES if ext in r.extensions), None)
    if rule is None:
        allowed = ", ".join(f"{r.kind}: {'/'.join(sorted(r.extensions))}" for r in RULES)
        raise AttachmentRefused(f"'.{ext or '?'}' files cannot be sent on WhatsApp here ({allowed})")
    if mime_type and mime_type.split(";")[0].strip().lower() not in rule.mime_types:
        raise AttachmentRefused(f"{filename} says it is {mime_type}, which is not an allowed {rule.kind} type")
    if size <= 0:
        raise AttachmentRefused(f"{filename} is empty")
    if size > rule.max_bytes:
        raise AttachmentRefused(f"{filename} is {_human(size)}; a {rule.kind} may be at most "
                                f"{rule.max_bytes // MB} MB")
    return rule


def check_content(filename: str, data: bytes) -> str:
    """The MIME type to send `data` as; AttachmentRefused when the bytes are not what
    the name says (a renamed file would only fail later, at WhatsApp)."""
    ext = Path(filename).suffix.lower().lstrip(".")
    matches = _SIGNATURE.get(ext)
    if matches is None or not matches(data):
        raise AttachmentRefused(f"{filename} is not a real .{ext} file (its content does not match the name)")
    return MIME_BY_EXTENSION[ext]


@dataclass(frozen=True)
class StoredMedia:
    sha256: str
    size: int
    mime_type: str
    path: Path


class MediaStore:
    """Content-addressed files under one folder (DESK_MEDIA_DIR): the same bytes are kept once."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def path_for(self, sha256: str) -> Path:
        if len(sha256) != 64 or not all(c in "0123456789abcdef" for c in sha256):
            raise ValueError("not a sha256 hex digest")
        return self.root / sha256[:2] / sha256

    def save(self, data: bytes, mime_type: str) -> StoredMedia:
        digest = hashlib.sha256(data).hexdigest()
        path = self.path_for(digest)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)  # customers' files: owner only
            tmp = path.with_suffix(f".tmp{os.getpid()}")
            fd = os.open(tmp, os.O_CREAT | os.O_WRONLY | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "wb") as out:
                out.write(data)
            os.replace(tmp, path)  # atomic: a reader never sees half a file
        return StoredMedia(digest, len(data), mime_type, path)
