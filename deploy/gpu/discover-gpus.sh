#!/usr/bin/env bash
# GPU discovery for Spark (spark.executor.resource.gpu.discoveryScript, and
# spark.worker.resource.gpu.discoveryScript on standalone workers): prints the JSON Spark expects,
#   {"name": "gpu", "addresses": ["0", "1"]}
# with the indices nvidia-smi reports (in a container: the GPUs the container was given). Without
# nvidia-smi, or when it fails (no driver, no GPU), it prints an empty address list; Spark then
# refuses to start an executor that asked for GPUs, with a message naming the resource.
#
#   deploy/gpu/discover-gpus.sh [--nvidia-smi PATH]     (default: nvidia-smi on PATH, or $NVIDIA_SMI)
set -uo pipefail

smi=${NVIDIA_SMI:-nvidia-smi}
if [[ ${1:-} == --nvidia-smi ]]; then
  smi=${2:?--nvidia-smi needs a path}
fi

addresses=()
if command -v "$smi" >/dev/null 2>&1; then
  if out=$("$smi" --query-gpu=index --format=csv,noheader 2>/dev/null); then
    while IFS= read -r line; do
      line=${line//[[:space:]]/}
      [[ $line =~ ^[0-9]+$ ]] && addresses+=("\"$line\"")
    done <<<"$out"
  fi
fi

joined=""
for a in "${addresses[@]}"; do
  joined+="${joined:+, }$a"
done
echo "{\"name\": \"gpu\", \"addresses\": [$joined]}"
