#!/usr/bin/env bash
# Our training step against a single-process PyTorch peer doing the same work (issue 16, "Targets"):
# R rounds in one sitting, each the peer (bench/peer/perl_step.py) for STEPS steps, then our
# `perl train` for STEPS steps on local[2], both from the demo's warm start on the same
# which_image-only split (the demo's offline-filtered train split, which_image rows only), with
# conf/demo.yaml and filter.online.maxFillAttempts=1 filter.online.metric=reward trainer.lr=3e-4,
# no evaluation, no checkpoints during the steps. Prints medians over steps 6..STEPS of each run,
# then the medians over rounds, and the ratios ours/peer. Takes /tmp/bench.lock for the whole sitting.
# Usage:
#   bench/peer-step.sh [DEMO_DIR=runs/demo] [ROUNDS=4] [STEPS=30]
# Environment: PERL_APP_JAR (the jar to measure; default this checkout's built jar, built with
# `mvn -B -o -q package -DskipTests -pl perl-spark-jobs -am`), PEER_PYTHON (python with torch,
# numpy, pyarrow; default python3), PEER_ARGS (more peer flags for both peer runs, e.g.
# --threads 2), PEER_KEPT=0 (skip the second peer run, which scores only the kept groups' responses
# under the reference), KEEP=dir (keep the runs' outputs there).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
if [[ -z ${PEER_STEP_LOCKED:-} ]]; then
  PEER_STEP_LOCKED=1 exec flock /tmp/bench.lock "$0" "$@"
fi
demo=$(cd "${1:-runs/demo}" && pwd)
rounds=${2:-4}
steps=${3:-30}
py=${PEER_PYTHON:-python3}
jar=${PERL_APP_JAR:-$root/perl-spark-jobs/target/perl-spark-jobs-0.1.0-SNAPSHOT-app.jar}
cp_file=$root/deploy/spark-dist/target/spark-classpath.txt
[[ -f $jar ]] || { echo "no application jar at $jar (set PERL_APP_JAR or build it)" >&2; exit 2; }
[[ -f $cp_file ]] || { echo "no $cp_file: mvn -B -o -q -f deploy/spark-dist/pom.xml package" >&2; exit 2; }
out=${KEEP:-$(mktemp -d "${TMPDIR:-/tmp}/perl-peer-bench.XXXXXX")}
mkdir -p "$out"
[[ -n ${KEEP:-} ]] || trap 'rm -rf "$out"' EXIT

# The split both read: the offline-filtered train split when there is one, which_image rows only.
data=$demo/data/filtered
[[ -d $data ]] || data=$demo/data/synth/train
ROOT=$root "$py" - "$data" "$out/which_image" <<'PY'
import os, sys
sys.path.insert(0, os.path.join(os.environ.get("ROOT", "."), "bench/peer/.deps"))
import pyarrow.compute as pc, pyarrow.parquet as pq
src, dst = sys.argv[1], sys.argv[2]
if os.path.isdir(os.path.join(src, "data")):
    src = os.path.join(src, "data")
t = pq.read_table(src)
w = t.filter(pc.equal(t["family"], "which_image"))
os.makedirs(dst, exist_ok=True)
pq.write_table(w, os.path.join(dst, "part-00000.parquet"))
print(f"split: {w.num_rows} which_image rows of {t.num_rows} in {src}", file=sys.stderr)
PY
java -cp "$jar:$(cat "$cp_file")" "$root/bench/peer/PeerCheck.java" vocab >"$out/vocab.txt"

