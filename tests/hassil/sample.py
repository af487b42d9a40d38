#!/usr/bin/env python3
"""Differential test data: samples sentences from Home Assistant's intent data for the intents
Sori serves and recognises them with hassil itself (the reference implementation), with
`recognize_best`, which is what Home Assistant uses.

Prints one JSON object per line: {"lang", "text", "intent", "slots"}; the first line is
{"data_dir": ...}, where home-assistant-intents keeps its JSON files.
"""
import collections
import itertools
import json
import random
import sys
from pathlib import Path

import home_assistant_intents
from hassil import Intents, recognize_best
from hassil.expression import Sentence
from hassil.intents import RangeSlotList, TextSlotList, WildcardSlotList
from hassil.sample import sample_expression
from hassil import string_matcher


class _NoCache(dict):
    """hassil caches number-word tries by (start, stop, step) and forgets the multiplier, so
    "nine" can come out as -9 when a list with multiplier -1 (volume_step_down) was built
    first. Not caching gives the values hassil means."""

    def __setitem__(self, key, value):
        pass


string_matcher._RANGE_TRIE_CACHE = collections.defaultdict(_NoCache)

# The intents Sori's skills serve (now or in the skill issues), by Home Assistant's names.
SERVED = [
    "HassGetCurrentTime", "HassGetCurrentDate", "HassNevermind",
    "HassStartTimer", "HassCancelTimer", "HassCancelAllTimers", "HassTimerStatus",
    "HassIncreaseTimer", "HassDecreaseTimer", "HassPauseTimer", "HassUnpauseTimer",
    "HassGetWeather", "HassMediaPause", "HassMediaUnpause", "HassMediaNext", "HassMediaPrevious",
    "HassMediaSearchAndPlay", "HassSetVolume", "HassSetVolumeRelative",
    "HassMediaPlayerMute", "HassMediaPlayerUnmute",
]

# The fake world: entity lists Home Assistant would fill at run time. The Rust side uses the
# same (tests/hassil.rs).
WORLD = {
    "en": {"area": ["kitchen", "living room"], "name": ["radio", "kitchen speaker"], "floor": ["upstairs"]},
    "ko": {"area": ["주방", "거실"], "name": ["라디오", "주방 스피커"], "floor": ["이층"]},
}
# Words to put where a wildcard is, for sampling only (recognition keeps the wildcard).
WILDCARD_SAMPLES = {
    "en": ["jazz", "the beatles", "pasta", "milk"],
    "ko": ["재즈", "아이유", "라면", "우유"],
}
PER_TEMPLATE = 3
PER_INTENT = 40


def main():
    seed = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    rng = random.Random(seed)
    data_dir = Path(home_assistant_intents.__file__).parent / "data"
    print(json.dumps({"data_dir": str(data_dir)}))
    for lang in ["en", "ko"]:
        raw = json.loads((data_dir / f"{lang}.json").read_text())
        raw["intents"] = {k: v for k, v in raw["intents"].items() if k in SERVED}
        intents = Intents.from_dict(raw)
        world = {k: TextSlotList.from_strings(v) for k, v in WORLD[lang].items()}
        # For sampling: wildcards get example words, ranges one random number (as digits and words).
        sampling = dict(world)
        for name, lst in intents.slot_lists.items():
            if isinstance(lst, WildcardSlotList):
                sampling[name] = TextSlotList.from_strings(WILDCARD_SAMPLES[lang])
            elif isinstance(lst, RangeSlotList):
                n = rng.randrange(lst.start, lst.stop + 1, lst.step)
                n -= (n - lst.start) % lst.step
                sampling[name] = RangeSlotList(name=name, start=n, stop=n, step=1, words=lst.words,
                                               multiplier=lst.multiplier, digits=lst.digits)
        for intent_name, intent in intents.intents.items():
            texts = []
            for data in intent.data:
                rules = {**intents.expansion_rules, **data.expansion_rules}
                lists = {**sampling, **{k: v for k, v in data.slot_lists.items()}}
                for sentence in data.sentences:
                    try:
                        found = list(itertools.islice(
                            sample_expression(sentence.expression, lists, rules, language=lang), 400))
                    except Exception:
                        continue  # needs a list the fake world lacks
                    texts.extend(rng.sample(found, min(PER_TEMPLATE, len(found))))
            for text in rng.sample(texts, min(PER_INTENT, len(texts))):
                text = " ".join(text.split())
                result = recognize_best(text, intents, slot_lists=world, language=lang)
                out = {"lang": lang, "text": text, "intent": None, "slots": {}}
                if result is not None:
                    out["intent"] = result.intent.name
                    out["slots"] = {k: e.value for k, e in result.entities.items()}
                print(json.dumps(out, ensure_ascii=False, default=str))


if __name__ == "__main__":
    main()
