"""Media rules: supported types and Meta's size limits.

Reference: "Supported media types", Cloud API Media reference
(https://developers.facebook.com/documentation/business-messaging/whatsapp/business-phone-numbers/media#supported-media-types):

=========  ==========================================================  =========
kind       MIME types                                                  max size
=========  ==========================================================  =========
audio      audio/aac, audio/amr, audio/mpeg, audio/mp4, audio/ogg      16 MB
           (ogg: OPUS codecs only)
document   text/plain, application/pdf, MS Word / Excel / PowerPoint   100 MB
           (doc, docx, xls, xlsx, ppt, pptx)
image      image/jpeg, image/png                                       5 MB
sticker    image/webp                                                  100 KB static,
                                                                       500 KB animated
video      video/3gpp, video/mp4 (H.264 + AAC)                         16 MB
=========  ==========================================================  =========

Codec checks (ogg must be Opus, video must be H.264/AAC) are not simulated.
"""
from __future__ import annotations

import hashlib

KB = 1024
MB = 1024 * 1024

AUDIO = {"audio/aac", "audio/amr", "audio/mpeg", "audio/mp4", "audio/ogg", "audio/opus"}
DOCUMENT = {
    "text/plain",
    "application/pdf",
    "application/msword",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "application/vnd.ms-excel",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "application/vnd.ms-powerpoint",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation",
}
IMAGE = {"image/jpeg", "image/png"}
STICKER = {"image/webp"}
VIDEO = {"video/3gpp", "video/mp4"}

SUPPORTED = sorted(AUDIO | DOCUMENT | IMAGE | STICKER | VIDEO)

STICKER_STATIC_MAX = 100 * KB
STICKER_ANIMATED_MAX = 500 * KB

EXTENSIONS = {
    "image/jpeg": "jpg", "image/png": "png", "image/webp": "webp",
    "audio/aac": "aac", "audio/amr": "amr", "audio/mpeg": "mp3", "audio/mp4": "m4a",
    "audio/ogg": "ogg", "audio/opus": "opus",
    "video/mp4": "mp4", "video/3gpp": "3gp",
    "application/pdf": "pdf", "text/plain": "txt",
    "application/msword": "doc",
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": "docx",
    "application/vnd.ms-excel": "xls",
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": "xlsx",
    "application/vnd.ms-powerpoint": "ppt",
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": "pptx",
}


def normalize_mime(mime: str | None) -> str:
    return (mime or "").split(";", 1)[0].strip().lower()


def kind_of(mime: str) -> str | None:
    """The message type a MIME type can be sent as (sticker for webp)."""
    mime = normalize_mime(mime)
    if mime in IMAGE:
        return "image"
    if mime in STICKER:
        return "sticker"
    if mime in AUDIO:
        return "audio"
    if mime in VIDEO:
        return "video"
    if mime in DOCUMENT:
        return "document"
    return None


def is_animated_webp(data: bytes) -> bool:
    """A WebP is animated when its VP8X header has the animation flag (0x02)
    or it carries an ANIM chunk (WebP container spec, RIFF layout)."""
    if len(data) < 21 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    if data[12:16] == b"VP8X" and data[20] & 0x02:
        return True
    return b"ANIM" in data[12:4096]


def max_size(mime: str, data: bytes | None = None) -> int:
    kind = kind_of(mime)
    if kind == "image":
        return 5 * MB
    if kind == "sticker":
        if data is not None and is_animated_webp(data):
            return STICKER_ANIMATED_MAX
        return STICKER_STATIC_MAX
    if kind in ("audio", "video"):
        return 16 * MB
    if kind == "document":
        return 100 * MB
    return 0


def check_upload(mime: str, data: bytes) -> str | None:
    """None when Meta would accept the upload, else a reason (details text)."""
    mime = normalize_mime(mime)
    if kind_of(mime) is None:
        return (
            "Param file must be a file with one of the following types: "
            + ", ".join(SUPPORTED)
            + f". Received file of type '{mime or 'unknown'}'."
        )
    limit = max_size(mime, data)
    if len(data) > limit:
        return f"File of type {mime} is {len(data)} bytes, larger than the {limit} bytes Meta allows for this type."
    if len(data) == 0:
        return "The uploaded file is empty."
    return None


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()
