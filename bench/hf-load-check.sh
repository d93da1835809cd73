#!/usr/bin/env bash
# Does the Python stack users serve with load what `perl export` writes? For both tiny Qwen2.5-VL
# fixture checkpoints (perl-model/src/test/resources/qwen25vl), HfLoadCheckTest exports random
# adapters (B != 0) as a PEFT folder and as merged folders (float32, and the base's bfloat16), and
# bench/hf_load_check.py loads them with PEFT (PeftModel.from_pretrained, merge_and_unload) and
# transformers (Qwen2_5_VLForConditionalGeneration.from_pretrained), in float32, and compares the
# per-token log-probs of a text-only and a two-image prompt with our Java model's. Exits non-zero
# on a max |log-prob diff| above 5e-5, on any missing/unexpected/mismatched key, or on a LoRA layer
# PEFT did not fill from the file. Prints a table; about 1 minute on 2 cores.
#
# Usage: bench/hf-load-check.sh [PYTHON] [--keep DIR]
#   PYTHON: a python with torch, transformers, peft and safetensors (default: $PERL_HF_PYTHON).
#   Make one outside the repository, e.g. (versions this was verified with):
#     python3 -m venv ~/venv-hf && ~/venv-hf/bin/pip install torch==2.13.0 transformers==5.18.0 \
#         peft==0.21.0 safetensors accelerate      # CPU wheels suffice; add --index-url/--find-links
#                                                  # for a local mirror on an offline machine
#   --keep DIR: leave the exported folders, the Java dump and the table in DIR.
# Maven runs offline (-o) unless MVN_ARGS says otherwise (build once with network first).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
python="${PERL_HF_PYTHON:-}"
keep=""
while [[ $# -gt 0 ]]; do
  case "$1" in
    --keep) keep="$2"; shift 2 ;;
    -h|--help) sed -n '2,21p' "${BASH_SOURCE[0]}"; exit 0 ;;
    *) python="$1"; shift ;;
  esac
done
if [[ -z "$python" ]]; then
  echo "hf-load-check: no python given: pass one with torch+transformers+peft or set PERL_HF_PYTHON" >&2
  sed -n '12,18p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
if ! "$python" -c 'import torch, transformers, peft, safetensors' 2>/dev/null; then
  echo "hf-load-check: $python cannot import torch, transformers, peft and safetensors" >&2
  sed -n '12,18p' "${BASH_SOURCE[0]}" >&2
  exit 2
fi
# surefire runs in perl-model/: make the path absolute (not resolving the venv's symlink)
[[ "$python" == */* ]] || python=$(command -v "$python")
python=$(cd "$(dirname "$python")" && pwd)/$(basename "$python")
if [[ -n "$keep" ]]; then
  mkdir -p "$keep"
  out=$(cd "$keep" && pwd)
else
  out=$(mktemp -d "${TMPDIR:-/tmp}/perl-hf-load-check.XXXXXX")
  trap 'rm -rf "$out"' EXIT
fi
cd "$root"
rc=0
${MVN:-mvn} -B -q ${MVN_ARGS:--o} test -pl perl-model -am -Dtest=HfLoadCheckTest \
  -Dsurefire.failIfNoSpecifiedTests=false -Dperl.hf.python="$python" -Dperl.hf.out="$out" \
  >"$out/mvn.log" 2>&1 || rc=$?
if [[ -f "$out/hf-load-check.txt" ]]; then
  cat "$out/hf-load-check.txt"
fi
if [[ $rc -ne 0 ]]; then
  [[ -f "$out/hf-load-check.txt" ]] || tail -40 "$out/mvn.log"
  echo "hf-load-check: FAILED (exit $rc)" >&2
  exit 1
fi
