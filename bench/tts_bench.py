"""Sori's Piper vs Python Piper, side by side. Each engine is a fresh process per round (so the
voice load is measured too) that says the text REPEAT times; rounds alternate engines so machine
noise hits both alike. The first repetition of each process is the cold one; the table reports
medians over the warm repetitions (what a running daemon sees) and the load time."""
import json, os, statistics, subprocess, sys, textwrap

SORI, VOICE, OUT = sys.argv[1:4]
REPEAT = int(os.environ.get("REPEAT", "5"))
ROUNDS = int(os.environ.get("ROUNDS", "3"))
TEXTS = {
    "short": "Sure, I set a timer for five minutes.",
    "long": "Here is the weather for today. It will be sunny in the morning, with a light breeze. "
            "Clouds come in after lunch. There is a small chance of rain in the evening. "
            "Tomorrow looks warmer and dry.",
}
KOREAN = "타이머를 오 분으로 맞췄어요. 오늘은 맑고 따뜻해요."

PY = textwrap.dedent("""
    import json, sys, time
    t = time.perf_counter()
    from piper import PiperVoice
    v = PiperVoice.load(sys.argv[1])
    load = (time.perf_counter() - t) * 1000
    for _ in range(int(sys.argv[3])):
        t = time.perf_counter(); first = None; n = 0; rate = v.config.sample_rate
        for chunk in v.synthesize(sys.argv[2]):
            if first is None:
                first = (time.perf_counter() - t) * 1000
            n += len(chunk.audio_int16_array)
        total = (time.perf_counter() - t) * 1000
        audio = n * 1000 / rate
        print(json.dumps({"load_ms": load, "first_audio_ms": first, "total_ms": total, "audio_ms": audio, "rtf": total / audio}))
""")


def run_python(text):
    out = subprocess.run([sys.executable, "-c", PY, VOICE, text, str(REPEAT)], capture_output=True, text=True, check=True)
    return [json.loads(l) for l in out.stdout.splitlines()]


def run_sori(text, lang="en", sori=SORI, extra=()):
    out = subprocess.run([sori, "-q", "say", "--lang", lang, "--output", "/dev/null", "--json", "--repeat", str(REPEAT), *extra, text],
                         capture_output=True, text=True, check=True)
    return [json.loads(l) for l in out.stdout.splitlines()]


def summary(rows):
    warm = rows[1:] or rows
    med = lambda k: statistics.median(r[k] for r in warm)
    return {"load": statistics.median(r["load_ms"] for r in rows[:1]), "first": med("first_audio_ms"),
            "cold_first": rows[0]["first_audio_ms"], "rtf": med("rtf"), "audio": med("audio_ms")}


ENGINES = [("Python Piper", run_python), ("Sori", run_sori),
           # Python Piper keeps ONNX Runtime's working memory between replies; Sori gives it
           # back after each one unless told not to: this row is the same engine without that.
           ("Sori, memory kept between replies", lambda text: run_sori(text, extra=["--set", "tts.release_memory=false"])),
           # The voice's front with its published float weights instead of 8-bit ones.
           ("Sori, float weights", lambda text: run_sori(text, extra=["--set", "tts.quantize=false"]))]
# BASELINE=path/to/an/older/sori adds that build, to compare Sori with itself in the same run.
if os.environ.get("BASELINE"):
    ENGINES.append(("Sori, baseline build", lambda text: run_sori(text, sori=os.environ["BASELINE"])))
results = {}
for rnd in range(ROUNDS):
    for name, text in TEXTS.items():
        for engine, fn in ENGINES:
            print(f"round {rnd + 1}/{ROUNDS}: {engine}, {name}", file=sys.stderr)
            results.setdefault((engine, name), []).append(summary(fn(text)))
print("Sori, Korean (espeak-ng)", file=sys.stderr)
ko = [summary(run_sori(KOREAN, "ko")) for _ in range(ROUNDS)]

lines = ["| reply | engine | voice load ms | first audio ms (cold) | first audio ms (warm) | RTF | audio s |", "|---|---|---|---|---|---|---|"]
med = lambda rs, k: statistics.median(r[k] for r in rs)


def ratio_row(name, label, a, b):
    """A table row of `a`'s medians over `b`'s."""
    cols = " | ".join(f"{med(a, k) / med(b, k):.2f}×" for k in ("load", "cold_first", "first", "rtf"))
    return f"| {name} | **{label}** | {cols} | |"


for name in TEXTS:
    for engine, _ in ENGINES:
        rs = results[(engine, name)]
        lines.append(f"| {name} | {engine} | {med(rs, 'load'):.0f} | {med(rs, 'cold_first'):.0f} | {med(rs, 'first'):.0f} | "
                     f"{med(rs, 'rtf'):.3f} | {med(rs, 'audio') / 1000:.1f} |")
    py, so = results[("Python Piper", name)], results[("Sori", name)]
    lines.append(ratio_row(name, "Sori / Python", so, py))
    lines.append(ratio_row(name, "Sori with memory kept / Python", results[("Sori, memory kept between replies", name)], py))
    lines.append(ratio_row(name, "Sori / Sori with float weights", so, results[("Sori, float weights", name)]))
    if ("Sori, baseline build", name) in results:
        lines.append(ratio_row(name, "Sori / baseline build", so, results[("Sori, baseline build", name)]))
lines.append(f"| Korean, 2 sentences | Sori (espeak-ng ko) | – | {med(ko, 'cold_first'):.0f} | {med(ko, 'first'):.0f} | {med(ko, 'rtf'):.3f} | {med(ko, 'audio') / 1000:.1f} |")
table = "\n".join(lines)
with open(OUT, "w") as f:
    f.write(f"TTS, {ROUNDS} rounds × {REPEAT} repetitions, medians; warm = repetitions after the first in one process.\n\n{table}\n")
