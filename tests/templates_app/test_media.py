import pytest

from templates_app.media import MB, media_check
from wappin_portal.errors import ValidationFailed


@pytest.mark.parametrize(
    ("media_type", "filename"),
    [
        ("image", "photo.jpg"),
        ("image", "photo.JPEG"),
        ("image", "logo.png"),
        ("document", "invoice.pdf"),
        ("document", "letter.docx"),
        ("document", "deck.ppt"),
        ("document", "sheet.xlsx"),
        ("audio", "voice.ogg"),
        ("audio", "voice.opus"),
        ("audio", "song.mp3"),
        ("audio", "memo.m4a"),
        ("audio", "clip.aac"),
    ],
)
def test_media_check_accepts_the_documents_file_types(media_type, filename):
    media_check(media_type=media_type, filename=filename, size=1000)


@pytest.mark.parametrize(
    ("media_type", "filename"),
    [
        ("image", "anim.gif"),
        ("document", "notes.txt"),
        ("audio", "sound.wav"),
        ("image", "noextension"),
    ],
)
def test_media_check_refuses_other_file_types_on_the_media_field(media_type, filename):
    with pytest.raises(ValidationFailed) as caught:
        media_check(media_type=media_type, filename=filename, size=1000)
    assert caught.value.code == "media_file_type_invalid"
    assert "media" in caught.value.fields


def test_media_check_refuses_an_unknown_media_type():
    with pytest.raises(ValidationFailed) as caught:
        media_check(media_type="video", filename="clip.mp4", size=1000)
    assert caught.value.fields == {"media_type": [caught.value.message]}


@pytest.mark.parametrize(
    ("media_type", "filename", "limit_mb"),
    [("image", "big.png", 5), ("audio", "long.mp3", 16), ("document", "huge.pdf", 100)],
)
def test_media_check_applies_whatsapps_size_limits(media_type, filename, limit_mb):
    media_check(media_type=media_type, filename=filename, size=limit_mb * MB)
    with pytest.raises(ValidationFailed) as caught:
        media_check(media_type=media_type, filename=filename, size=limit_mb * MB + 1)
    assert caught.value.code == "media_too_large"
    assert f"at most {limit_mb} MB" in caught.value.message


def test_media_check_refuses_an_empty_file():
    with pytest.raises(ValidationFailed, match="empty"):
        media_check(media_type="image", filename="blank.png", size=0)


def test_media_check_refuses_a_content_type_of_another_family_but_not_a_generic_one():
    media_check(
        media_type="image", filename="a.png", size=10, content_type="application/octet-stream"
    )
    media_check(media_type="audio", filename="a.m4a", size=10, content_type="audio/x-m4a")
    media_check(
        media_type="document",
        filename="a.docx",
        size=10,
        content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    )
    with pytest.raises(ValidationFailed):
        media_check(media_type="image", filename="a.png", size=10, content_type="text/html")


def test_media_check_names_the_field_the_file_came_in():
    with pytest.raises(ValidationFailed) as caught:
        media_check(media_type="image", filename="a.gif", size=10, field="response_media")
    assert "response_media" in caught.value.fields


def test_media_check_messages_read_as_english():
    # They said "A image must be one of ..." and "which is not a image".
    with pytest.raises(ValidationFailed) as wrong_type:
        media_check(media_type="image", filename="promo.gif", size=10)
    assert wrong_type.value.message == "An image must be one of JPG, JPEG, PNG; 'promo.gif' is not."
    with pytest.raises(ValidationFailed) as wrong_family:
        media_check(
            media_type="image", filename="promo.png", size=10, content_type="application/pdf"
        )
    assert (
        wrong_family.value.message
        == "'promo.png' says it is application/pdf, which is not an image."
    )
    with pytest.raises(ValidationFailed) as too_big:
        media_check(media_type="audio", filename="voice.mp3", size=17 * 1024 * 1024)
    assert (
        too_big.value.message
        == "'voice.mp3' is 17.0 MB; WhatsApp takes an audio file of at most 16 MB."
    )


@pytest.mark.parametrize(
    ("media_type", "filename", "head"),
    [
        ("image", "a.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),
        ("image", "a.jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF"),
        ("document", "a.pdf", b"%PDF-1.7\n"),
        ("document", "a.docx", b"PK\x03\x04" + b"\x00" * 40),
        ("document", "a.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 600),
        ("audio", "a.mp3", b"ID3\x04\x00"),
        ("audio", "a.ogg", b"OggS\x00\x02"),
        ("audio", "a.opus", b"OggS\x00\x02"),
        ("audio", "a.m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00"),
        ("audio", "a.aac", b"\xff\xf1\x50\x80"),
    ],
)
def test_media_check_accepts_content_that_is_what_its_extension_says(media_type, filename, head):
    media_check(media_type=media_type, filename=filename, size=1000, head=head)


@pytest.mark.parametrize(
    ("media_type", "filename", "head"),
    [
        ("image", "promo.png", b"just text"),
        ("image", "promo.jpg", b"\x89PNG\r\n\x1a\n" + b"\x00" * 16),  # a PNG named .jpg
        ("document", "invoice.pdf", b"<html><body>"),
        ("document", "sheet.xlsx", b"%PDF-1.7\n"),
        ("audio", "voice.mp3", b"MZ\x90\x00"),  # a program
    ],
)
def test_media_check_refuses_content_that_is_not_what_its_extension_says(
    media_type, filename, head
):
    with pytest.raises(ValidationFailed) as caught:
        media_check(media_type=media_type, filename=filename, size=1000, head=head)
    assert caught.value.code == "media_content_mismatch"
    assert caught.value.fields == {"media": [caught.value.message]}
