#!/usr/bin/env python3
"""A Sori skill in Python: one JSON request per line on stdin, one JSON answer per line on stdout.

Request: {"type": "intent", "id": 7, "intent": "RollDie", "slots": {"sides": 6},
          "language": "en", "text": "roll a six sided die", "answer": null}
Answer:  {"speech": "You rolled a 4."}  (optional: "action", "end": false, "confirm": true,
          "ask": {"slot": "sides", "type": "number"})
Anything printed to stderr goes to Sori's log.
"""
import json
import random
import sys


def handle(req):
    if req.get("intent") != "RollDie":
        return {"speech": ""}
    sides = int(req.get("slots", {}).get("sides", 6))
    n = random.randint(1, max(1, sides))
    if req.get("language") == "ko":
        # 이/가: the particle depends on how the number is read (일, 삼, 육, 칠, 팔, 십 end in a consonant).
        particle = "이" if n % 10 in (0, 1, 3, 6, 7, 8) else "가"
        return {"speech": f"{n}{particle} 나왔어요."}
    return {"speech": f"You rolled a {n}."}


for line in sys.stdin:
    if not line.strip():
        continue
    try:
        reply = handle(json.loads(line))
    except Exception as e:  # a bad request must not kill the skill
        print(f"error: {e}", file=sys.stderr)
        reply = {"speech": ""}
    print(json.dumps(reply, ensure_ascii=False), flush=True)
