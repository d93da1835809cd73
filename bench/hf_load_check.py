#!/usr/bin/env python3
"""Loads what `perl export` wrote with PEFT and transformers and compares log-probs with Java's.

Input: the java-logprobs.json that HfLoadCheckTest writes (bench/hf-load-check.sh runs both).
Per variant (a base checkpoint + LoRA settings) it loads, in float32 with eager attention:
  hf base       the base checkpoint alone (transformers)        vs Java base
  peft          base + PeftModel.from_pretrained(adapter)       vs Java base + adapters
  peft merged   the same after merge_and_unload()               vs Java base + adapters
  merged f32    our --merge --dtype float32 folder (transformers) vs Java base + adapters
  merged bf16   our --merge folder in the base's bfloat16       vs Java's load of that folder
and scores each case's response tokens after its prompt (text only; two images, fed as the pixel
values Java's processor made). Fails (exit 1) when a max |log-prob diff| exceeds the tolerance,
when transformers reports a missing, unexpected or mismatched key, when PEFT or transformers warn
about missing/unexpected keys, or when a LoRA layer PEFT built is not the adapter in the file.
"""
import json
import logging
import re
import sys
import warnings

import numpy as np
import torch
from safetensors import safe_open

import peft
import transformers
from peft import PeftModel
from transformers import Qwen2_5_VLForConditionalGeneration

TOLERANCE = 5e-5  # float32 log-probs over a 151936-token vocabulary; measured worst 1.1e-5
BAD_WORDS = re.compile(r"missing|unexpected|mismatch|not initialized|newly initialized", re.I)


class Captured(logging.Handler):
    """Every warning transformers and PEFT log (their loading reports go through logging)."""

    def __init__(self):
        super().__init__(logging.WARNING)
        self.records = []

    def emit(self, record):
        self.records.append(record.getMessage())


captured = Captured()
for name in ("transformers", "peft", ""):
    logging.getLogger(name).addHandler(captured)
transformers.logging.set_verbosity_warning()
transformers.logging.disable_progress_bar()
failures = []


def load_model(path):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model, info = Qwen2_5_VLForConditionalGeneration.from_pretrained(
            path, dtype=torch.float32, attn_implementation="eager", output_loading_info=True)
    for kind in ("missing_keys", "unexpected_keys", "mismatched_keys", "error_msgs"):
        if info.get(kind):
            failures.append(f"{path}: transformers {kind}: {sorted(map(str, info[kind]))[:8]}")
    check_warnings(path, caught)
    return model.eval()


def check_warnings(what, caught):
    messages = [str(w.message) for w in caught] + captured.records
    captured.records = []
    for m in messages:
        if BAD_WORDS.search(m):
            failures.append(f"{what}: warning: {m.strip()[:300]}")


def legacy_name(runtime):
    """transformers 5 module name -> the checkpoint (Hub) name our files use."""
    if runtime.startswith("model.language_model."):
        return "model." + runtime[len("model.language_model."):]
    if runtime.startswith("model.visual."):
        return runtime[len("model."):]
    return runtime


def check_adapter_loaded(model, adapter_dir):
    """Every LoRA layer PEFT built holds the file's A and B (an unloaded one keeps B = 0)."""
    path = f"{adapter_dir}/adapter_model.safetensors"
    with safe_open(path, "pt") as f:
        file = {k: f.get_tensor(k) for k in f.keys()}
    file_modules = {k[len("base_model.model."):-len(".lora_A.weight")]
                    for k in file if k.endswith(".lora_A.weight")}
    seen = set()
    for name, module in model.named_modules():
        if not hasattr(module, "lora_A") or "default" not in getattr(module, "lora_A", {}):
            continue
        inner = name[len("base_model.model."):]
        match = next((m for m in (inner, legacy_name(inner)) if m in file_modules), None)
        if match is None:
            failures.append(f"{adapter_dir}: PEFT adapted {inner}, which the file has no weights for")
            continue
        seen.add(match)
        for ab, layer in (("A", module.lora_A["default"]), ("B", module.lora_B["default"])):
            want = file[f"base_model.model.{match}.lora_{ab}.weight"].float()
            if not torch.equal(layer.weight.detach().float(), want):
                failures.append(f"{adapter_dir}: {inner}.lora_{ab} is not the file's tensor")
    if seen != file_modules:
        failures.append(f"{adapter_dir}: file modules PEFT did not adapt: "
                        f"{sorted(file_modules - seen)[:8]}")
    return len(seen)


