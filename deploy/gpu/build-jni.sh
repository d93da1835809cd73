#!/usr/bin/env bash
# Builds DJL 0.36.0's PyTorch JNI (libdjl_torch.so) against the libtorch a GPU machine already has,
# with bfloat16 support (upstream DJL 0.36 maps no bf16), installs it where DJL's LibUtils finds it
# offline, and writes the env a GPU executor needs as a sourceable file.
#
#   deploy/gpu/build-jni.sh --python /opt/venv/bin/python3      # pip torch: torch/lib + headers
#   deploy/gpu/build-jni.sh --libtorch /opt/libtorch            # a libtorch zip unpacked
#   deploy/gpu/build-jni.sh --libtorch /opt/libtorch --check    # validate + print the plan only
#
# Options:
#   --python PY          a Python whose `import torch` is the libtorch to use
#   --libtorch DIR       a libtorch folder (lib/libtorch.so, include/; build-version read when present)
#   --lib-dir DIR, --include-dir DIR (repeatable)   split layouts (e.g. Debian's libtorch-dev)
#   --version V          libtorch version (default: from torch / build-version)
#   --flavor F           cpu | cuXYZ (default: from torch / build-version)
#   --abi 0|1            _GLIBCXX_USE_CXX11_ABI (default: from torch / TorchConfig.cmake / libc10)
#   --djl-src DIR        DJL native sources (default: deploy/gpu/djl-0.36.0, vendored, Apache-2.0)
#   --jdk-include DIR    folder with jni.h (default: $JAVA_HOME/include, then the java on PATH)
#   --cache DIR          DJL cache to install into (default: $DJL_CACHE_DIR, else ~/.djl.ai)
#   --env-file FILE      env file to write (default: <cache>/perl-gpu.env)
#   --work DIR           build folder (default: <cache>/jni-build)
#   --jobs N             parallel compiles (default: nproc)
#   --no-bf16            build without the bfloat16 mapping
#   --check              validate inputs and print the plan and the env; build nothing
#
# Exit: 0 built (or --check passed), 1 the build failed (its log names the sources), 2 bad input.
# Then: `source <env-file>` and start the JVM with $PERL_GPU_JAVA_OPTS (jna.library.path, so that
# Engine.getGpuCount() finds libcudart), or pass the variables as spark.executorEnv.* .
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
DJL_VERSION=0.36.0

die() { echo "build-jni: $*" >&2; exit 2; }

PY="" LIBTORCH="" LIB_DIR="" INCLUDES=() VERSION="" FLAVOR="" ABI="" DJL_SRC="$HERE/djl-0.36.0"
JDK_INCLUDE="" CACHE="${DJL_CACHE_DIR:-$HOME/.djl.ai}" ENV_FILE="" WORK="" JOBS="$(nproc 2>/dev/null || echo 2)"
BF16=1 CHECK=0
while [[ $# -gt 0 ]]; do
  opt=$1
  case $opt in
    --check) CHECK=1; shift; continue ;;
    --no-bf16) BF16=0; shift; continue ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
  esac
  [[ $# -ge 2 ]] || die "$opt needs a value"
  val=$2; shift 2
  case $opt in
    --python) PY=$val ;;
    --libtorch) LIBTORCH=$val ;;
    --lib-dir) LIB_DIR=$val ;;
    --include-dir) INCLUDES+=("$val") ;;
    --version) VERSION=$val ;;
    --flavor) FLAVOR=$val ;;
    --abi) ABI=$val ;;
    --djl-src) DJL_SRC=$val ;;
    --jdk-include) JDK_INCLUDE=$val ;;
    --cache) CACHE=$val ;;
    --env-file) ENV_FILE=$val ;;
    --work) WORK=$val ;;
    --jobs) JOBS=$val ;;
    *) die "unknown option $opt (see --help)" ;;
  esac
done

