#!/usr/bin/env python3
"""Compiles DJL 0.36.0's PyTorch JNI (libdjl_torch.so) against a given libtorch; run by
deploy/gpu/build-jni.sh, which finds the libtorch facts and installs the result.

The approach is the one measured on an H200 with torch 2.11 in ../shared/gpu-kit/build_jni.py
(credit: that kit): a direct parallel g++ compile of DJL's native sources with libtorch's include
dirs, its C++11-ABI flag and the C++ standard its headers demand; no CUDA headers (DJL loads
libtorch_cuda itself, CUDA tensors work; only the empty-cache call and a separate inference
stream are lost). It adds the bfloat16 dtype mapping upstream DJL 0.36 lacks, and when a source
fails, retries it once with compatibility patches for newer libtorch (c10 aliases of std types,
renamed guards, the removed legacy profiler). Writes <out>/libdjl_torch.so and
<out>/build-status.txt (key=value lines). Python 3.8+, standard library only.
"""
import argparse
import concurrent.futures as cf
import os
import re
import shutil
import subprocess
import sys
import time

T0 = time.time()
JNI_PREFIX = "Java_ai_djl_pytorch_jni_PyTorchLibrary_"


def log(msg):
    print(f"[djl-jni +{time.time() - T0:5.1f}s] {msg}", flush=True)


def run(cmd, timeout):
    try:
        p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           errors="replace", timeout=max(1, timeout))
        return p.returncode, p.stdout
    except subprocess.TimeoutExpired:
        return 124, "[timeout]"
    except OSError as e:
        return 127, str(e)


# DataType.BFLOAT16.ordinal() is 11 in DJL's api; upstream's switch has no case for it.
BF16_PATCHES = [
    ("    case 8:\n      return torch::kComplexFloat;\n",
     "    case 8:\n      return torch::kComplexFloat;\n"
     "    case 11:  // perl-spark: bfloat16 (DataType ordinal 11)\n      return torch::kBFloat16;\n"),
    ("  } else if (torch::kComplexFloat == type) {\n    return 8;\n",
     "  } else if (torch::kComplexFloat == type) {\n    return 8;\n"
     "  } else if (torch::kBFloat16 == type) {  // perl-spark: bfloat16\n    return 11;\n"),
]

# Newer libtorch dropped the c10 spellings of std types.
STD_ALIASES = [
    (r"\b(?:c10|torch|at)::nullopt\b", "std::nullopt"),
    (r"\b(?:c10|torch|at)::optional<", "std::optional<"),
    (r"\bc10::make_optional\b", "std::make_optional"),
    (r"\bc10::string_view\b", "std::string_view"),
    (r"\bC10_UNUSED\b", "[[maybe_unused]]"),
    (r"\b(?:torch|at)::AutoNonVariableTypeMode\b", "at::AutoDispatchBelowAutograd"),
]

GRAPH_OPT_INCLUDE = r"^\s*#include <torch/csrc/jit/python/update_graph_executor_opt.h>\s*$"
GRAPH_OPT_DECL = """// perl-spark: update_graph_executor_opt.h is not shipped with this libtorch
#include <torch/csrc/Export.h>
namespace torch { namespace jit {
TORCH_API void setGraphExecutorOptimize(bool o);
TORCH_API bool getGraphExecutorOptimize();
} }"""


def block_end(text, brace):
    depth = 0
    for j in range(brace, len(text)):
        if text[j] == "{":
            depth += 1
        elif text[j] == "}":
            depth -= 1
            if depth == 0:
                return j + 1
    raise ValueError("unbalanced braces")


def throwing_body(name, message):
    return ('{\n  API_BEGIN()\n  env->ThrowNew(ENGINE_EXCEPTION_CLASS, "%s: %s");\n  API_END()\n}'
            % (name, message))


