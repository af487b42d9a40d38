"""End of speech → first reply audio through `sori run` (driven by bench/loop.sh).

Each run is a real "hey jarvis" recording from ../shared/eval, a pause, then a spoken command
that the built-in skills answer (synthesized: the eval set has no recordings of such commands),
then silence; `sori run --input` plays it in real time as if from the microphone. The true end
of speech is the last sample above the noise floor; the events give every stage. Configurations
run alternately so machine noise hits them alike."""
import json, os, statistics, subprocess, sys, tempfile, time, wave
import numpy as np
from scipy.signal import resample_poly

EVAL, OUT = sys.argv[1], sys.argv[2]
ROUNDS = int(os.environ.get("ROUNDS", "2"))
SORI = "target/release/sori"
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(EVAL, "manifest.tsv"))][1:]
# The two "hey jarvis" recordings that hold only the phrase (the others run on into a second
# sound or are cut off mid-word, which the loop rightly takes as the start of the command).
jarvis = [os.path.join(EVAL, r[0]) for r in rows if r[3] == "wake_positive" and r[2] == "hey jarvis" and "pymicro_hey_jarvis_" in r[0]][:2]
# NOISE_DB=-50 adds white noise at that RMS level (dBFS) to the whole stream: a room is not
# digitally silent between words, as the synthesized commands are.
NOISE_DB = float(os.environ["NOISE_DB"]) if os.environ.get("NOISE_DB") else None
COMMANDS = ["what time is it", "what's the date today", "what can you do", "how are you"]
CONFIGS = {
    "as shipped (whisper base, language detected)": (SORI, []),
    "whisper base, `stt.language = \"en\"`": (SORI, ["--set", "stt.language=en"]),
    "whisper tiny.en": (SORI, ["--set", "stt.model=tiny.en"]),
    "Piper voice with float weights (`tts.quantize = false`)": (SORI, ["--set", "tts.quantize=false"]),
    "voice memory kept between replies (`tts.release_memory = false`)": (SORI, ["--set", "tts.release_memory=false"]),
}
# BASELINE=path/to/an/older/sori adds that build, as shipped, to compare in the same run
# (several builds: paths separated by ':').
for i, b in enumerate(filter(None, os.environ.get("BASELINE", "").split(":"))):
    CONFIGS[f"baseline build{' ' + str(i + 1) if ':' in os.environ['BASELINE'] else ''} ({os.path.basename(b)}), as shipped"] = (b, [])
# The Python reference pipeline (bench/py_pipeline.py) in the same run, unless PY=0.
PY_CMD = None
if os.environ.get("PY", "1") != "0":
    PY_CMD = [os.environ["PY_PYTHON"], "bench/py_pipeline.py"]
    CONFIGS["Python reference (openWakeWord → Silero 600 ms → faster-whisper base int8 → hassil → Piper)"] = (None, [])
# ONLY=shipped (a substring of a configuration's name; several: ONLY='shipped|Python') runs just
# the matching ones.
if os.environ.get("ONLY"):
    CONFIGS = {k: v for k, v in CONFIGS.items() if any(o in k for o in os.environ["ONLY"].split("|"))}
tmp = tempfile.mkdtemp()


def memory_of(cmd, events):
    """Runs `cmd`; its peak RSS (VmHWM) and its RSS half a second after the run ended (the
    `RunEnd` event), when the daemon is back to listening, in KB."""
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    peak, samples = 0, []
    while p.poll() is None:
        try:
            status = open(f"/proc/{p.pid}/status").read()
            kb = lambda k: int(status.split(k + ":")[1].split()[0])
            peak = kb("VmHWM")
            samples.append((time.time() * 1000, kb("VmRSS")))
        except (OSError, IndexError):
            pass
        time.sleep(0.02)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed with {p.returncode}")
    ends = [e["unix_ms"] for e in map(json.loads, open(events)) if e["type"] == "RunEnd"]
    after = [kb for t, kb in samples if ends and t >= ends[0] + 500]
    return peak, after[0] if after else float("nan")


def load(f):
    w = wave.open(f)
    a = np.frombuffer(w.readframes(w.getnframes()), dtype=np.int16).astype(np.float32)
    if w.getframerate() != 16000:
        a = resample_poly(a, 16000, w.getframerate())
    return a


def voices(text, i):
    """The command in two voices: Sori's Piper voice and espeak-ng."""
    p, e = os.path.join(tmp, f"p{i}.wav"), os.path.join(tmp, f"e{i}.wav")
    subprocess.run([SORI, "-q", "say", "--lang", "en", "--output", p, text], check=True)
    subprocess.run(["espeak-ng", "-v", "en-us", "-w", e, text], check=True)
    return [("piper", load(p)), ("espeak-ng", load(e))]


clips = []
for i, c in enumerate(COMMANDS):
    for voice, a in voices(c, i):
        hey = load(jarvis[i % len(jarvis)])
        # 1.5 s of quiet first: the wake word model needs about a second of audio before the
        # phrase (a speaker has been listening long before anyone talks to it).
        s = np.concatenate([np.zeros(24000), hey, np.zeros(11200), a, np.zeros(48000)])
        if NOISE_DB is not None:
            s += np.random.default_rng(len(clips)).normal(0, 32768 * 10 ** (NOISE_DB / 20), len(s))
        s = np.clip(s, -32768, 32767).astype(np.int16)
        loud = np.nonzero(np.abs(a) > 300)[0]
        true_end = (24000 + len(hey) + 11200 + loud[-1]) / 16  # ms into the file
        f = os.path.join(tmp, f"run{len(clips)}.wav")
        with wave.open(f, "wb") as w:
            w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(s.tobytes())
        clips.append((c, voice, f, true_end))

