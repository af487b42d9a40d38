#!/bin/sh
# A Sori skill in shell: one JSON request per line on stdin, one JSON answer per line on stdout.
# Fields are picked out with sed to need nothing beyond a POSIX shell; use jq if you have it.
while IFS= read -r line; do
  intent=$(printf '%s' "$line" | sed -n 's/.*"intent":"\([^"]*\)".*/\1/p')
  lang=$(printf '%s' "$line" | sed -n 's/.*"language":"\([^"]*\)".*/\1/p')
  sides=$(printf '%s' "$line" | sed -n 's/.*"sides":\([0-9][0-9]*\).*/\1/p')
  [ -n "$sides" ] || sides=6
  if [ "$intent" != "RollDie" ]; then
    echo '{"speech":""}'
    continue
  fi
  # awk for a random number: portable, unlike $RANDOM.
  n=$(awk -v s="$sides" 'BEGIN { srand(); print int(rand() * s) + 1 }')
  if [ "$lang" = "ko" ]; then
    case $((n % 10)) in
      0|1|3|6|7|8) particle="이" ;;
      *) particle="가" ;;
    esac
    printf '{"speech":"%s%s 나왔어요."}\n' "$n" "$particle"
  else
    printf '{"speech":"You rolled a %s."}\n' "$n"
  fi
done
