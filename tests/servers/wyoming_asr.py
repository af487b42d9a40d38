"""A Wyoming speech-to-text server built with the reference `wyoming` library, as the peer for
Sori's remote STT. It reports what it received ("heard 16000 samples at 16000 hertz in ko"), so
a test can tell its answer from the local whisper's and check the audio arrived whole.

    python wyoming_asr.py --uri tcp://127.0.0.1:10300 [--delay SECONDS] [--text TEXT]

With --text it answers TEXT instead, at once: a server with an infinitely fast engine, which
leaves only the protocol's cost (bench/wyoming.sh).
"""

import argparse
import asyncio
from functools import partial

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.event import Event
from wyoming.info import AsrModel, AsrProgram, Attribution, Describe, Info
from wyoming.server import AsyncEventHandler, AsyncServer

ATTRIBUTION = Attribution(name="sori tests", url="https://example.invalid/sori")
INFO = Info(
    asr=[
        AsrProgram(
            name="count-asr",
            description="counts what it hears",
            attribution=ATTRIBUTION,
            installed=True,
            version="1.0",
            models=[
                AsrModel(
                    name="counter",
                    description="samples, rate, language",
                    attribution=ATTRIBUTION,
                    installed=True,
                    languages=["en", "ko"],
                    version="1.0",
                )
            ],
        )
    ]
)


class Handler(AsyncEventHandler):
    def __init__(self, delay: float, answer, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.delay = delay
        self.answer = answer
        self.language = None
        self.samples = 0
        self.rate = None

    async def handle_event(self, event: Event) -> bool:
        if Describe.is_type(event.type):
            await self.write_event(INFO.event())
        elif Transcribe.is_type(event.type):
            self.language = Transcribe.from_event(event).language
        elif AudioStart.is_type(event.type):
            self.samples = 0
        elif AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            self.rate = chunk.rate
            self.samples += len(chunk.audio) // (chunk.width * chunk.channels)
        elif AudioStop.is_type(event.type):
            await asyncio.sleep(self.delay)
            text = self.answer or (
                f"heard {self.samples} samples at {self.rate} hertz in {self.language or 'auto'}"
            )
            await self.write_event(
                Transcript(text=text, language=self.language or "en").event()
            )
            return False
        return True


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--uri", required=True)
    parser.add_argument("--delay", type=float, default=0.0)
    parser.add_argument("--text", help="answer this instead of what was heard")
    args = parser.parse_args()
    server = AsyncServer.from_uri(args.uri)
    await server.run(partial(Handler, args.delay, args.text))


if __name__ == "__main__":
    asyncio.run(main())