results = {k: [] for k in CONFIGS}
for rnd in range(ROUNDS):
    for c, voice, f, true_end in clips:
        reply = "Okay."  # what Sori said to this command last, for the Python pipeline to say
        for name, (sori, extra) in CONFIGS.items():
            print(f"round {rnd + 1}/{ROUNDS}: {name}: {voice} \"{c}\"", file=sys.stderr)
            ev = os.path.join(tmp, "ev.jsonl")
            if sori is None:
                cmd = PY_CMD + [f, ev, "models", os.environ["PY_CT2"], reply]
            else:
                cmd = [sori, "-q", "run", "--input", f, "--events", ev, "--set", "audio.output=null"] + extra
            rss, rest = memory_of(cmd, ev)
            e = [json.loads(l) for l in open(ev)]
            g = lambda k: next((x for x in e if x["type"] == k), None)
            if sori is not None and g("SkillEnd") and g("SkillEnd").get("speech"):
                reply = g("SkillEnd")["speech"]
            se, stt, intent, tts = g("SpeechEnd"), g("SttEnd"), g("IntentEnd"), g("TtsStart")
            if not (se and stt and tts and intent):
                results[name].append({"ok": False, "rss": rss, "rest": rest, "heard": stt["text"] if stt else ""})
                continue
            # Wall clock of the true end of speech: SpeechEnd's wall time minus the audio after it.
            wall_end = se["time_ms"] - (se["audio_ms"] - true_end)
            results[name].append({
                "ok": intent.get("intent") not in (None, "", "none"), "rss": rss, "rest": rest, "heard": stt["text"],
                "endpoint": se["audio_ms"] - true_end, "early": se["reason"] == "early",
                "stt": stt["time_ms"] - wall_end, "tts": tts["time_ms"] - stt["time_ms"],
                "total": tts["time_ms"] - wall_end, "command": c, "voice": voice,
            })

lines = ["| configuration | answered | answered early | true end of speech → `SpeechEnd` | → transcript | transcript → first reply audio | **end of speech → first reply audio** (median) | p90 | peak RSS, whole daemon | RSS 0.5 s after the reply |",
         "|---|---|---|---|---|---|---|---|---|---|"]
for name, rs in results.items():
    ok = [r for r in rs if r["ok"]]
    med = lambda k: statistics.median(r[k] for r in ok) if ok else float("nan")
    p90 = sorted(r["total"] for r in ok)[int(0.9 * (len(ok) - 1))] if ok else float("nan")
    lines.append(f"| {name} | {len(ok)}/{len(rs)} | {sum(r['early'] for r in ok)}/{len(ok)} | {med('endpoint'):.0f} ms | {med('stt'):.0f} ms | "
                 f"{med('tts'):.0f} ms | **{med('total'):.0f} ms** | {p90:.0f} ms | {max(r['rss'] for r in rs) / 1024:.0f} MB | {statistics.median(r['rest'] for r in rs) / 1024:.0f} MB |")
    for r in rs:
        if not r["ok"]:
            lines.append(f"|  ↳ not answered: heard {r['heard']!r} | | | | | | | | | |")
# The endpoint proper (the target: trailing silence + 100 ms) is only seen where the
# silence ended the command, not an early answer.
for name, rs in results.items():
    waited = [r["endpoint"] for r in rs if r["ok"] and not r["early"]]
    if waited:
        lines.append(f"\n{name}: ended by the trailing silence in {len(waited)} runs, true end of speech → `SpeechEnd` median {statistics.median(waited):.0f} ms")
# A daemon answers command after command: its peak is over all of them, not over one run. All
# the clips back to back in one process per build (the wake word model misses some phrases
# after long digital silence, so fewer than all may be answered).
together = os.path.join(tmp, "all.wav")
with wave.open(together, "wb") as w:
    w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000)
    for _, _, f, _ in clips:
        r = wave.open(f)
        w.writeframes(r.readframes(r.getnframes()))
lines += ["", f"All {len(clips)} clips back to back in one `sori run --input` ({len(clips)} wake words and commands in one process):", "",
          "| configuration | answered | peak RSS, whole daemon | RSS 0.5 s after the first reply |", "|---|---|---|---|"]
for name, (sori, extra) in CONFIGS.items():
    if sori is None:
        continue
    print(f"all clips in one run: {name}", file=sys.stderr)
    ev = os.path.join(tmp, "ev-all.jsonl")
    rss, rest = memory_of([sori, "-q", "run", "--input", together, "--events", ev, "--set", "audio.output=null"] + extra, ev)
    answered = sum(1 for l in open(ev) if '"RunEnd"' in l and '"answered"' in l)
    lines.append(f"| {name} | {answered}/{len(clips)} | {rss / 1024:.0f} MB | {rest / 1024:.0f} MB |")
table = "\n".join(lines)
# Every run, for a closer look than the medians.
json.dump(results, open(os.path.splitext(OUT)[0] + ".json", "w"), indent=1)
open(OUT, "w").write(f"Loop: {len(clips)} spoken commands × {ROUNDS} rounds per configuration, `sori run --input` in real time, reply by the default voices.\n\n{table}\n")
print(table)
