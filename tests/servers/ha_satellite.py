"""Drives a Wyoming satellite the way Home Assistant's Wyoming integration does, with the
reference `wyoming` library: describe → info, run-satellite, ping/pong, then for one command
the satellite starts (detection, run-pipeline, audio) it answers with transcribe, voice
events, the transcript, synthesize and the reply's audio, and waits for `played`. Then a
timer (started and finished), an announcement (audio outside a pipeline → `played`), and
pause-satellite before it disconnects.

Every step is printed as one JSON line on stdout for the test to follow; `--step` lines on
stdin ("go") pace the parts that need the test to act (speaking into the microphone).
"""

import argparse
import asyncio
import json
import sys
import wave

from wyoming.asr import Transcribe, Transcript
from wyoming.audio import AudioChunk, AudioStart, AudioStop
from wyoming.client import AsyncTcpClient
from wyoming.info import Describe, Info
from wyoming.ping import Ping, Pong
from wyoming.pipeline import RunPipeline
from wyoming.satellite import PauseSatellite, RunSatellite
from wyoming.snd import Played
from wyoming.timer import TimerFinished, TimerStarted
from wyoming.tts import Synthesize, SynthesizeVoice
from wyoming.vad import VoiceStarted, VoiceStopped
from wyoming.wake import Detection


def say(**kw):
    print(json.dumps(kw), flush=True)


async def read_until(client, is_type, timeout, seen=None):
    """Reads events until one of the wanted type; others are reported in `seen`."""
    async with asyncio.timeout(timeout):
        while True:
            event = await client.read_event()
            if event is None:
                raise ConnectionError("the satellite closed the connection")
            if is_type(event.type):
                return event
            if seen is not None:
                seen.append(event)


async def send_wav(client, path):
    with wave.open(path, "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        audio = w.readframes(w.getnframes())
    await client.write_event(AudioStart(rate=rate, width=width, channels=channels).event())
    step = 1024 * width * channels
    for i in range(0, len(audio), step):
        chunk = AudioChunk(rate=rate, width=width, channels=channels, audio=audio[i : i + step])
        await client.write_event(chunk.event())
    await client.write_event(AudioStop().event())


async def main():
    p = argparse.ArgumentParser()
    p.add_argument("--uri", required=True)
    p.add_argument("--transcript", required=True, help="what Home Assistant 'heard'")
    p.add_argument("--reply-text", required=True)
    p.add_argument("--reply-wav", required=True)
    p.add_argument("--command-out", required=True, help="WAV of the audio the satellite sent")
    a = p.parse_args()

    host, port = a.uri.removeprefix("tcp://").rsplit(":", 1)
    client = AsyncTcpClient(host, int(port))
    await client.connect()

    await client.write_event(Describe().event())
    info = Info.from_event(await read_until(client, Info.is_type, 10))
    say(step="info", info=info.event().data)

    await client.write_event(RunSatellite().event())
    await client.write_event(Ping(text="hello").event())
    pong = Pong.from_event(await read_until(client, Pong.is_type, 10))
    say(step="ready", pong=pong.text)

    # The command: the satellite's wake word, its pipeline request and the audio.
    seen = []
    run = RunPipeline.from_event(await read_until(client, RunPipeline.is_type, 120, seen))
    detection = next((Detection.from_event(e) for e in seen if Detection.is_type(e.type)), None)
    audio = bytearray()
    rate = 16000
    while True:
        event = await read_until(client, lambda t: True, 30)
        if AudioChunk.is_type(event.type):
            chunk = AudioChunk.from_event(event)
            rate = chunk.rate
            audio += chunk.audio
        elif AudioStop.is_type(event.type):
            break
    with wave.open(a.command_out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(audio))
    say(
        step="command",
        detection=detection.name if detection else None,
        start_stage=run.start_stage.value,
        end_stage=run.end_stage.value,
        wake_word_name=run.wake_word_name,
        seconds=len(audio) / 2 / rate,
        rate=rate,
    )

    # What Home Assistant's pipeline sends back, in its order.
    await client.write_event(Transcribe(language="en").event())
    await client.write_event(VoiceStarted(timestamp=0).event())
    await client.write_event(VoiceStopped(timestamp=1000).event())
    await client.write_event(Transcript(text=a.transcript).event())
    voice = SynthesizeVoice(name="en_US-joe-medium", language="en_US")
    await client.write_event(Synthesize(text=a.reply_text, voice=voice).event())
    await send_wav(client, a.reply_wav)
    await read_until(client, Played.is_type, 60)
    say(step="played")

    # A timer set through Home Assistant rings on the satellite.
    await client.write_event(
        TimerStarted(id="t1", total_seconds=1, name="tea", start_seconds=1).event()
    )
    await client.write_event(TimerFinished(id="t1").event())
    say(step="timer")

    # An announcement: audio outside a pipeline, acknowledged with `played`.
    await asyncio.sleep(0.5)
    await send_wav(client, a.reply_wav)
    await read_until(client, Played.is_type, 90)
    say(step="announced")

    # The mute switch: paused (muted) while connected, then Home Assistant goes away.
    await client.write_event(PauseSatellite().event())
    say(step="paused")
    line = await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    await client.disconnect()
    say(step="disconnected", after=line.strip())


asyncio.run(main())
