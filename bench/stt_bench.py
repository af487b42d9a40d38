#!/usr/bin/env python3
"""Speech-to-text benchmark: Sori vs whisper.cpp's CLI vs faster-whisper, side by side in one
run on the same clips. Writes a markdown report. Run through bench/stt.sh, which builds and
installs the peers. Stdlib only, except faster-whisper in its own venv (run as a subprocess)."""
import argparse, json, os, re, statistics, subprocess, sys, tempfile, time, wave

DIGITS = "zero one two three four five six seven eight nine".split()
COMMANDS = [
    "what time is it", "set a timer for ten minutes", "play some jazz music",
    "turn the volume down", "what's the weather like tomorrow", "stop the music",
    "send a message to mom", "skip this song", "set an alarm for seven", "how long is left on the timer",
]

def norm(s):
    s = s.lower().replace("%", " percent")
    s = re.sub(r"[^\w\s']", " ", s)
    return " ".join(DIGITS[int(w)] if w.isdigit() and len(w) == 1 else w for w in s.split())

def edit(r, h):
    """Levenshtein distance between two sequences (words or characters)."""
    prev = list(range(len(h) + 1))
    for i, x in enumerate(r):
        cur = [i + 1] + [0] * len(h)
        for j, y in enumerate(h):
            cur[j + 1] = min(prev[j] + (x != y), prev[j + 1] + 1, cur[j] + 1)
        prev = cur
    return prev[-1]

def wer(ref, hyp):
    r, h = norm(ref).split(), norm(hyp).split()
    return edit(r, h), max(len(r), 1)

def cer(ref, hyp):
    r, h = (re.sub(r"[^\w]", "", x) for x in (ref, hyp))
    return edit(r, h), max(len(r), 1)

def duration(path):
    with wave.open(path) as w:
        return w.getnframes() / w.getframerate()

def clips(eval_dir, tmp):
    rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(eval_dir, "manifest.tsv"), encoding="utf-8")][1:]
    out = []
    digits = [r for r in rows if r[3] == "command"]
    for r in [d for d in digits if re.search(r"_(george|jackson)_0\.wav$", d[0])]:
        out.append(("digits (0.3-0.8 s)", os.path.join(eval_dir, r[0]), "en", r[2]))
    for i, text in enumerate(COMMANDS):
        p = os.path.join(tmp, f"cmd{i}.wav")
        subprocess.run(["espeak-ng", "-v", "en-us", "-s", "130", "-w", p, text], check=True)
        out.append(("commands 1-4 s (espeak-ng)", p, "en", text))
    for r in rows:
        if r[3] != "sentence" or r[1] not in ("en", "ko") or "_norm" in r[0] or "porcupine" in r[0] or "peppa" in r[0]:
            continue
        p = os.path.join(eval_dir, r[0])
        d = duration(p)
        if r[1] == "ko":
            out.append(("Korean sentence (3.9 s)", p, "ko", r[2]))
        elif d <= 4.0:
            out.append(("commands 1-4 s (real speech)", p, "en", r[2]))
        elif r[0].startswith("audio/ljspeech") and int(r[0][-8:-4]) > 16:
            continue  # keep the run short: the first 16 LJ Speech sentences are plenty
        else:
            out.append(("sentences 4-11 s (real speech)", p, "en", r[2]))
    return out

def timed_rss(cmd, **kw):
    """Runs cmd under /usr/bin/time; returns (stdout, stderr, peak RSS MB)."""
    p = subprocess.run(["/usr/bin/time", "-f", "MAXRSS %M"] + cmd, capture_output=True, text=True, **kw)
    if p.returncode != 0:
        sys.exit(f"{cmd[0]} failed:\n{p.stderr[-2000:]}")
    rss = int(re.findall(r"MAXRSS (\d+)", p.stderr)[-1]) / 1024
    return p.stdout, p.stderr, rss

def run_sori(sori, clips, window, threads):
    res, rss, load = {}, 0, 0
    for lang in ("en", "ko"):
        files = [c[1] for c in clips if c[2] == lang]
        out, err, r = timed_rss([sori, "transcribe", "--json", "--lang", lang, "--set", f"stt.window=\"{window}\"",
                                 "--set", f"stt.threads={threads}"] + files)
        rss = max(rss, r)
        load = max(load, int(re.search(r"load_ms\W+(\d+)", err).group(1)))
        for f, line in zip(files, out.strip().splitlines()):
            j = json.loads(line)
            res[f] = (j["text"], j["stt_ms"])
    return res, rss, load

