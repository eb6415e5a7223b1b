"""The AudioSocket server over real loopback TCP."""

from __future__ import annotations

import asyncio
import uuid

from faxcore.media.audiosocket import Audio, AudioSocketParser, Dtmf, Hangup, Identify, audio_frame
from faxcore.media.server import AudioSocketServer


class EchoInverted:
    """Sends back each frame with every byte inverted; records what it saw."""

    def __init__(self) -> None:
        self.frames = 0
        self.digits: list[str] = []
        self.closed: str | None = None

    def on_audio(self, samples: bytes) -> bytes:
        self.frames += 1
        return bytes(b ^ 0xFF for b in samples)

    def on_dtmf(self, digit: str) -> None:
        self.digits.append(digit)

    def on_closed(self, reason: str) -> None:
        self.closed = reason


async def test_each_audio_frame_gets_its_reply_and_hangup_closes_the_endpoint() -> None:
    endpoint = EchoInverted()
    async with AudioSocketServer() as server, server.expect(endpoint) as call_id:
        host, port = server.address
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(bytes(Identify(call_id)) + bytes(Dtmf("5")))
        parser = AudioSocketParser()
        replies = []
        for i in range(5):
            writer.write(audio_frame(bytes([i]) * 320))
            await writer.drain()
            while not replies or len(replies) <= i:
                replies += parser.feed(await reader.read(4096))
        writer.write(bytes(Hangup()))
        await writer.drain()
        await asyncio.wait_for(server.wait_done(call_id), 5)
        writer.close()
    assert replies == [Audio(bytes([i ^ 0xFF]) * 320) for i in range(5)]
    assert endpoint.frames == 5
    assert endpoint.digits == ["5"]
    assert endpoint.closed == "hangup"


async def test_a_connection_with_an_unknown_uuid_is_closed() -> None:
    endpoint = EchoInverted()
    async with AudioSocketServer() as server, server.expect(endpoint):
        reader, writer = await asyncio.open_connection(*server.address)
        writer.write(bytes(Identify(uuid.uuid4())) + audio_frame(b"\x00" * 320))
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
    assert endpoint.frames == 0


class FailsOnAudio(EchoInverted):
    """An endpoint whose handler raises, as a fax session freed too early once did."""

    def on_audio(self, samples: bytes) -> bytes:
        raise RuntimeError("fax channel is closed")


async def test_an_endpoint_that_raises_ends_its_stream_and_the_server_serves_on() -> None:
    failing, healthy = FailsOnAudio(), EchoInverted()
    async with (AudioSocketServer() as server, server.expect(failing) as bad_id,
                server.expect(healthy) as good_id):
        reader, writer = await asyncio.open_connection(*server.address)
        writer.write(bytes(Identify(bad_id)) + audio_frame(b"\x01" * 320))
        await writer.drain()
        assert await asyncio.wait_for(reader.read(), 5) == b""
        writer.close()
        reader, writer = await asyncio.open_connection(*server.address)
        writer.write(bytes(Identify(good_id)) + audio_frame(b"\x01" * 320))
        await writer.drain()
        reply = AudioSocketParser().feed(await asyncio.wait_for(reader.read(4096), 5))
        writer.close()
    assert failing.closed is not None and "fax channel is closed" in failing.closed
    assert reply == [Audio(b"\xfe" * 320)]


async def _frames_until_eof(reader: asyncio.StreamReader) -> list[object]:
    parser, frames = AudioSocketParser(), []
    while data := await reader.read(4096):
        frames += parser.feed(data)
    return frames


async def test_a_stream_faxcore_has_nothing_to_say_on_still_gets_silence() -> None:
    # Asterisk's AudioSocket read blocks with its channel locked until a frame
    # arrives: faxcore must never leave it waiting (issue 21).
    listener = EchoInverted()
    async with AudioSocketServer() as server, server.expect(listener) as call_id:
        reader, writer = await asyncio.open_connection(*server.address)
        writer.write(bytes(Identify(call_id)))
        await writer.drain()
        parser, frames = AudioSocketParser(), []
        while len(frames) < 3:
            frames += parser.feed(await asyncio.wait_for(reader.read(4096), 5))
        writer.close()
    assert frames[:3] == [Audio(bytes(320))] * 3
    assert listener.frames == 0


async def test_a_call_that_ends_closes_its_stream_from_faxcore_side() -> None:
    async with AudioSocketServer() as server:
        async with server.expect(EchoInverted()) as call_id:
            reader, writer = await asyncio.open_connection(*server.address)
            writer.write(bytes(Identify(call_id)))
            await writer.drain()
            await asyncio.wait_for(server.wait_connected(call_id), 5)
        frames = await asyncio.wait_for(_frames_until_eof(reader), 5)
        writer.close()
    assert set(frames) <= {Audio(bytes(320))}
