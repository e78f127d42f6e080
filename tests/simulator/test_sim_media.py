"""Media upload, retrieval, download, delete and Meta's limits."""
import hashlib

import aiohttp
import pytest

from .helpers import PDF, PNG, PNID, TOKEN, USER, V, WEBP_ANIMATED, WEBP_STATIC, cloud_error, graph_error

pytestmark = pytest.mark.asyncio

H = {"Authorization": f"Bearer {TOKEN}"}
MB = 1024 * 1024


def form(data: bytes, mime: str, filename="f.bin", messaging_product="whatsapp", with_type=True):
    fd = aiohttp.FormData()
    if messaging_product is not None:
        fd.add_field("messaging_product", messaging_product)
    if with_type:
        fd.add_field("type", mime)
    fd.add_field("file", data, filename=filename, content_type=mime)
    return fd


async def upload(sim, data, mime, **kw):
    resp = await sim.client.post(f"/{V}/{PNID}/media", data=form(data, mime, **kw),
                                 headers=kw.pop("headers", H) if "headers" in kw else H)
    return resp.status, await resp.json()


async def test_upload_get_download_delete(sim):
    status, body = await upload(sim, PNG, "image/png", filename="dot.png")
    assert status == 200
    assert set(body) == {"id"} and body["id"].isdigit()
    media_id = body["id"]

    resp = await sim.client.get(f"/{V}/{media_id}", headers=H)
    info = await resp.json()
    assert resp.status == 200
    assert info == {
        "messaging_product": "whatsapp",
        "url": info["url"],
        "mime_type": "image/png",
        "sha256": hashlib.sha256(PNG).hexdigest(),
        "file_size": len(PNG),
        "id": media_id,
    }
    url = info["url"]
    assert "/whatsapp_business/attachments/?mid=" in url
    # the URL needs the bearer token
    path = url.split(str(sim.client.make_url("")).rstrip("/"), 1)[1]
    resp = await sim.client.get(path)
    assert resp.status == 401
    resp = await sim.client.get(path, headers={"Authorization": "Bearer wrong"})
    assert resp.status == 401
    resp = await sim.client.get(path, headers=H)
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "image/png"
    assert await resp.read() == PNG

    # phone_number_id filter
    resp = await sim.client.get(f"/{V}/{media_id}?phone_number_id={PNID}", headers=H)
    assert resp.status == 200
    resp = await sim.client.get(f"/{V}/{media_id}?phone_number_id=123", headers=H)
    cloud_error(resp.status, await resp.json(), 100)

    resp = await sim.client.delete(f"/{V}/{media_id}", headers=H)
    assert resp.status == 200 and await resp.json() == {"success": True}
    resp = await sim.client.get(f"/{V}/{media_id}", headers=H)
    err = graph_error(resp.status, await resp.json(), 100, 400)
    assert err["error_subcode"] == 33
    resp = await sim.client.delete(f"/{V}/{media_id}", headers=H)
    graph_error(resp.status, await resp.json(), 100, 400)
    resp = await sim.client.get(path, headers=H)
    assert resp.status == 404


async def test_mime_type_comes_from_the_file_part_when_type_is_absent(sim):
    status, body = await upload(sim, PDF, "application/pdf", with_type=False)
    assert status == 200
    assert sim.core.state.get_media(body["id"]).mime_type == "application/pdf"


@pytest.mark.parametrize("mime,size,ok", [
    ("image/jpeg", 5 * MB, True), ("image/jpeg", 5 * MB + 1, False),
    ("image/png", 5 * MB + 1, False),
    ("audio/mpeg", 16 * MB, True), ("audio/ogg", 16 * MB + 1, False),
    ("video/mp4", 16 * MB, True), ("video/3gpp", 16 * MB + 1, False),
    ("application/pdf", 100 * MB, True), ("application/pdf", 100 * MB + 1, False),
    ("text/plain", 1024, True),
    ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", 1024, True),
])
async def test_size_limits_by_mime_type(sim, mime, size, ok):
    status, body = await upload(sim, b"\0" * size, mime)
    if ok:
        assert status == 200, body
    else:
        err = cloud_error(status, body, 131053)
        assert str(size) in err["error_data"]["details"]


