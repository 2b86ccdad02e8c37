#!/usr/bin/env bash
# Kill ft run with kill -9 (every third time SIGINT instead) at random
# moments, resume it each time with `ft run --resume`, and check that the
# final model is byte-identical to the one of a run that was never
# interrupted. Checkpoints are written every step, so many kills land in the
# middle of a checkpoint write (the script counts them: the unfinished
# temporary file is left behind). Not part of CI (about a minute).
#
#   bash testmodels/kill_resume.sh [KILLS]      (default 8)
set -euo pipefail
cd "$(dirname "$0")/.."
KILLS=${1:-8}
W=${W:-${FT_WORK:-$PWD/runs}/kill-resume}   # runs/ is ignored by git
rm -rf "$W" && mkdir -p "$W"
go build -o "$W/ft" ./cmd/ft
ARGS=(run --model internal/bundled/tiny-bert --train internal/bundled/sst2-sample/test.tsv
      --eval internal/bundled/sst2-sample/test.tsv --eval-strategy steps --eval-steps 25
      --max-steps 150 --save-steps 1 --save-total-limit 3 --per-device-train-batch-size 16
      --learning-rate 1e-3 --warmup-ratio 0.1 --seed 7)
"$W/ft" "${ARGS[@]}" --output-dir "$W/ref" > "$W/ref.log"
echo "reference run done: $(grep -c '^checkpoint ' "$W/ref.log") checkpoints written"

"$W/ft" "${ARGS[@]}" --output-dir "$W/run" > "$W/run.log" 2>&1 &
pid=$!
kills=0 midwrite=0 sigints=0
while kill -0 "$pid" 2>/dev/null; do
  sleep "0.$(( RANDOM % 9 + 2 ))"
  if [ "$kills" -ge "$KILLS" ] || ! kill -0 "$pid" 2>/dev/null; then
    continue
  fi
  kills=$((kills + 1))
  if [ $((kills % 3)) -eq 0 ]; then
    kill -INT "$pid"; sigints=$((sigints + 1))
    code=0; wait "$pid" || code=$?
    [ "$code" -eq 130 ] || { echo "SIGINT: exit $code, want 130"; exit 1; }
  else
    kill -9 "$pid"; wait "$pid" 2>/dev/null || true
    if ls "$W/run"/.checkpoint-*.tmp* >/dev/null 2>&1; then midwrite=$((midwrite + 1)); fi
  fi
  newest=$(ls "$W/run"/checkpoint-*.ftckpt 2>/dev/null | sed 's/.*checkpoint-\([0-9]*\).*/\1/' | sort -n | tail -1)
  echo "kill $kills: newest checkpoint at step ${newest:-none}"
  if [ -z "$newest" ]; then
    "$W/ft" "${ARGS[@]}" --output-dir "$W/run" --overwrite-output-dir >> "$W/run.log" 2>&1 &    # nothing saved yet: start again
  else
    "$W/ft" run --resume "$W/run" >> "$W/run.log" 2>&1 &
  fi
  pid=$!
done
wait "$pid"
echo "$kills interruptions ($sigints SIGINT, $((kills - sigints)) kill -9, $midwrite of them during a checkpoint write)"
for f in model/model.onnx model/config.json; do
  cmp "$W/ref/$f" "$W/run/$f"
done
echo "OK: final model byte-identical to the uninterrupted run's"