# ------------------------------------------------------------------ which libtorch
modes=0
[[ -n $PY ]] && modes=$((modes + 1))
[[ -n $LIBTORCH ]] && modes=$((modes + 1))
[[ -n $LIB_DIR ]] && modes=$((modes + 1))
[[ $modes -eq 1 ]] || die "give exactly one of --python PY, --libtorch DIR, --lib-dir DIR (with --include-dir)"
[[ $JOBS =~ ^[1-9][0-9]*$ ]] || die "--jobs must be a positive integer, got '$JOBS'"
[[ -z $ABI || $ABI == 0 || $ABI == 1 ]] || die "--abi must be 0 or 1, got '$ABI'"
[[ -z $FLAVOR || $FLAVOR =~ ^(cpu|cu[0-9]+)$ ]] || die "--flavor must be cpu or cuXYZ (e.g. cu128), got '$FLAVOR'"

JNA_DIRS=""
if [[ -n $PY ]]; then
  command -v "$PY" >/dev/null 2>&1 || die "--python $PY: not found"
  facts=$("$PY" - <<'EOF' 2>&1
import glob, os, re
try:
    import torch
except Exception as e:
    print("ERROR cannot import torch:", e); raise SystemExit(0)
d = os.path.dirname(torch.__file__)
v = re.match(r"\d+\.\d+\.\d+", torch.__version__)
site = os.path.dirname(d)
cudart = glob.glob(site + "/nvidia/**/libcudart.so*", recursive=True) + glob.glob("/usr/local/cuda*/lib*/libcudart.so*")
print("FACTS", d, v.group(0) if v else torch.__version__,
      "cu" + torch.version.cuda.replace(".", "") if torch.version.cuda else "cpu",
      int(bool(torch._C._GLIBCXX_USE_CXX11_ABI)),
      ":".join(dict.fromkeys(os.path.dirname(x) for x in cudart)) or "-")
EOF
) || true
  line=$(grep '^FACTS ' <<<"$facts" | tail -1 || true)
  [[ -n $line ]] || die "--python $PY: $(grep -m1 ERROR <<<"$facts" || echo "no torch facts: $facts")"
  read -r _ TORCH_DIR py_version py_flavor py_abi py_jna <<<"$line"
  LIB_DIR="$TORCH_DIR/lib"
  INCLUDES+=("$TORCH_DIR/include" "$TORCH_DIR/include/torch/csrc/api/include")
  VERSION=${VERSION:-$py_version}; FLAVOR=${FLAVOR:-$py_flavor}; ABI=${ABI:-$py_abi}
  # a CPU torch gets no libcudart: with one on jna.library.path, Engine.getGpuCount() would count
  # the machine's GPUs and DJL would place tensors on a device this libtorch cannot use
  [[ $py_jna != - && $FLAVOR == cu* ]] && JNA_DIRS=$py_jna
