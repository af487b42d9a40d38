"""Local vs remote speech to text in the loop (driven by bench/wyoming.sh). Each spoken command
(real "hey jarvis" + a real command from ../shared/eval) runs through `sori run --input` in real
time twice: with the local whisper, and with `stt.remote` pointing at a Wyoming server on
loopback (the reference library's, tests/servers/wyoming_asr.py) that answers at once with the
words the local run heard. The remote's STT time is then the protocol's whole cost: connecting,
streaming the command's audio and reading the transcript."""
import json, os, socket, statistics, subprocess, sys, tempfile, time, wave

EVAL, OUT = sys.argv[1], sys.argv[2]
SORI = "target/release/sori"
rows = [l.rstrip("\n").split("\t") for l in open(os.path.join(EVAL, "manifest.tsv"))][1:]
path = lambda r: os.path.join(EVAL, r[0])
hey = next(path(r) for r in rows if r[3] == "wake_positive" and r[2] == "hey jarvis")
cmds = [path(r) for r in rows if r[3] == "command" and r[1] == "en"][:6] + \
       [path(r) for r in rows if r[3] == "sentence" and r[1] == "en"][:2]


def frames(f):
    w = wave.open(f)
    assert w.getframerate() == 16000 and w.getnchannels() == 1 and w.getsampwidth() == 2, f
    return w.readframes(w.getnframes())


def last_loud(pcm):
    """Sample index of the last sample above 500 (the true end of speech)."""
    import array
    a = array.array("h", pcm)
    for i in range(len(a) - 1, -1, -1):
        if abs(a[i]) > 500:
            return i
    return 0


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def run(wav, extra, true_end):
    ev = wav + ".jsonl"
    subprocess.run([SORI, "run", "--input", wav, "--events", ev, "--set", "audio.output=\"null\"",
                    "--set", "stt.language=\"en\"", "--set", "api.enabled=false"] + extra,
                   check=True, capture_output=True)
    e = [json.loads(l) for l in open(ev)]
    g = lambda k: next((x for x in e if x["type"] == k), None)
    if not (g("SpeechEnd") and g("SttEnd") and g("TtsStart")):
        return None
    se = g("SpeechEnd")
    wall_end = se["time_ms"] - (se["audio_ms"] - true_end)
    return {"text": g("SttEnd")["text"], "stt_ms": g("SttEnd")["stt_ms"],
            "total": g("TtsStart")["time_ms"] - wall_end}


tmp = tempfile.mkdtemp()
sil = lambda ms: b"\0\0" * (16 * ms)
local, remote = [], []
for i, c in enumerate(cmds):
    cmd = frames(c)
    pcm = sil(500) + frames(hey) + sil(400) + cmd + sil(2500)
    true_end = (len(sil(500) + frames(hey) + sil(400)) // 2 + last_loud(cmd)) / 16
    wav = os.path.join(tmp, f"u{i}.wav")
    with wave.open(wav, "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(pcm)
    print(f"command {i + 1}/{len(cmds)}: local …", file=sys.stderr)
    l = run(wav, [], true_end)
    if not l:
        continue
    port = free_port()
    server = subprocess.Popen([sys.executable, "tests/servers/wyoming_asr.py",
                               "--uri", f"tcp://127.0.0.1:{port}", "--text", l["text"]])
    for _ in range(100):
        try:
            socket.create_connection(("127.0.0.1", port), 0.1).close()
            break
        except OSError:
            time.sleep(0.1)
    print(f"command {i + 1}/{len(cmds)}: remote …", file=sys.stderr)
    r = run(wav, ["--set", f"stt.remote=\"tcp://127.0.0.1:{port}\""], true_end)
    server.kill()
    if r and r["text"] == l["text"]:
        local.append(l)
        remote.append(r)

med = lambda xs, k: statistics.median(x[k] for x in xs)
lines = ["## Wyoming: local vs remote speech to text", "",
         f"{len(local)}/{len(cmds)} spoken commands answered in both runs (real \"hey jarvis\" + real commands and "
         "sentences, `sori run --input` in real time, `stt.language=en`). The remote is the reference "
         "library's server on loopback answering at once with the local run's words, so its STT time is "
         "the protocol's whole cost (connect, stream the audio in 64 ms chunks, read the transcript). "
         "Medians, ms.", "",
         "| speech to text | STT time | end of speech → first reply audio |", "|---|---|---|",
         f"| local whisper base | {med(local, 'stt_ms'):.0f} | {med(local, 'total'):.0f} |",
         f"| Wyoming server on loopback (no engine time) | **{med(remote, 'stt_ms'):.0f}** | {med(remote, 'total'):.0f} |", "",
         f"Protocol overhead: **{med(remote, 'stt_ms'):.0f} ms** per command (target ≤30 ms). A real "
         "remote engine adds its own time on top (e.g. faster-whisper on the server's CPU or GPU).", ""]
open(OUT, "w").write("\n".join(lines) + "\n")
print("\n".join(lines))