echo "jar: $jar ($(stat -c %y "$jar" | cut -d. -f1)); commit $(git -C "$root" rev-parse --short HEAD)"
echo "start: $(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for r in $(seq 1 "$rounds"); do
  echo "round $r: peer (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  ROOT=$root "$py" "$root/bench/peer/perl_step.py" --checkpoint "$demo/sft/checkpoints" --data "$out/which_image" \
    --vocab "$out/vocab.txt" --steps "$steps" ${PEER_ARGS:-} >"$out/peer-$r.jsonl" 2>"$out/peer-$r.log" \
    || { tail -20 "$out/peer-$r.log"; exit 1; }
  if [[ ${PEER_KEPT:-1} != 0 ]]; then
    echo "round $r: peer, reference scores of kept groups only (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
    ROOT=$root "$py" "$root/bench/peer/perl_step.py" --checkpoint "$demo/sft/checkpoints" --data "$out/which_image" \
      --vocab "$out/vocab.txt" --steps "$steps" --score-reference kept ${PEER_ARGS:-} >"$out/peerkept-$r.jsonl" \
      2>"$out/peerkept-$r.log" || { tail -20 "$out/peerkept-$r.log"; exit 1; }
  fi
  echo "round $r: ours (load $(cut -d' ' -f1-3 /proc/loadavg))" >&2
  PERL_APP_JAR=$jar "$root/bin/perl" train --config "$root/conf/demo.yaml" --no-progress --resume never \
    run.outputDir="$out/ours-$r" "stages[0].data=[{path: $out/which_image}]" "eval.splits=[{path: $demo/data/synth/eval}]" \
    model.init="$demo/sft/checkpoints" "stages[0].steps=$steps" trainer.evalEvery=0 trainer.checkpointEvery=100000 \
    filter.online.maxFillAttempts=1 filter.online.metric=reward trainer.lr=3e-4 >"$out/ours-$r.log" 2>&1 &
  pid=$!  # bin/perl execs java: this is the JVM
  # Every 0.2 s: time, the JVM's user+system CPU ticks, metrics lines written so far (as bench/train-step.sh).
  while kill -0 $pid 2>/dev/null; do
    t=$(awk '{print $14+$15}' /proc/$pid/stat 2>/dev/null || true)
    n=0; [[ -f $out/ours-$r/metrics.jsonl ]] && n=$(wc -l <"$out/ours-$r/metrics.jsonl")
    [[ -n $t ]] && echo "$(date +%s.%N) $t $n" >>"$out/cpu-$r.txt"
    sleep 0.2
  done
  wait $pid || { tail -40 "$out/ours-$r.log"; exit 1; }
done
echo "end: $(date -u +%FT%TZ), load average: $(cut -d' ' -f1-3 /proc/loadavg)"

"$py" - "$out" "$rounds" "$steps" "$(getconf CLK_TCK)" <<'PY'
import json, statistics as st, sys
out, rounds, steps, tck = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4])
first = 6  # steps 1-5 warm up (JIT, caches, allocator)
med = st.median

def peer(r, name="peer"):
    rows = [json.loads(l) for l in open(f"{out}/{name}-{r}.jsonl") if l.startswith('{"step"')]
    rows = [x for x in rows if x["step"] >= first]
    return {"wall": med(x["wall_s"] for x in rows), "cpu": med(x["cpu_s"] for x in rows),
            "generated": med(x["responses_generated"] for x in rows), "kept": med(x["responses_kept"] for x in rows),
            "ref_scored": med(x["responses_ref_scored"] for x in rows),
            "len_kept": med(x["response_len_mean_kept"] for x in rows), "len_all": med(x["response_len_mean_all"] for x in rows),
            "groups_kept": med(x["groups_kept"] for x in rows), "updates": med(x["updates"] for x in rows),
            "generate": med(x["t_generate"] for x in rows), "reference": med(x["t_reference"] for x in rows),
            "update": med(x["t_update"] for x in rows)}

def ours(r):
    rows = [json.loads(l) for l in open(f"{out}/ours-{r}/metrics.jsonl")]
    rows = [x for x in rows if x["step"] >= first]
    # Per-step JVM CPU and wall from the /proc samples: the first sample that sees step k's line
    # ends step k (0.2 s resolution; the mean over the steps is exact up to one sample).
    samples = [tuple(map(float, l.split())) for l in open(f"{out}/cpu-{r}.txt") if len(l.split()) == 3]
    at = {}
    for t, cpu, n in samples:
        at.setdefault(int(n), (t, cpu))
    ks = [k for k in range(first - 1, steps + 1) if k in at]
    cpu_steps = [(at[b][1] - at[a][1]) / tck for a, b in zip(ks, ks[1:]) if b == a + 1]
    wall_steps = [at[b][0] - at[a][0] for a, b in zip(ks, ks[1:]) if b == a + 1]
    span = ks[-1] - ks[0]
    return {"wall": med(x["t_total"] for x in rows), "wall_sampled": med(wall_steps),
            "cpu": med(cpu_steps), "cpu_mean": (at[ks[-1]][1] - at[ks[0]][1]) / tck / span,
            "generated": med(16 * x["groups_drawn"] for x in rows), "kept": med(x["responses"] for x in rows),
            "len_kept": med(x["response_len_mean"] for x in rows), "groups_kept": med(x["groups_kept"] for x in rows),
            "updates": med(x["updates"] for x in rows), "rollout": med(x["t_rollout"] for x in rows),
            "gradient": med(x["t_gradient"] for x in rows)}

