#!/usr/bin/env bash
# What one training step moves between driver and executors, full fine-tuning vs LoRA, for two base
# sizes of Qwen2.5-VL (random-init folders from perl init-model: conf/models/qwen2_5_vl-tiny and
# qwen2_5_vl-small). Per run: one `perl train` step on local[2] (synthetic data, online filter off);
# reported: the parameter bytes the driver broadcasts per update and checkpoints (the `params` file
# of the step-1 checkpoint = PolicyModel.parametersToBytes), the trainable values, and the driver
# JVM's peak RSS (/usr/bin/time; local[2] runs the executors in the same JVM, so this includes them).
# Usage: bench/lora-traffic.sh            (about 3 minutes on 2 cores)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
work=$(mktemp -d "${TMPDIR:-/tmp}/perl-lora-traffic.XXXXXX")
trap 'rm -rf "$work"' EXIT
bin/perl synth --out "$work/synth" --train 200 --eval 10 --sft 10 >/dev/null
printf '%-6s %-5s %14s %16s %14s\n' model mode base_params bytes_per_update peak_rss_MiB
for size in tiny small; do
  bin/perl init-model --config "conf/models/qwen2_5_vl-$size/config.json" \
    --tokenizer-from perl-model/src/test/resources/qwen25vl --out "$work/$size" --seed 1 >"$work/$size.init"
  params=$(sed -nE 's/^wrote ([0-9,]+) parameters.*/\1/p' "$work/$size.init" | tr -d ,)
  for mode in full lora; do
    lora=false
    [[ $mode == lora ]] && lora=true
    out="$work/run-$size-$mode"
    /usr/bin/time -f '%M' -o "$work/rss" bin/perl train --config conf/qwen-tiny.yaml --no-progress --resume never \
      model.path="$work/$size" model.lora.enabled=$lora run.outputDir="$out" stages[0].steps=1 \
      "stages[0].data[0].path=$work/synth/train" rollout.n=2 rollout.maxNewTokens=8 trainer.promptBatch=2 \
      trainer.miniBatch=2 >"$out.log" 2>&1 || { tail -20 "$out.log"; exit 1; }
    bytes=$(stat -c %s "$out"/checkpoints/step-000001/params*)
    printf '%-6s %-5s %14s %16s %14s\n' "$size" "$mode" "$params" "$bytes" "$(( $(cat "$work/rss") / 1024 ))"
  done
done