def drop_legacy_profiler(text):
    """DJL's profiler uses torch's legacy profiler API, gone from newer libtorch: profiling calls
    then throw an EngineException instead of failing the build."""
    a = text.find("// the code snippet is copied from torch/csrc/autograd/profiler_legacy.cpp")
    b = text.find("// end of copies")
    if a < 0 or b < a:
        return text, False
    text = text[:a] + text[b + len("// end of copies"):]
    for fn in ("torchStartProfile", "torchStopProfile"):
        k = text.find(JNI_PREFIX + fn + "(")
        if k >= 0:
            brace = text.index("{", k)
            text = (text[:brace] + throwing_body(fn, "not available with this libtorch (no legacy profiler)")
                    + text[block_end(text, brace):])
    text = re.sub(r"^\s*using namespace torch::autograd::profiler;\s*$", "", text, flags=re.M)
    text = re.sub(r"^\s*#include <(ATen|torch/csrc/jit/frontend)/code_template.h>\s*$", "", text,
                  flags=re.M)
    return text, True


def cxx_standard(cxx, includes, scratch):
    """c++17 as DJL's CMakeLists, c++20 when this libtorch's headers refuse 17."""
    test = os.path.join(scratch, "std_test.cc")
    with open(test, "w") as f:
        f.write("#include <c10/macros/Macros.h>\n#include <c10/util/Optional.h>\nint main() { return 0; }\n")
    rc, out = run([cxx, "-std=c++17", "-fsyntax-only"] + [f"-isystem{d}" for d in includes] + [test], 120)
    if rc != 0 and re.search(r"C\+\+ ?2[0a]|c\+\+2[0a]|202002", out):
        return "c++20"
    return "c++17"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--include", action="append", required=True, help="libtorch include dir (repeat)")
    ap.add_argument("--lib", required=True, help="dir with libtorch.so, libtorch_cpu.so, libc10.so")
    ap.add_argument("--version", required=True, help="libtorch version, e.g. 2.11.0")
    ap.add_argument("--abi", required=True, choices=["0", "1"], help="_GLIBCXX_USE_CXX11_ABI")
    ap.add_argument("--djl-src", required=True)
    ap.add_argument("--jdk-include", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    ap.add_argument("--opt", default="-O0")  # as DJL's own build (no CMAKE_BUILD_TYPE): thin wrappers
    ap.add_argument("--no-bf16", action="store_true")
    a = ap.parse_args()
    # the compiler searches these anyway; as -isystem they break libstdc++'s #include_next
    a.include = [d for d in a.include if os.path.normpath(d) not in ("/usr/include", "/usr/local/include")]

    status = {"built": "no", "bf16": "off", "patched": "none", "failed_sources": "none"}
    os.makedirs(a.out, exist_ok=True)

    def finish(code):
        with open(os.path.join(a.out, "build-status.txt"), "w") as f:
            f.writelines(f"{k}={v}\n" for k, v in status.items())
        log("status: " + " ".join(f"{k}={v}" for k, v in status.items()))
        sys.exit(code)

    cxx = os.environ.get("CXX") or shutil.which("g++") or shutil.which("c++")
    if not cxx:
        status["error"] = "no C++ compiler (g++) on PATH"
        finish(2)
    native = os.path.join(a.djl_src, "engines", "pytorch", "pytorch-native", "src", "main", "native")
    api_native = os.path.join(a.djl_src, "api", "src", "main", "native")
    header = os.path.join(a.djl_src, "jni-header", "ai_djl_pytorch_jni_PyTorchLibrary.h")
    work = os.path.join(a.out, "src")
    shutil.rmtree(work, ignore_errors=True)
    shutil.copytree(native, work)
    shutil.copy(header, work)
    sources = sorted(f for f in os.listdir(work) if f.endswith(".cc"))

    def read(f):
        with open(os.path.join(work, f), errors="replace") as fh:
            return fh.read()

    def write(f, t):
        with open(os.path.join(work, f), "w") as fh:
            fh.write(t)

    patched = []
    if not any(os.path.exists(os.path.join(d, "torch/csrc/jit/python/update_graph_executor_opt.h"))
               for d in a.include):
        for f in sources:
            t, n = re.subn(GRAPH_OPT_INCLUDE, GRAPH_OPT_DECL, read(f), flags=re.M)
            if n:
                write(f, t)
                patched.append("graph-opt:" + f)
    if not a.no_bf16:
        t = read("djl_pytorch_utils.h")
        hits = sum(old in t for old, _ in BF16_PATCHES)
        for old, new in BF16_PATCHES:
            t = t.replace(old, new, 1)
        if hits == len(BF16_PATCHES):
            write("djl_pytorch_utils.h", t)
            status["bf16"] = "patched"
        else:
            status["bf16"] = f"not-applied ({hits}/{len(BF16_PATCHES)} anchors found)"

    std = cxx_standard(cxx, a.include, a.out)
    major_minor = tuple(int(x) for x in re.findall(r"\d+", a.version)[:2])
    defines = [f"-D_GLIBCXX_USE_CXX11_ABI={a.abi}"]
    if major_minor in ((1, 13), (2, 0), (2, 1)):
        defines.append("-DV1_13_X")  # DJL's build.sh does the same for these versions
    status.update(std=std, abi=a.abi, version=a.version)
    flags = ([cxx, "-c", "-fPIC", f"-std={std}", a.opt, "-g0", "-w"] + defines
             + [f"-I{work}", f"-I{api_native}", f"-I{a.jdk_include}", f"-I{os.path.join(a.jdk_include, 'linux')}"]
             + [f"-isystem{d}" for d in a.include])
    log(f"{len(sources)} sources, {a.jobs} jobs: {' '.join(flags[1:])}")
    objdir = os.path.join(a.out, "obj")
    os.makedirs(objdir, exist_ok=True)

    def compile_one(src):
        obj = os.path.join(objdir, src[:-3] + ".o")
        if os.path.exists(obj):
            os.remove(obj)
        t = time.time()
        rc, out = run(flags + [os.path.join(work, src), "-o", obj], 1800)
        log(f"  {'ok  ' if rc == 0 else 'FAIL'} {src} ({time.time() - t:.0f}s)")
        return src, rc, out

    def compile_all(files):
        with cf.ThreadPoolExecutor(max_workers=max(1, a.jobs)) as ex:
            return {src: out for src, rc, out in ex.map(compile_one, files) if rc != 0}

    failed = compile_all(sources)
    if failed:
        retry = []
        for src in failed:
            t = read(src)
            n = 0
            if major_minor >= (2, 2):  # before 2.2 c10::optional is not std::optional
                for pat, rep in STD_ALIASES:
                    t, k = re.subn(pat, rep, t)
                    n += k
                if n:
                    t = "#include <optional>\n#include <string_view>\n" + t
            t, profiler = drop_legacy_profiler(t)
            if n or profiler:
                write(src, t)
                patched.append(src)
                retry.append(src)
        log(f"{len(failed)} source(s) failed; retrying {len(retry)} with compatibility patches")
        if retry:
            again = compile_all(retry)
            failed = {s: o for s, o in failed.items() if s not in retry or s in again}
            failed.update(again)
    status["patched"] = ",".join(patched) or "none"
    for src, out in failed.items():
        errors = [l for l in out.splitlines() if re.search(r"\berror\b", l)][:8]
        log(f"--- {src} does not compile:\n    " + "\n    ".join(errors))
    status["failed_sources"] = ",".join(sorted(failed)) or "none"
    if failed:
        # a library without some sources would die later with UnsatisfiedLinkError mid-run
        status["error"] = "sources failed to compile against this libtorch (see the log)"
        finish(1)

    lib = os.path.join(a.out, "libdjl_torch.so")
    objs = sorted(os.path.join(objdir, f) for f in os.listdir(objdir) if f.endswith(".o"))
    rc, out = run([cxx, "-shared", "-o", lib] + objs
                  + [f"-L{a.lib}", f"-Wl,-rpath,{a.lib}", "-ltorch", "-ltorch_cpu", "-lc10"], 600)
    if rc != 0:
        status["error"] = "link failed: " + " ".join(out.split())[:400]
        finish(1)
    with open(header) as f:
        declared = set(re.findall(r"JNICALL\s+(" + JNI_PREFIX + r"\w+)", f.read()))
    rc, out = run(["nm", "-D", "--defined-only", lib], 60)
    exported = set(re.findall(r"\b(" + JNI_PREFIX + r"\w+)", out))
    status["jni_functions"] = f"{len(declared & exported)}/{len(declared)}"
    if declared - exported:
        status["error"] = "JNI functions missing: " + ",".join(
            sorted(x[len(JNI_PREFIX):] for x in declared - exported)[:20])
        finish(1)
    status["built"] = "yes"
    status["size_bytes"] = os.path.getsize(lib)
    finish(0)


if __name__ == "__main__":
    main()