def run_cli(cli, model, clips, extra, threads):
    res, rss = {}, 0
    for _, f, lang, _ in clips:
        out, err, r = timed_rss([cli, "-m", model, "-f", f, "-l", lang, "-t", str(threads), "-nt"] + extra)
        rss = max(rss, r)
        total = float(re.search(r"total time =\s+([\d.]+) ms", err).group(1))
        load = float(re.search(r"load time =\s+([\d.]+) ms", err).group(1))
        res[f] = (" ".join(out.split()), total - load)
    return res, rss, load

FW = r"""
import json, sys, time
from faster_whisper import WhisperModel
t = time.time()
m = WhisperModel(sys.argv[1], device="cpu", compute_type="int8", cpu_threads=int(sys.argv[2]))
load = (time.time() - t) * 1000
out = {"load_ms": load, "clips": {}}
for f, lang in json.loads(sys.argv[3]):
    t = time.time()
    segs, info = m.transcribe(f, language=lang, beam_size=1)
    text = " ".join(s.text.strip() for s in segs)
    out["clips"][f] = (text, (time.time() - t) * 1000)
print(json.dumps(out))
"""

def run_fw(python, model_dir, clips, threads):
    out, _, rss = timed_rss([python, "-c", FW, model_dir, str(threads), json.dumps([(c[1], c[2]) for c in clips])])
    j = json.loads(out)
    return {k: tuple(v) for k, v in j["clips"].items()}, rss, j["load_ms"]

def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--eval", required=True); ap.add_argument("--sori", required=True)
    ap.add_argument("--cli", required=True); ap.add_argument("--ggml", required=True)
    ap.add_argument("--fw-python", required=True); ap.add_argument("--ct2", required=True)
    ap.add_argument("--threads", type=int, default=2); ap.add_argument("--out", required=True)
    a = ap.parse_args()
    tmp = tempfile.mkdtemp()
    cs = clips(a.eval, tmp)
    engines = []
    def add(name, fn):
        print(f"running {name} …", file=sys.stderr, flush=True)
        t = time.time(); r = fn(); engines.append((name, *r)); print(f"  {time.time()-t:.0f} s", file=sys.stderr)
    add("Sori (whisper-rs, base q8_0, adaptive window)", lambda: run_sori(a.sori, cs, "auto", a.threads))
    add("Sori, full 30 s window", lambda: run_sori(a.sori, cs, "full", a.threads))
    add("whisper.cpp CLI, base q8_0, 30 s window", lambda: run_cli(a.cli, a.ggml, cs, [], a.threads))
    add("whisper.cpp CLI, base q8_0, -ac 512", lambda: run_cli(a.cli, a.ggml, cs, ["-ac", "512"], a.threads))
    add("faster-whisper base int8, beam 1", lambda: run_fw(a.fw_python, a.ct2, cs, a.threads))
    cats = list(dict.fromkeys(c[0] for c in cs))
    lines = []
    hdr = "| engine | " + " | ".join(f"{c}: ms / {'CER' if 'Korean' in c else 'WER'}" for c in cats) + " | runaways | load ms | peak RSS MB |"
    lines += [hdr, "|" + "---|" * (hdr.count("|") - 1)]
    fw_name = engines[-1][0]
    means = {}
    for name, res, rss, load in engines:
        cells, runaway = [], 0
        for cat in cats:
            cc = [c for c in cs if c[0] == cat]
            ms = statistics.mean(res[c[1]][1] for c in cc)
            means[(name, cat)] = ms
            errs = [(cer if c[2] == "ko" else wer)(c[3], res[c[1]][0]) for c in cc]
            rate = sum(e for e, _ in errs) / sum(n for _, n in errs)
            cells.append(f"{ms:.0f} / {rate*100:.1f} %")
        for c in cs:
            words = res[c[1]][0].split()
            if len(words) > 3 * len(c[3].split()) + 8:
                runaway += 1
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {runaway} | {load:.0f} | {rss:.0f} |")
    lines.append("")
    lines.append("Ratios (mean time per clip against faster-whisper in the same run):")
    lines.append("")
    for name, *_ in engines[:-1]:
        lines.append(f"- {name}: " + ", ".join(f"{cat} {means[(name, cat)] / means[(fw_name, cat)]:.2f}×" for cat in cats))
    lines.append("")
    lines.append("Transcripts (Sori adaptive / faster-whisper) where either differs from the reference:")
    lines.append("")
    for c in cs:
        s, f = engines[0][1][c[1]][0], engines[-1][1][c[1]][0]
        if norm(s) != norm(c[3]) or norm(f) != norm(c[3]):
            lines.append(f"- `{os.path.basename(c[1])}` ref: {c[3]!r} — Sori: {s!r} — faster-whisper: {f!r}")
    open(a.out, "w").write("\n".join(lines) + "\n")
    print("\n".join(lines))

main()