@torch.no_grad()
def log_probs(model, case):
    prompt, response = case["prompt_ids"], case["response_ids"]
    ids = torch.tensor([prompt + response], dtype=torch.long)
    kwargs = {"input_ids": ids, "attention_mask": torch.ones_like(ids)}
    if case.get("pixel_values"):
        grid = torch.tensor(case["image_grid_thw"], dtype=torch.long)
        rows = int(grid.prod(dim=1).sum())
        pixels = np.fromfile(case["pixel_values"], dtype="<f4").reshape(rows, -1)
        kwargs["pixel_values"] = torch.from_numpy(pixels.copy())
        kwargs["image_grid_thw"] = grid
        # transformers 5 places the multimodal rotary positions by these (1 = image token)
        kwargs["mm_token_type_ids"] = (ids == model.config.image_token_id).int()
    logits = model(**kwargs).logits[0].float()
    lp = torch.log_softmax(logits, dim=-1)
    at = torch.arange(len(prompt) - 1, len(prompt) + len(response) - 1)
    return lp[at, torch.tensor(response)].numpy()


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))))


def main(dump_path):
    with open(dump_path) as f:
        dump = json.load(f)
    print(f"torch {torch.__version__}, transformers {transformers.__version__}, peft {peft.__version__}")
    rows = []

    def compare(variant, label, model, java_key):
        for case in variant["cases"]:
            got = log_probs(model, case)
            d = max_diff(got, case["java"][java_key])
            rows.append((variant["name"], label, case["name"], java_key, d, d <= TOLERANCE))

    for v in dump["variants"]:
        base = load_model(v["base"])
        compare(v, "hf base", base, "base")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = PeftModel.from_pretrained(base, v["adapter"])
        check_warnings(v["adapter"], caught)
        loaded = check_adapter_loaded(model, v["adapter"])
        if loaded != v["modules"]:
            failures.append(f"{v['adapter']}: PEFT loaded {loaded} modules, Java wrote {v['modules']}")
        compare(v, f"peft ({loaded} modules)", model.eval(), "adapted")
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            merged = model.merge_and_unload()
        check_warnings(v["adapter"] + " merge_and_unload", caught)
        compare(v, "peft merge_and_unload", merged, "adapted")
        del base, model, merged
        compare(v, "merged f32 folder", load_model(v["merged_f32"]), "adapted")
        compare(v, "merged bf16 folder", load_model(v["merged_bf16"]), "merged_bf16")
        # how far the adapters move the model: the check is not vacuous when this is large
        effect = max(max_diff(c["java"]["adapted"], c["java"]["base"]) for c in v["cases"])
        rows.append((v["name"], "(adapters' effect)", "all", "base", effect, True))

    print(f"{'variant':<26} {'loaded by':<24} {'case':<9} {'java ref':<12} {'max |diff|':>11}  ok")
    for name, label, case, ref, d, ok in rows:
        print(f"{name:<26} {label:<24} {case:<9} {ref:<12} {d:>11.3e}  {'ok' if ok else 'FAIL'}")
        if not ok:
            failures.append(f"{name} {label} {case}: max |diff| {d:.3e} > {TOLERANCE}")
    worst = max(d for _, label, _, _, d, _ in rows if not label.startswith("("))
    print(f"worst max |log-prob diff| vs Java: {worst:.3e} (tolerance {TOLERANCE})")
    if failures:
        print("FAILED:")
        for f in failures:
            print("  " + f)
        return 1
    print("ALL OK: no missing/unexpected keys, every LoRA layer holds the file's tensors")
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 2:
        print("usage: hf_load_check.py java-logprobs.json (written by HfLoadCheckTest)", file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))