import os
P = [peer(r) for r in range(1, rounds + 1)]
K = [peer(r, "peerkept") for r in range(1, rounds + 1) if os.path.exists(f"{out}/peerkept-{r}.jsonl")]
O = [ours(r) for r in range(1, rounds + 1)]
print(f"\nper round, medians of steps {first}-{steps}:")
print("| round | peer wall s | peer CPU-s | ours wall s (t_total) | ours wall s (sampled) | ours CPU-s | ours CPU-s (mean) |")
print("|--:|--:|--:|--:|--:|--:|--:|")
for r, (p, o) in enumerate(zip(P, O), 1):
    print(f"| {r} | {p['wall']:.3f} | {p['cpu']:.3f} | {o['wall']:.3f} | {o['wall_sampled']:.3f} | {o['cpu']:.2f} | {o['cpu_mean']:.2f} |")

def m(rows, k):
    return med(x[k] for x in rows)

print(f"\nmedian over {rounds} round(s):")
print("| per step | peer | ours | ours / peer |")
print("|---|--:|--:|--:|")
for label, pk, ok in [("wall s (ours: t_total)", "wall", "wall"), ("wall s (ours: sampled, step to step)", "wall", "wall_sampled"),
                      ("CPU-s (peer: process_time; ours: JVM /proc, median of steps)", "cpu", "cpu"),
                      ("CPU-s (ours: mean over the steps)", "cpu", "cpu_mean")]:
    print(f"| {label} | {m(P, pk):.3f} | {m(O, ok):.3f} | {m(O, ok) / m(P, pk):.2f}x |")
for label, k in [("responses generated", "generated"), ("responses kept (trained)", "kept"),
                 ("groups kept", "groups_kept"), ("mini-batch updates", "updates"),
                 ("mean response length, kept (tokens, eos included)", "len_kept")]:
    print(f"| {label} | {m(P, k):.1f} | {m(O, k):.1f} | |")
print(f"| responses scored under the reference | {m(P, 'ref_scored'):.0f} | {m(O, 'generated'):.0f} (all generated) | |")
if K:
    print(f"\npeer scoring only the kept groups under the reference (--score-reference kept), {len(K)} round(s): "
          f"wall {m(K, 'wall'):.3f} s, CPU {m(K, 'cpu'):.3f} s, {m(K, 'ref_scored'):.0f} responses scored, "
          f"reference phase {m(K, 'reference'):.3f} s; ours / this peer: wall {m(O, 'wall') / m(K, 'wall'):.2f}x "
          f"(sampled {m(O, 'wall_sampled') / m(K, 'wall'):.2f}x), CPU {m(O, 'cpu') / m(K, 'cpu'):.2f}x")
    print("| round | peer (kept) wall s | peer (kept) CPU-s |")
    print("|--:|--:|--:|")
    for r, k in enumerate(K, 1):
        print(f"| {r} | {k['wall']:.3f} | {k['cpu']:.3f} |")
print(f"\npeer phases (median s): generate {m(P, 'generate'):.3f}, reference {m(P, 'reference'):.3f}, update {m(P, 'update'):.3f}; "
      f"peer mean response length over all generated {m(P, 'len_all'):.1f}")
print(f"ours phases (median s): rollout (generate + reference + reward) {m(O, 'rollout'):.3f}, gradient {m(O, 'gradient'):.3f}")
PY
