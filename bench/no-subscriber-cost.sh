#!/bin/bash
# What the event channels cost when no one listens: `wirecat serve echo` as built, against
# the same bundle with every `.hasSubscribers` test replaced by `undefined` (no publish site
# ever runs). Interleaved, echo 100 connections x 64 B, 3 reps x 5 s, server on CPU1,
# loadgen on CPU0. Needs `npm run build` and bench/loadgen (npm run bench builds it).
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
for v in normal stub; do
  cp -r dist/cli "$work/$v"
  echo '{"type":"module"}' > "$work/$v/package.json"
done
sed -i 's/\.hasSubscribers/.noSubscriberStub/g' "$work/stub/serve.js"
for rep in 1 2 3; do
  for v in normal stub; do
    port=$((27600 + rep))
    setsid taskset -c 1 node "$work/$v/wirecat.js" serve "echo=tcp://127.0.0.1:$port" >/dev/null 2>&1 &
    pid=$!
    sleep 0.8
    line=$(taskset -c 0 bench/loadgen --mode echo --port "$port" --conns 100 --size 64 --secs 5 --warmup 1 --pid "$pid" | tail -1)
    echo "rep $rep $v: $(echo "$line" | python3 -c 'import json,sys; d=json.loads(sys.stdin.read()); print(int(d["ops_per_s"]), "rt/s")')"
    kill -- "-$pid" 2>/dev/null || kill "$pid"
    wait "$pid" 2>/dev/null || true
  done
done