async def test_sticker_limits_static_100kb_animated_500kb(sim):
    static_ok = WEBP_STATIC + b"\0" * (100 * 1024 - len(WEBP_STATIC))
    status, _ = await upload(sim, static_ok, "image/webp")
    assert status == 200
    status, body = await upload(sim, static_ok + b"\0", "image/webp")
    cloud_error(status, body, 131053)
    animated = WEBP_ANIMATED + b"\0" * (400 * 1024)
    status, _ = await upload(sim, animated, "image/webp")
    assert status == 200
    status, body = await upload(sim, WEBP_ANIMATED + b"\0" * (500 * 1024), "image/webp")
    cloud_error(status, body, 131053)


@pytest.mark.parametrize("mime", ["image/gif", "application/zip", "video/quicktime", "audio/wav"])
async def test_unsupported_types_are_refused(sim, mime):
    status, body = await upload(sim, b"data", mime)
    err = cloud_error(status, body, 100)
    assert f"Received file of type '{mime}'" in err["error_data"]["details"]


async def test_upload_requires_messaging_product_file_and_multipart(sim):
    status, body = await upload(sim, PNG, "image/png", messaging_product=None)
    cloud_error(status, body, 100)
    fd = aiohttp.FormData()
    fd.add_field("messaging_product", "whatsapp")
    fd.add_field("type", "image/png")
    fd.add_field("file", b"", filename="x", content_type="image/png")
    resp = await sim.client.post(f"/{V}/{PNID}/media", data=fd, headers=H)
    cloud_error(resp.status, await resp.json(), 131053)
    resp = await sim.client.post(f"/{V}/{PNID}/media", json={"messaging_product": "whatsapp"}, headers=H)
    cloud_error(resp.status, await resp.json(), 100)
    resp = await sim.client.post(f"/{V}/{PNID}/media", data=form(PNG, "image/png"))
    graph_error(resp.status, await resp.json(), 190, 401)


async def test_send_uploaded_media_by_id_and_reject_foreign_ids(chatting):
    sim = chatting
    _, up = await upload(sim, PNG, "image/png")
    status, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "image",
                                   "image": {"id": up["id"], "caption": "a dot"}})
    assert status == 200
    # media of another number is not this number's
    await sim.control("POST", "/_sim/numbers", expect=201, json={
        "phone_number_id": "100000000000002", "access_token": "tok-2", "display_phone_number": "15550000002"})
    resp = await sim.client.post(f"/{V}/100000000000002/media", data=form(PNG, "image/png"),
                                 headers={"Authorization": "Bearer tok-2"})
    other = await resp.json()
    status, body = await sim.send({"messaging_product": "whatsapp", "to": USER, "type": "image",
                                   "image": {"id": other["id"]}})
    cloud_error(status, body, 131009)
    # and its token cannot read it through this number's token
    resp = await sim.client.get(f"/{V}/{other['id']}", headers=H)
    graph_error(resp.status, await resp.json(), 100, 400)


async def test_media_from_a_user_can_be_fetched_by_the_business(sim):
    import base64
    data = await sim.user(type="document", data=base64.b64encode(PDF).decode(), mime_type="application/pdf",
                          filename="invoice.pdf", caption="my invoice")
    doc = sim.receiver.messages()[0]["document"]
    assert doc["filename"] == "invoice.pdf" and doc["caption"] == "my invoice"
    resp = await sim.client.get(f"/{V}/{doc['id']}", headers=H)
    info = await resp.json()
    assert info["mime_type"] == "application/pdf" and info["sha256"] == doc["sha256"]
    path = "/whatsapp_business/attachments/" + info["url"].split("/whatsapp_business/attachments/", 1)[1]
    resp = await sim.client.get(path, headers=H)
    assert await resp.read() == PDF
    assert data["wamid"] == sim.receiver.messages()[0]["id"]
