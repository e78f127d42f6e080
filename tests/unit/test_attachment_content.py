"""An operator's file must be what its name says, for every allowed format (a renamed
file would only fail later, at WhatsApp, or reach the customer as something else)."""
import pytest

from desk.attachments import AttachmentRefused, check_content

MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom"
THREE_GP = b"\x00\x00\x00\x14ftyp3gp5\x00\x00\x00\x00"
MP3_ID3 = b"ID3\x04\x00\x00\x00\x00\x00\x00" + b"\xff\xfb\x90\x00"
MP3_FRAME = b"\xff\xfb\x90\x64" + b"\x00" * 16


@pytest.mark.parametrize("name, data, mime", [
    ("clip.mp4", MP4, "video/mp4"), ("clip.3gp", THREE_GP, "video/3gpp"),
    ("song.mp3", MP3_ID3, "audio/mpeg"), ("song.mp3", MP3_FRAME, "audio/mpeg"),
    ("voice.mpeg", MP3_FRAME, "audio/mpeg"), ("note.ogg", b"OggS\x00\x02", "audio/ogg"),
    ("memo.amr", b"#!AMR\n", "audio/amr"), ("a.png", b"\x89PNG\r\n\x1a\n", "image/png"),
    ("a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"), ("a.pdf", b"%PDF-1.7", "application/pdf"),
])
def test_real_files_pass_with_the_type_whatsapp_expects(name, data, mime):
    assert check_content(name, data) == mime


@pytest.mark.parametrize("name, data", [
    ("clip.mp4", b"<html><script>alert(1)</script>"), ("clip.3gp", b"MZ\x90\x00" + b"\x00" * 8),
    ("clip.mp4", b"ftyp at the wrong place"), ("song.mp3", b"<svg onload=alert(1)>"),
    ("song.mp3", b"\xff\x00 not a frame"), ("voice.mpeg", b"PK\x03\x04 a zip"), ("song.mp3", b""),
])
def test_renamed_files_are_refused(name, data):
    with pytest.raises(AttachmentRefused, match="not a real"):
        check_content(name, data)
