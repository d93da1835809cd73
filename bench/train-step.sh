#!/usr/bin/env bash
# Time per phase of a `perl train` step on local Spark, and the Spark overhead (step time minus the
# model compute measured inside executor tasks, as it lies on the step's path: see below). Needs a warm start and data, e.g. from `bin/perl demo`
# (runs/demo/sft, runs/demo/data/...). Usage:
#   bench/train-step.sh [DEMO_DIR=runs/demo] [STEPS=40]
# Prints medians over the steps after the first 5 (JIT, caches), and the JVM's CPU-seconds per step
# over the same steps (sampled from /proc while it runs; Linux); uses python3 for the summary only.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
demo=${1:-runs/demo}
steps=${2:-40}
out=$(mktemp -d "${TMPDIR:-/tmp}/perl-train-bench.XXXXXX")
trap 'rm -rf "$out"' EXIT
data=$demo/data/filtered
[[ -d $data ]] || data=$demo/data/synth/train
"$root/bin/perl" train --config "$root/conf/demo.yaml" --no-progress --resume never \
  run.outputDir="$out/train" "stages[0].data=[{path: $data}]" "eval.splits=[{path: $demo/data/synth/eval}]" \
  model.init="$demo/sft/checkpoints" "stages[0].steps=$steps" trainer.evalEvery=0 >"$out/log" 2>&1 &
pid=$!  # bin/perl execs java: this is the JVM
# Every 0.2 s: time, the JVM's user+system CPU ticks, metrics lines written so far.
while kill -0 $pid 2>/dev/null; do
  t=$(awk '{print $14+$15}' /proc/$pid/stat 2>/dev/null || true)
  n=0; [[ -f $out/train/metrics.jsonl ]] && n=$(wc -l <"$out/train/metrics.jsonl")
  [[ -n $t ]] && echo "$(date +%s.%N) $t $n" >>"$out/cpu.txt"
  sleep 0.2
done
wait $pid || { tail -40 "$out/log"; exit 1; }
python3 - "$out/train/metrics.jsonl" "$out/cpu.txt" "$(getconf CLK_TCK)" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])][5:]
def med(k): return statistics.median(r[k] for r in rows)
phases = ["t_permute", "t_broadcast", "t_rollout", "t_filter", "t_gradient", "t_step"]
total = med("t_total")
print(f"steps measured: {len(rows)} (after 5 warm-up steps)")
print("| phase | median s | share of step |")
print("|---|--:|--:|")
for p in phases:
    print(f"| {p[2:]} | {med(p):.3f} | {med(p)/total:.0%} |")
print(f"| **step** | **{total:.3f}** | 100% |")
# Rollout tasks compute side by side on the 2 slots; gradient computations run one at a time per
# JVM (Engines.TRAINING_LOCK: DJL's gradient collector is JVM-wide), and local mode is one JVM, so
# their model compute (timed once a task holds the lock) is on the step's path in full.
slots = 2
comp_r = statistics.median(r["compute_rollout_task_s"] / slots for r in rows)
comp_g = statistics.median(r["compute_gradient_task_s"] for r in rows)
comp = statistics.median(r["compute_rollout_task_s"] / slots + r["compute_gradient_task_s"] for r in rows)
print()
print(f"model compute inside tasks: {comp:.3f} s per step (rollout, summed over tasks / {slots} slots: {comp_r:.3f}; "
      f"gradient, one at a time in the JVM: {comp_g:.3f})")
print(f"Spark overhead = step - compute: {total-comp:.3f} s = {(total-comp)/total:.0%} of the step")
print(f"responses per step (median): {med('responses'):.0f}, groups drawn: {med('groups_drawn'):.0f}, fill rounds: {med('fill_rounds'):.0f}")
samples = [tuple(map(float, l.split())) for l in open(sys.argv[2]) if len(l.split()) == 3]
first = next((s for s in samples if s[2] >= 5), None)
last = next((s for s in samples if s[2] == max(x[2] for x in samples)), None)
if first and last and last[2] > first[2]:
    n = last[2] - first[2]
    print(f"JVM CPU per step (steps {first[2]:.0f}-{last[2]:.0f}, mean): {(last[1] - first[1]) / float(sys.argv[3]) / n:.2f} CPU-s, "
          f"wall {(last[0] - first[0]) / n:.3f} s")
PY