elif [[ -n $LIBTORCH ]]; then
  [[ -d $LIBTORCH ]] || die "--libtorch $LIBTORCH: not a folder"
  LIBTORCH=$(cd "$LIBTORCH" && pwd)
  LIB_DIR="$LIBTORCH/lib"
  INCLUDES+=("$LIBTORCH/include" "$LIBTORCH/include/torch/csrc/api/include")
  if [[ -f $LIBTORCH/build-version ]]; then  # e.g. 2.7.1+cu128
    bv=$(tr -d '[:space:]' < "$LIBTORCH/build-version")
    VERSION=${VERSION:-${bv%%+*}}
    [[ $bv == *+* ]] && FLAVOR=${FLAVOR:-${bv#*+}}
  fi
  cfg="$LIBTORCH/share/cmake/Torch/TorchConfig.cmake"
  if [[ -z $ABI && -f $cfg ]] && grep -q '_GLIBCXX_USE_CXX11_ABI=[01]' "$cfg"; then
    ABI=$(grep -o '_GLIBCXX_USE_CXX11_ABI=[01]' "$cfg" | head -1 | cut -d= -f2)
  fi
fi
[[ -d $LIB_DIR ]] || die "libtorch library folder $LIB_DIR does not exist"
LIB_DIR=$(cd "$LIB_DIR" && pwd)
for l in libtorch.so libtorch_cpu.so libc10.so; do
  [[ -e $LIB_DIR/$l ]] || die "$LIB_DIR has no $l: not a libtorch library folder"
done
found_header=0
for d in "${INCLUDES[@]}"; do
  [[ -f $d/torch/torch.h || -f $d/torch/all.h ]] && found_header=1
done
[[ $found_header -eq 1 ]] || die "no libtorch C++ headers (torch/torch.h) under: ${INCLUDES[*]:-none given}"
if [[ -z $ABI ]]; then
  # the C++11 ABI shows in libc10's exported std::string symbols
  if [[ $(nm -D "$LIB_DIR/libc10.so" 2>/dev/null | grep -c '__cxx11') -gt 0 ]]; then ABI=1; else ABI=0; fi
fi
[[ -n $VERSION ]] || die "cannot tell the libtorch version: pass --version (e.g. 2.7.1)"
[[ $VERSION =~ ^[0-9]+\.[0-9]+\.[0-9]+$ ]] || die "--version must look like 2.7.1, got '$VERSION'"
if [[ -z $FLAVOR ]]; then
  if [[ -e $LIB_DIR/libtorch_cuda.so ]]; then
    die "$LIB_DIR has libtorch_cuda.so but no build-version: pass --flavor cuXYZ (the CUDA it was built for)"
  fi
  FLAVOR=cpu
fi
if [[ -z $JNA_DIRS && $FLAVOR == cu* ]]; then
  # JNA (CudaUtils, Engine.getGpuCount) loads libcudart.so by that name
  JNA_DIRS=$(ls -d "$LIB_DIR" /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib 2>/dev/null \
    | while read -r d; do ls "$d"/libcudart.so* >/dev/null 2>&1 && echo "$d"; done | paste -sd: || true)
fi

# ------------------------------------------------------------------ sources, JDK, compiler
for p in engines/pytorch/pytorch-native/src/main/native/djl_pytorch_utils.h api/src/main/native \
         jni-header/ai_djl_pytorch_jni_PyTorchLibrary.h; do
  [[ -e $DJL_SRC/$p ]] || die "--djl-src $DJL_SRC lacks $p (DJL $DJL_VERSION native sources expected)"
done
if [[ -z $JDK_INCLUDE ]]; then
  for c in ${JAVA_HOME:+"$JAVA_HOME/include"} \
           "$(dirname "$(dirname "$(readlink -f "$(command -v java 2>/dev/null || echo /nonexistent)")")")/include"; do
    [[ -f $c/jni.h ]] && { JDK_INCLUDE=$c; break; }
  done
fi
[[ -n $JDK_INCLUDE && -f $JDK_INCLUDE/jni.h ]] || die "no jni.h: pass --jdk-include DIR or set JAVA_HOME to a JDK (or a jlinked JRE with include/)"
command -v "${CXX:-g++}" >/dev/null 2>&1 || die "no C++ compiler (${CXX:-g++}) on PATH"
command -v python3 >/dev/null 2>&1 || [[ -n $PY ]] || die "python3 is needed to run the build helper"
BUILDER_PY=${PY:-python3}

CLASSIFIER=linux-x86_64
TARGET_DIR="$CACHE/pytorch/$VERSION-$FLAVOR-$CLASSIFIER"
TARGET="$TARGET_DIR/$DJL_VERSION-libdjl_torch.so"
ENV_FILE=${ENV_FILE:-$CACHE/perl-gpu.env}
WORK=${WORK:-$CACHE/jni-build/$VERSION-$FLAVOR}

# DJL loads every library of PYTORCH_LIBRARY_PATH except torch_*/caffe2_* ones; skip those whose
# dependencies do not resolve on this machine (they would fail the whole load).
EXCLUDE=""
so_count=$(ls "$LIB_DIR" | grep -c '\.so' || true)
if [[ $so_count -gt 300 ]]; then
  echo "note: $LIB_DIR holds $so_count libraries (a system folder?): not scanned for unresolved ones;" \
       "DJL loads every library of PYTORCH_LIBRARY_PATH, so give it a folder with libtorch's only" >&2
fi
for f in "$LIB_DIR"/*.so*; do
  [[ $so_count -gt 300 ]] && break
  [[ -f $f ]] || continue
  b=$(basename "$f")
  case $b in *torch_*|*caffe2_*|libtorch.so|libc10.so|libc10_cuda.so) continue ;; esac
  if [[ $(ldd "$f" 2>/dev/null | grep -c 'not found') -gt 0 ]]; then EXCLUDE="${EXCLUDE:+$EXCLUDE,}$b"; fi
done

env_lines() {
  echo "# written by deploy/gpu/build-jni.sh for libtorch $VERSION ($FLAVOR) in $LIB_DIR"
  echo "export PYTORCH_LIBRARY_PATH='$LIB_DIR'"
  echo "export PYTORCH_VERSION='$VERSION'"
  echo "export PYTORCH_FLAVOR='$FLAVOR'"
  echo "export DJL_CACHE_DIR='$CACHE'"
  echo "export DJL_OFFLINE=true"
  [[ -n $EXCLUDE ]] && echo "export PYTORCH_LIBRARY_EXCLUSION='$EXCLUDE'"
  echo "export PERL_GPU_JNA_LIBRARY_PATH='$JNA_DIRS'"
  echo "export PERL_GPU_JAVA_OPTS='-Dai.djl.offline=true${JNA_DIRS:+ -Djna.library.path=$JNA_DIRS}'"
}

cat <<EOF
build-jni plan:
  libtorch      $LIB_DIR (version $VERSION, flavor $FLAVOR, cxx11 abi $ABI)
  headers       ${INCLUDES[*]}
  djl sources   $DJL_SRC (DJL $DJL_VERSION)
  jni.h         $JDK_INCLUDE
  compiler      $(command -v "${CXX:-g++}") ($("${CXX:-g++}" --version | head -1)), $JOBS jobs
  bf16 mapping  $([[ $BF16 == 1 ]] && echo yes || echo no)
  build in      $WORK
  install as    $TARGET
  env file      $ENV_FILE
  libcudart     ${JNA_DIRS:-none found (Engine.getGpuCount() will report 0 GPUs unless jna.library.path names one)}
env:
$(env_lines | sed 's/^/  /')
EOF
if [[ $CHECK == 1 ]]; then
  echo "check: inputs are valid; nothing built (drop --check to build)"
  exit 0
fi

mkdir -p "$WORK" "$TARGET_DIR"
args=(--lib "$LIB_DIR" --version "$VERSION" --abi "$ABI" --djl-src "$DJL_SRC" --jdk-include "$JDK_INCLUDE"
      --out "$WORK" --jobs "$JOBS")
for d in "${INCLUDES[@]}"; do args+=(--include "$d"); done
[[ $BF16 == 0 ]] && args+=(--no-bf16)
if ! "$BUILDER_PY" "$HERE/djl_jni_build.py" "${args[@]}" > "$WORK/build.log" 2>&1; then
  echo "build-jni: the build failed; last lines of $WORK/build.log:" >&2
  tail -25 "$WORK/build.log" >&2
  exit 1
fi
grep -E '^(jni_functions|bf16|patched|std)=' "$WORK/build-status.txt" | sed 's/^/  /'
cp "$WORK/libdjl_torch.so" "$TARGET.tmp" && mv "$TARGET.tmp" "$TARGET"
mkdir -p "$(dirname "$ENV_FILE")"
env_lines > "$ENV_FILE"
echo "installed $TARGET"
echo "env written to $ENV_FILE (source it; JVM flags in \$PERL_GPU_JAVA_OPTS)"
