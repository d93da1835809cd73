#!/usr/bin/env bash
# Tests deploy/gpu/build-jni.sh's input checks and the plan/env it prints (--check), against fake
# libtorch folders and a fake Python: no compiler run, no GPU, about a second. Prints one line per
# case and exits non-zero when any fails. Run by BuildJniScriptTest (perl-spark-jobs).
#
#   bash deploy/gpu/tests/build-jni-test.sh
set -uo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SCRIPT="$HERE/../build-jni.sh"
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
failures=0

# expect NAME RC PATTERN -- args...: the script's exit code, and a pattern its output must contain
expect() {
  local name=$1 want_rc=$2 pattern=$3
  shift 4
  local out rc
  out=$(bash "$SCRIPT" "$@" 2>&1)
  rc=$?
  if [[ $rc -ne $want_rc ]] || ! grep -qF -- "$pattern" <<<"$out"; then
    echo "FAIL $name: rc=$rc (want $want_rc), output lacks '$pattern':"
    sed 's/^/    /' <<<"$out" | head -30
    failures=$((failures + 1))
  else
    echo "ok   $name"
  fi
}

# a libtorch zip's layout: lib/, include/, build-version, TorchConfig.cmake
fake_libtorch() {
  local d=$1 bv=$2
  mkdir -p "$d/lib" "$d/include/torch/csrc/api/include/torch" "$d/share/cmake/Torch"
  touch "$d/lib/libtorch.so" "$d/lib/libtorch_cpu.so" "$d/lib/libc10.so" "$d/include/torch/csrc/api/include/torch/torch.h"
  [[ -n $bv ]] && echo "$bv" > "$d/build-version"
  echo 'set(TORCH_CXX_FLAGS "-D_GLIBCXX_USE_CXX11_ABI=1")' > "$d/share/cmake/Torch/TorchConfig.cmake"
}
fake_libtorch "$TMP/libtorch" "2.7.1+cu128"
touch "$TMP/libtorch/lib/libtorch_cuda.so"
mkdir -p "$TMP/jdk/include"; touch "$TMP/jdk/include/jni.h"
COMMON=(--jdk-include "$TMP/jdk/include" --cache "$TMP/cache")

expect "no libtorch given" 2 "give exactly one of --python PY, --libtorch DIR" -- "${COMMON[@]}"
expect "two libtorch sources" 2 "give exactly one of" -- --libtorch "$TMP/libtorch" --python python3 "${COMMON[@]}"
expect "missing folder" 2 "--libtorch $TMP/nope: not a folder" -- --libtorch "$TMP/nope" "${COMMON[@]}"
expect "unknown option" 2 "unknown option --frobnicate" -- --frobnicate 1
expect "option without value" 2 "--libtorch needs a value" -- --libtorch
expect "bad flavor" 2 "--flavor must be cpu or cuXYZ" -- --libtorch "$TMP/libtorch" --flavor gpu "${COMMON[@]}"
expect "bad abi" 2 "--abi must be 0 or 1" -- --libtorch "$TMP/libtorch" --abi 2 "${COMMON[@]}"
expect "bad jobs" 2 "--jobs must be a positive integer" -- --libtorch "$TMP/libtorch" --jobs 0 "${COMMON[@]}"

fake_libtorch "$TMP/nolibc10" "2.7.1+cpu"
rm "$TMP/nolibc10/lib/libc10.so"
expect "not a libtorch" 2 "has no libc10.so: not a libtorch library folder" -- --libtorch "$TMP/nolibc10" "${COMMON[@]}"

fake_libtorch "$TMP/noheaders" "2.7.1+cpu"
rm -r "$TMP/noheaders/include"
expect "no headers" 2 "no libtorch C++ headers (torch/torch.h)" -- --libtorch "$TMP/noheaders" "${COMMON[@]}"

fake_libtorch "$TMP/noversion" ""
expect "version unknown" 2 "pass --version" -- --libtorch "$TMP/noversion" "${COMMON[@]}"
touch "$TMP/noversion/lib/libtorch_cuda.so"
expect "cuda without flavor" 2 "has libtorch_cuda.so but no build-version: pass --flavor" \
  -- --libtorch "$TMP/noversion" --version 2.7.1 "${COMMON[@]}"
expect "bad version" 2 "--version must look like 2.7.1" -- --libtorch "$TMP/noversion" --version 2.7 "${COMMON[@]}"
expect "no djl sources" 2 "lacks engines/pytorch/pytorch-native" -- --libtorch "$TMP/libtorch" --djl-src "$TMP" "${COMMON[@]}"
expect "no jni.h" 2 "no jni.h" -- --libtorch "$TMP/libtorch" --jdk-include "$TMP" --cache "$TMP/cache"

