#!/usr/bin/env python3
"""Times hassil's recognize_best on the sentences of CASES.jsonl (from tests/hassil/sample.py):
median of 5 runs per sentence after a warm-up, plus load time and memory of the intents.
Writes {"version", "load_ms", "memory_mb", "us": [...]} to OUT.json."""
import collections
import json
import sys
import time
from pathlib import Path

import hassil
from importlib.metadata import version
from hassil import Intents, recognize_best
from hassil.intents import TextSlotList

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests" / "hassil"))
import sample  # noqa: E402  (its SERVED list and the range-cache fix)


def rss_mb():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096 / 2**20


def main():
    cases_path, out_path = sys.argv[1], sys.argv[2]
    lines = Path(cases_path).read_text().splitlines()
    data_dir = Path(json.loads(lines[0])["data_dir"])
    cases = [json.loads(l) for l in lines[1:]]
    before = rss_mb()
    t = time.perf_counter()
    intents = {}
    for lang in ["en", "ko"]:
        raw = json.loads((data_dir / f"{lang}.json").read_text())
        raw["intents"] = {k: v for k, v in raw["intents"].items() if k in sample.SERVED}
        intents[lang] = Intents.from_dict(raw)
    load_ms = (time.perf_counter() - t) * 1e3
    memory = rss_mb() - before
    worlds = {l: {k: TextSlotList.from_strings(v) for k, v in w.items()} for l, w in sample.WORLD.items()}
    # hassil's own number-word cache is fine for timing (its values are not checked here).
    hassil.string_matcher._RANGE_TRIE_CACHE = collections.defaultdict(dict)
    us = []
    for c in cases:
        lang, text = c["lang"], c["text"]
        recognize_best(text, intents[lang], slot_lists=worlds[lang], language=lang)
        runs = []
        for _ in range(5):
            t = time.perf_counter()
            recognize_best(text, intents[lang], slot_lists=worlds[lang], language=lang)
            runs.append((time.perf_counter() - t) * 1e6)
        us.append(sorted(runs)[2])
    Path(out_path).write_text(json.dumps({"version": version("hassil"), "load_ms": load_ms, "memory_mb": memory, "us": us}))


if __name__ == "__main__":
    main()
