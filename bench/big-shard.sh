#!/usr/bin/env bash
# Writes one safetensors shard larger than 2 GiB (about 2.9 GB: three 734 MB F32 tensors and one
# 734 MB BF16 tensor) by streaming, reads tensors from past the 2 GiB offset back through
# SafeTensors and checks every value; then one 2.24 GB F32 tensor (a single tensor over 2 GiB,
# loaded into a float32 array over 2 GiB), likewise checked; prints sizes and times; deletes both.
# (io.perlspark.model.hub.SafeTensorsBigShardTest, skipped in normal test runs.) Usage:
#   bench/big-shard.sh            BENCH_DIR: where the file goes (default /tmp); MVN_ARGS (default -o)
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
df -h "${BENCH_DIR:-/tmp}" | tail -1
mvn -B ${MVN_ARGS--o} -pl perl-model -am test -Dtest=SafeTensorsBigShardTest \
  -Dsurefire.failIfNoSpecifiedTests=false -Dperl.bench.bigShard=true \
  -Dperl.bench.dir="${BENCH_DIR:-/tmp}" | grep -E 'big shard:|big tensor:|Tests run:|FAIL|ERROR' 