# --check: the plan and the env of a CUDA libtorch zip
expect "check: target path" 0 "install as    $TMP/cache/pytorch/2.7.1-cu128-linux-x86_64/0.36.0-libdjl_torch.so" \
  -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: version" 0 "export PYTORCH_VERSION='2.7.1'" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: flavor" 0 "export PYTORCH_FLAVOR='cu128'" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: library path" 0 "export PYTORCH_LIBRARY_PATH='$TMP/libtorch/lib'" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: offline" 0 "export DJL_OFFLINE=true" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: abi from TorchConfig" 0 "cxx11 abi 1" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
expect "check: builds nothing" 0 "nothing built" -- --libtorch "$TMP/libtorch" --check "${COMMON[@]}"
[[ ! -e $TMP/cache/pytorch ]] && echo "ok   check: no files written" \
  || { echo "FAIL check wrote into the cache"; failures=$((failures + 1)); }
expect "check: no bf16" 0 "bf16 mapping  no" -- --libtorch "$TMP/libtorch" --no-bf16 --check "${COMMON[@]}"
expect "check: flavor override" 0 "export PYTORCH_FLAVOR='cu126'" -- --libtorch "$TMP/libtorch" --flavor cu126 --check "${COMMON[@]}"

# --python: the facts come from the interpreter (a fake one that prints what torch would)
fake_libtorch "$TMP/site/torch" ""
mkdir -p "$TMP/site/nvidia/cu13/lib"
cat > "$TMP/python-torch" <<EOF
#!/usr/bin/env bash
cat > /dev/null
echo "FACTS $TMP/site/torch 2.11.0 cu130 1 $TMP/site/nvidia/cu13/lib"
EOF
cat > "$TMP/python-notorch" <<'EOF'
#!/usr/bin/env bash
cat > /dev/null
echo "ERROR cannot import torch: No module named 'torch'"
EOF
# a pip CPU torch on a machine that also has a CUDA toolkit (so the interpreter finds libcudart)
cat > "$TMP/python-cputorch" <<EOF
#!/usr/bin/env bash
cat > /dev/null
echo "FACTS $TMP/site/torch 2.13.0 cpu 1 $TMP/site/nvidia/cu13/lib"
EOF
chmod +x "$TMP/python-torch" "$TMP/python-notorch" "$TMP/python-cputorch"
expect "python: flavor" 0 "export PYTORCH_FLAVOR='cu130'" -- --python "$TMP/python-torch" --check "${COMMON[@]}"
expect "python: version" 0 "export PYTORCH_VERSION='2.11.0'" -- --python "$TMP/python-torch" --check "${COMMON[@]}"
expect "python: torch/lib" 0 "export PYTORCH_LIBRARY_PATH='$TMP/site/torch/lib'" -- --python "$TMP/python-torch" --check "${COMMON[@]}"
expect "python: jna path" 0 "-Djna.library.path=$TMP/site/nvidia/cu13/lib" -- --python "$TMP/python-torch" --check "${COMMON[@]}"
expect "python: target" 0 "pytorch/2.11.0-cu130-linux-x86_64/0.36.0-libdjl_torch.so" -- --python "$TMP/python-torch" --check "${COMMON[@]}"
expect "python cpu: flavor" 0 "export PYTORCH_FLAVOR='cpu'" -- --python "$TMP/python-cputorch" --check "${COMMON[@]}"
expect "python cpu: target" 0 "pytorch/2.13.0-cpu-linux-x86_64/0.36.0-libdjl_torch.so" -- --python "$TMP/python-cputorch" --check "${COMMON[@]}"
expect "python cpu: no libcudart for jna" 0 "export PERL_GPU_JAVA_OPTS='-Dai.djl.offline=true'" \
  -- --python "$TMP/python-cputorch" --check "${COMMON[@]}"
expect "python without torch" 2 "cannot import torch" -- --python "$TMP/python-notorch" "${COMMON[@]}"
expect "python missing" 2 "--python $TMP/nopython: not found" -- --python "$TMP/nopython" "${COMMON[@]}"

# the env file is valid shell: source the printed env block
env_block=$(bash "$SCRIPT" --python "$TMP/python-torch" --check "${COMMON[@]}" 2>/dev/null | sed -n '/^env:$/,/^check:/p' | sed '1d;$d')
if ( eval "$env_block"; [[ $PYTORCH_VERSION == 2.11.0 && $DJL_OFFLINE == true && $PERL_GPU_JAVA_OPTS == *jna.library.path* ]] ); then
  echo "ok   env block sources"
else
  echo "FAIL env block does not source:"; echo "$env_block"; failures=$((failures + 1))
fi

if [[ $failures -gt 0 ]]; then
  echo "$failures case(s) failed"
  exit 1
fi
echo "all build-jni cases passed"
