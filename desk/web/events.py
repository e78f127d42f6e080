"""Live updates: Server-Sent Events saying "something changed", from polling the database.

Messages are written by other processes (the Rasa channel, the desk worker), so the
database is the one place every change shows up. One poller per console process
reads a cheap fingerprint every half second while at least one page listens, and
wakes every stream; the page then re-fetches what it shows. Several console
instances each poll on their own: correct, if not free (a broker such as
PostgreSQL LISTEN/NOTIFY would replace the polling).
"""
from __future__ import annotations

import asyncio
import contextlib
import json
import logging

from aiohttp import web

from desk.web import queries

log = logging.getLogger(__name__)

POLL_INTERVAL = 0.5
KEEPALIVE = 15.0
SESSION_CHECK = 5.0  # how often a stream re-reads its session (a database query)


class ChangeFeed:
    def __init__(self, sessions, interval: float = POLL_INTERVAL):
        self.sessions = sessions
        self.interval = interval
        self.version = 0
        self._listeners: set[asyncio.Queue] = set()
        self._task: asyncio.Task | None = None
        self._closed = False

    def subscribe(self) -> asyncio.Queue:
        queue: asyncio.Queue = asyncio.Queue(maxsize=1)
        self._listeners.add(queue)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run())
        return queue

    def unsubscribe(self, queue: asyncio.Queue) -> None:
        self._listeners.discard(queue)

    def _publish(self, item) -> None:
        for queue in list(self._listeners):
            if queue.full():  # the stream has not sent the previous one yet: one is enough
                with contextlib.suppress(asyncio.QueueEmpty):
                    queue.get_nowait()
            queue.put_nowait(item)

    async def _run(self) -> None:
        last = None
        while self._listeners and not self._closed:
            try:
                async with self.sessions() as session:
                    current = await queries.fingerprint(session)
                if last is not None and current != last:
                    self.version += 1
                    self._publish({"version": self.version})
                last = current
            except Exception:  # noqa: BLE001 - the database may be briefly away; keep the streams
                log.exception("console events: poll failed")
            await asyncio.sleep(self.interval)

    async def close(self) -> None:
        self._closed = True
        self._publish(None)  # every stream ends
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)


async def stream(request: web.Request, feed: ChangeFeed, still_signed_in, beat=None,
                 beat_every: float = 15.0) -> web.StreamResponse:
    """`GET /api/events`: `change` events, and `session` when the sign-in ended.

    `still_signed_in()` returns an awaitable bool; it is asked at most every
    SESSION_CHECK seconds, not on every event. `beat()` (awaitable) is called on
    connecting and every `beat_every` seconds while the page listens: the operator's
    presence follows this connection (desk.services.operators.PRESENCE_GRACE)."""
    resp = web.StreamResponse(headers={
        "Content-Type": "text/event-stream", "Cache-Control": "no-cache, no-store",
        "X-Accel-Buffering": "no"})
    await resp.prepare(request)
    queue = feed.subscribe()
    try:
        await resp.write(b"retry: 2000\nevent: hello\ndata: {}\n\n")
        idle = 0.0
        loop = asyncio.get_running_loop()
        checked = loop.time()
        beaten = None
        while True:
            if beat is not None and (beaten is None or loop.time() - beaten >= beat_every):
                beaten = loop.time()
                try:
                    await beat()
                except Exception:  # noqa: BLE001 - presence must not end the stream
                    log.warning("console events: presence beat failed", exc_info=True)
            try:
                item = await asyncio.wait_for(queue.get(), timeout=1.0)
            except asyncio.TimeoutError:
                item = ...
            if item is None:
                break
            if loop.time() - checked >= SESSION_CHECK:
                checked = loop.time()
                if not await still_signed_in():
                    await resp.write(b"event: session\ndata: {\"signed_in\": false}\n\n")
                    break
            if item is ...:
                idle += 1.0
                if idle >= KEEPALIVE:
                    idle = 0.0
                    await resp.write(b": keep-alive\n\n")
                continue
            idle = 0.0
            await resp.write(f"event: change\ndata: {json.dumps(item)}\n\n".encode())
    except ConnectionResetError:
        pass  # the page went away
    finally:
        feed.unsubscribe(queue)
    return resp
