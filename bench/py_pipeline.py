"""The issue's Python reference pipeline, for bench/loop.sh to run side by side with Sori:
openWakeWord (hey_jarvis) → Silero VAD (600 ms of trailing silence) → faster-whisper base int8
(beam 1, language fixed to English) → hassil (Home Assistant's English intents, plus the two
chat intents Sori has that Home Assistant has not) → Piper (the same voice as Sori's).

It plays a WAV in real time as `sori run --input` does, one 80 ms chunk as soon as it would have
been captured, runs each stage after the one before as a Home Assistant pipeline does, and
writes the events loop_bench.py reads from Sori (same names and fields).
    py_pipeline.py INPUT.wav EVENTS.jsonl MODELS_DIR CT2_DIR [REPLY]
REPLY is what to say when an intent matched (bench/loop_bench.py passes the reply Sori gave
to the same command in the same round, so both voices speak the same text)."""
import json, sys, time, wave

import numpy as np
import onnxruntime as ort

WAV, EVENTS, MODELS, CT2 = sys.argv[1:5]
REPLY = sys.argv[5] if len(sys.argv) > 5 else "Okay."
CHUNK = 1280  # openWakeWord's 80 ms
VAD_CHUNK, VAD_CONTEXT = 512, 64
SILENCE = 0.6  # the "Silero 600 ms"
out = open(EVENTS, "w")
t0 = None


def event(kind, **fields):
    now = time.monotonic()
    fields.update(type=kind, time_ms=(now - t0) * 1000 if t0 else 0.0, unix_ms=time.time() * 1000)
    out.write(json.dumps(fields) + "\n")
    out.flush()


# --- load (not timed by the bench; Home Assistant keeps all of these loaded) ---
from openwakeword.model import Model
from faster_whisper import WhisperModel
from hassil import Intents, recognize_best
import home_assistant_intents
from pathlib import Path
from piper import PiperVoice

wake = Model(wakeword_model_paths=[f"{MODELS}/openwakeword/hey_jarvis_v0.1.onnx"])
opts = ort.SessionOptions()
opts.intra_op_num_threads = opts.inter_op_num_threads = 1
silero = ort.InferenceSession(f"{MODELS}/silero/silero_vad.onnx", opts, providers=["CPUExecutionProvider"])
whisper = WhisperModel(CT2, device="cpu", compute_type="int8", cpu_threads=2)
raw = json.loads((Path(home_assistant_intents.__file__).parent / "data" / "en.json").read_text())
raw["intents"]["SoriHelp"] = {"data": [{"sentences": ["what can you do", "help"]}]}
raw["intents"]["SoriHowAreYou"] = {"data": [{"sentences": ["how are you [doing]"]}]}
intents = Intents.from_dict(raw)
# Entity names Home Assistant would fill in at run time (the same as tests/hassil/sample.py's).
from hassil.intents import TextSlotList
world = {k: TextSlotList.from_strings(v) for k, v in
         {"area": ["kitchen", "living room"], "name": ["radio", "kitchen speaker"], "floor": ["upstairs"]}.items()}
voice = PiperVoice.load(f"{MODELS}/piper/en_US-joe-medium.onnx")
# One warm-up of each stage, as Sori warms whisper at load (hassil builds caches on its first
# sentence: 200-330 ms here).
list(whisper.transcribe(np.zeros(16000, np.float32), language="en", beam_size=1)[0])
list(voice.synthesize("Hello."))
recognize_best("turn on the kitchen light", intents, slot_lists=world, language="en")


class Vad:
    def __init__(self):
        self.state = np.zeros((2, 1, 128), np.float32)
        self.context = np.zeros(VAD_CONTEXT, np.float32)
        self.pending = np.zeros(0, np.float32)
        self.sr = np.array(16000, np.int64)

    def probs(self, chunk):
        self.pending = np.concatenate([self.pending, chunk.astype(np.float32) / 32768])
        while len(self.pending) >= VAD_CHUNK:
            x, self.pending = self.pending[:VAD_CHUNK], self.pending[VAD_CHUNK:]
            inp = np.concatenate([self.context, x])[None, :]
            p, self.state = silero.run(None, {"input": inp, "state": self.state, "sr": self.sr})
            self.context = x[-VAD_CONTEXT:]
            yield float(p[0][0])


w = wave.open(WAV)
assert w.getframerate() == 16000 and w.getnchannels() == 1
audio = np.frombuffer(w.readframes(w.getnframes()), np.int16)
t0 = time.monotonic()
event("RunStart")
mode, command, vad, heard, silence = "wake", [], None, False, 0
for i in range(len(audio) // CHUNK):
    due = t0 + (i + 1) * CHUNK / 16000
    if (wait := due - time.monotonic()) > 0:
        time.sleep(wait)
    chunk = audio[i * CHUNK:(i + 1) * CHUNK]
    if mode == "wake":
        if wake.predict(chunk)["hey_jarvis_v0.1"] >= 0.5:
            event("WakeDetected", audio_ms=(i + 1) * 80)
            mode, command, vad, heard, silence = "listen", [], Vad(), False, 0
        continue
    command.append(chunk)
    for p in vad.probs(chunk):
        if p >= 0.5:
            heard, silence = True, 0
        elif heard:
            silence += VAD_CHUNK
    if not (heard and silence >= SILENCE * 16000):
        continue
    event("SpeechEnd", audio_ms=(i + 1) * 80, reason="silence")
    segments, _ = whisper.transcribe(np.concatenate(command).astype(np.float32) / 32768, language="en", beam_size=1)
    text = " ".join(s.text.strip() for s in segments).strip()
    event("SttEnd", text=text)
    result = recognize_best(text, intents, slot_lists=world, language="en")
    event("IntentEnd", intent=result.intent.name if result else "none")
    first = True
    for _ in voice.synthesize(REPLY if result else "Sorry, I couldn't understand that."):
        if first:
            event("TtsStart")
            first = False
    event("RunEnd")
    wake.reset()
    mode = "wake"
time.sleep(0.7)  # so the bench reads the memory held back at rest, as it does for Sori
