#!/usr/bin/env python3
"""A single-process PyTorch peer of our PeRL training step (issue 16, "Targets", second bullet).

The same tiny model as perl-model's builtin family (TinyVlm: patch encoder + causal pre-LN decoder,
learned absolute positions, untied head), loaded from OUR checkpoint (params.bin), on the same
prompts (the Parquet split `perl train` reads), doing the same work per step as `perl train` with
conf/demo.yaml and the issue's overrides:

  draw 32 prompts -> each + 1 permuted copy (images reordered, text kept, answer remapped) ->
  n = 8 responses per copy (temperature 1, top-p 1, <= 32 new tokens, KV-cached, in generate calls
  of 128 sequences) -> reference log-probs (frozen warm start, in scoring calls of 128) ->
  reward 0.9 accuracy + 0.1 format -> per-group advantages (16 responses a group), zero-variance
  groups dropped (metric: reward), no refill -> kept groups shuffled, mini-batches of 16 groups,
  micro-batches of 16 sequences, GRPO loss (clip 0.2, dual clip 3, k3 KL 0.01, token-mean) ->
  grad clip 1.0 -> AdamW (lr 3e-4, wd 0.01).

Different random streams from ours (torch's generator, not SplittableRandom), so not bitwise equal.
One JSON line per step on stdout. `--check` instead compares log-probs and rewards with ours (Java,
bench/peer/PeerCheck.java) and exits. Needs torch, numpy and pyarrow.
"""
import argparse
import base64
import json
import math
import os
import re
import struct
import subprocess
import sys
import time
import zlib

# pyarrow may be installed next to this script (pip install --target bench/peer/.deps pyarrow).
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".deps"))

import numpy as np
import torch
import torch.nn.functional as F

MASKED = -1e9  # TinyVlm.MASKED: finite, so a fully masked row stays finite
LAYER_NORM_EPS = 1e-5
PAD, BOS, EOS, IMAGE = 0, 1, 2, 4  # WordTokenizer's fixed special ids


# ------------------------------------------------------------------ checkpoint (TinyVlm bytes)

def read_params(path):
    """TinyVlm.parametersToBytes(): big-endian header (DataOutputStream), little-endian floats."""
    if os.path.isdir(path):
        steps = sorted(d for d in os.listdir(path) if d.startswith("step-"))
        if not steps:
            sys.exit(f"{path}: no step-* checkpoint inside")
        path = os.path.join(path, steps[-1], "params.bin")
    raw = open(path, "rb").read()
    at = 0

    def take(fmt):
        nonlocal at
        v = struct.unpack_from(fmt, raw, at)
        at += struct.calcsize(fmt)
        return v

    magic, version = take(">ii")
    if magic != 0x50535056 or version != 1:
        sys.exit(f"{path}: not TinyVlm parameters of format 1")
    keys = ["vocab", "image", "patch", "channels", "d", "layers", "heads", "ffn_mult", "max_seq"]
    spec = dict(zip(keys, take(">9i")))
    spec["tied"] = bool(take(">b")[0])
    (count,) = take(">i")
    params = {}
    for _ in range(count):
        (n,) = take(">H")
        name = raw[at:at + n].decode("utf-8")
        at += n
        (dims,) = take(">i")
        shape = take(f">{dims}q")
        size = int(np.prod(shape))
        params[name] = torch.from_numpy(
            np.frombuffer(raw, dtype="<f4", count=size, offset=at).reshape(shape).copy())
        at += 4 * size
    if at != len(raw):
        sys.exit(f"{path}: {len(raw) - at} trailing bytes")
    return spec, params, path


# ------------------------------------------------------------------ the model

class TinyVlm(torch.nn.Module):
    """TinyVlmBlock in PyTorch: table rows index concat(patch embeddings of the batch's images,
    token embeddings) as in Sequences.java; plus learned positions; pre-LN decoder; LN + head."""

    def __init__(self, spec, params):
        super().__init__()
        self.spec = spec
        self.d, self.h = spec["d"], spec["heads"]
        self.hd = self.d // self.h
        self.ppi = (spec["image"] // spec["patch"]) ** 2
        self.p = torch.nn.ParameterDict({k.replace(".", "_"): torch.nn.Parameter(v.clone())
                                         for k, v in params.items()})
        self.names = list(params)  # flat order of the checkpoint (the optimizer's order)

    def w(self, name):
        return self.p[name.replace(".", "_")]

    def table(self, patches):
        tok = self.w("token.embedding")
        if patches is None or patches.shape[0] == 0:
            return tok
        patches = patches.reshape(-1, self.ppi, patches.shape[-1])  # [images, P, patchDim]
        img = F.linear(patches, self.w("patch.weight"), self.w("patch.bias")) + self.w("patch.position")
        return torch.cat([img.reshape(-1, self.d), tok], 0)

    def embed(self, rows, positions, patches):
        return F.embedding(rows, self.table(patches)) + F.embedding(positions, self.w("position.embedding"))

    def decode(self, x, bias, cache=None, cache_len=0):
        """Residual stream [B, L, d]; with cache (per layer [K, V] of [B, H, cap, hd]) this step's
        keys/values are written at cache_len.. and attention covers the cached ones too."""
        b, length, _ = x.shape
        scale = 1.0 / math.sqrt(self.hd)
        for layer in range(self.spec["layers"]):
            pre = f"layer{layer}."
            h = F.layer_norm(x, (self.d,), self.w(pre + "ln1.gamma"), self.w(pre + "ln1.beta"), LAYER_NORM_EPS)
            q, k, v = F.linear(h, self.w(pre + "attn.qkv.weight"), self.w(pre + "attn.qkv.bias")).split(self.d, 2)
            q = q.reshape(b, length, self.h, self.hd).transpose(1, 2) * scale
            k = k.reshape(b, length, self.h, self.hd).transpose(1, 2)
            v = v.reshape(b, length, self.h, self.hd).transpose(1, 2)
            if cache is not None:
                ck, cv = cache[layer]
                ck[:, :, cache_len:cache_len + length] = k
                cv[:, :, cache_len:cache_len + length] = v
                k, v = ck[:, :, :cache_len + length], cv[:, :, :cache_len + length]
            att = torch.softmax(q @ k.transpose(2, 3) + bias, -1)
            mixed = (att @ v).transpose(1, 2).reshape(b, length, self.d)
            x = x + F.linear(mixed, self.w(pre + "attn.out.weight"), self.w(pre + "attn.out.bias"))
            h2 = F.layer_norm(x, (self.d,), self.w(pre + "ln2.gamma"), self.w(pre + "ln2.beta"), LAYER_NORM_EPS)
            x = x + F.linear(F.gelu(F.linear(h2, self.w(pre + "ffn.in.weight"), self.w(pre + "ffn.in.bias"))),
                             self.w(pre + "ffn.out.weight"), self.w(pre + "ffn.out.bias"))
        return x

    def head(self, x):
        x = F.layer_norm(x, (self.d,), self.w("final.gamma"), self.w("final.beta"), LAYER_NORM_EPS)
        return F.linear(x, self.w("token.embedding") if self.spec["tied"] else self.w("head.weight"))


def prompt_rows(prompt, first_image, token_offset, ppi):
    """Sequences.writePrompt: bos, then text tokens, each <image> expanded to its P patch rows."""
    rows = [token_offset + BOS]
    image = first_image
    for t in prompt["tokens"]:
        if t == IMAGE:
            rows.extend(range(image * ppi, image * ppi + ppi))
            image += 1
        else:
            rows.append(token_offset + t)
    return rows


def batch_patches(prompts):
    return torch.from_numpy(np.concatenate([p["patches"] for p in prompts], 0)) if prompts else None


@torch.inference_mode()
def generate(model, prompts, max_new, gen):
    """TinyVlm.generate with the KV cache: left-padded prefill, then one token per step for every
    row until all rows are done (done rows are fed pad, as ours does); temperature 1, top-p 1.
    Returns token lists (eos included when sampled) and their log-probs."""
    spec, ppi = model.spec, model.ppi
    batch = len(prompts)
    patches = batch_patches(prompts)
    offset = patches.shape[0]  # N*P patch rows precede the tokens
    lengths = [1 + len(p["tokens"]) - p["images"] + p["images"] * ppi for p in prompts]
    width = max(lengths)
    caps = [min(max_new, spec["max_seq"] - n) for n in lengths]
    steps = max(caps)
    rows = torch.full((batch, width), offset + PAD, dtype=torch.long)
    positions = torch.zeros((batch, width), dtype=torch.long)
    pad_key = torch.zeros((batch, width), dtype=torch.bool)
    image = 0
    for b, p in enumerate(prompts):
        pad = width - lengths[b]
        rows[b, pad:] = torch.tensor(prompt_rows(p, image, offset, ppi))
        image += p["images"]
        positions[b, pad:] = torch.arange(lengths[b])
        pad_key[b, :pad] = True
    causal = torch.ones(width, width, dtype=torch.bool).triu(1)
    bias = torch.zeros(batch, 1, width, width).masked_fill(causal | pad_key[:, None, None, :], MASKED)
    cache = [(torch.empty(batch, model.h, width + steps, model.hd), torch.empty(batch, model.h, width + steps, model.hd))
             for _ in range(spec["layers"])]
    logits = model.head(model.decode(model.embed(rows, positions, patches), bias, cache, 0)[:, -1])
    tokens = torch.zeros(batch, steps, dtype=torch.long)
    logps = torch.zeros(batch, steps)
    n_out = torch.zeros(batch, dtype=torch.long)
    active = torch.ones(batch, dtype=torch.bool)
    cap_t = torch.tensor(caps)
    prompt_len = torch.tensor(lengths)
    key_bias = torch.zeros(batch, 1, 1, width + steps).masked_fill(
        torch.cat([pad_key, torch.zeros(batch, steps, dtype=torch.bool)], 1)[:, None, None, :], MASKED)
    for s in range(steps):
        logp_all = torch.log_softmax(logits, -1)
        token = torch.multinomial(logp_all.exp(), 1, generator=gen).squeeze(1)
        idx = active.nonzero().squeeze(1)
        tokens[idx, n_out[idx]] = token[idx]
        logps[idx, n_out[idx]] = logp_all[idx, token[idx]]
        n_out[idx] += 1
        active = active & (token != EOS) & (n_out < cap_t)
        if not active.any():
            break
        fed = torch.where(active, token, torch.full_like(token, PAD))
        pos = torch.clamp(prompt_len + s, max=spec["max_seq"] - 1)
        x = model.embed(fed[:, None], pos[:, None], None)  # no images: the table is the token embedding
        hidden = model.decode(x, key_bias[..., :width + s + 1], cache, width + s)
        logits = model.head(hidden[:, 0])
    return ([tokens[b, :n_out[b]].tolist() for b in range(batch)],
            [logps[b, :n_out[b]] for b in range(batch)])


def pack(prompts, responses, ppi):
    """TinyVlmBatch.pack: [bos, prompt, response] right-padded, positions from 0; output row of
    response token k is (promptLength - 1 + k); mask 1 on real response tokens."""
    patches = batch_patches(prompts)
    offset = patches.shape[0]  # N*P patch rows precede the tokens
    plens = [1 + len(p["tokens"]) - p["images"] + p["images"] * ppi for p in prompts]
    length = max(pl + len(r) for pl, r in zip(plens, responses))
    t = max(1, max(len(r) for r in responses))
    b = len(prompts)
    rows = torch.full((b, length), offset + PAD, dtype=torch.long)
    out_rows = torch.zeros((b, t), dtype=torch.long)
    targets = torch.zeros((b, t), dtype=torch.long)
    mask = torch.zeros((b, t))
    image = 0
    for i, (p, r) in enumerate(zip(prompts, responses)):
        seq = prompt_rows(p, image, offset, ppi) + [offset + x for x in r]
        image += p["images"]
        rows[i, :len(seq)] = torch.tensor(seq)
        n = len(r)
        out_rows[i, :n] = i * length + plens[i] - 1 + torch.arange(n)
        out_rows[i, n:] = i * length
        targets[i, :n] = torch.tensor(r, dtype=torch.long)
        mask[i, :n] = 1
    positions = torch.arange(length).expand(b, length)
    return rows, positions, patches, out_rows, targets, mask


def response_logprobs(model, packed, with_entropy=False):
    """TinyVlm.responseTensors at temperature 1: log-probs of the response tokens [B, T]."""
    rows, positions, patches, out_rows, targets, mask = packed
    b, length = rows.shape
    causal = torch.zeros(length, length).masked_fill(torch.ones(length, length, dtype=torch.bool).triu(1), MASKED)
    hidden = model.decode(model.embed(rows, positions, patches), causal).reshape(b * length, model.d)
    logsm = torch.log_softmax(model.head(hidden[out_rows]), -1)
    logp = logsm.gather(2, targets[..., None]).squeeze(2)
    entropy = None
    if with_entropy:
        with torch.no_grad():
            entropy = -(logsm.exp() * logsm).sum(-1)
    return logp, entropy


@torch.inference_mode()
def score(model, prompts, responses, batch_size):
    """Per-token log-probs of given responses, in calls of batch_size sequences."""
    out = []
    for at in range(0, len(prompts), batch_size):
        ps, rs = prompts[at:at + batch_size], responses[at:at + batch_size]
        logp, _ = response_logprobs(model, pack(ps, rs, model.ppi))
        out.extend(logp[i, :len(r)].clone() for i, r in enumerate(rs))
    return out


# ------------------------------------------------------------------ tokenizer and reward

TOKEN = re.compile(r"<image>|<think>|</think>|<answer>|</answer>|\\boxed\{|\}|[^\W\d_]+|\d|[^\s\w]|_")


class WordTokenizer:
    """WordTokenizer: ids from our vocabulary (PeerCheck vocab), letters lower-cased, unknown -> 3."""

    def __init__(self, tokens):
        self.tokens = tokens
        self.ids = {t: i for i, t in enumerate(tokens)}

    def encode(self, text):
        out = []
        for t in TOKEN.findall(text):
            if t[0].isalpha():
                t = t.lower()
            out.append(self.ids.get(t, 3))
        return out

    def decode(self, ids):
        return " ".join(self.tokens[i] for i in ids if i != PAD)


BOXED_OPEN = re.compile(r"\\boxed\s*\{")
TRAILING_PUNCT = re.compile(r"[\s.!?;。]+$")
LATEX_TEXT = re.compile(r"\\(?:text|textbf|textit|textrm|mathrm|mathbf|mathit|mbox|operatorname)\s*\{([^{}]*)\}")
LATEX_SPACING = re.compile(r"\\[,;:! ]|~")
IMAGE_WORD = r"(?:image|img|picture|pic|photo)"
INDEX_PATTERNS = [re.compile(r"^(\d{1,9})$"), re.compile(r"^(?:the\s+)?" + IMAGE_WORD + r"\s*[-_#:]?\s*(\d{1,9})$"),
                  re.compile(r"^(?:the\s+)?(\d{1,9})(?:st|nd|rd|th)(?:\s+(?:" + IMAGE_WORD + r"|one))?$")]
INDEX_WORD = re.compile(r"^(?:the\s+)?([a-z]+)(?:\s+(?:" + IMAGE_WORD + r"|one))?$")
ORDINALS = ["first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth", "tenth"]


def last_boxed(text):
    """AnswerExtractor.lastBoxed: the trimmed content of the last closed \\boxed{...}, or None."""
    starts = [m.end() for m in BOXED_OPEN.finditer(text)]
    if not starts:
        return None
    depth, i, start = 1, starts[-1], starts[-1]
    while i < len(text):
        c = text[i]
        if c == "\\" and i + 1 < len(text) and text[i + 1] in "{}":
            i += 1
        elif c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                content = text[start:i].strip()
                return content or None
        i += 1
    return None


def think_boxed_format(response):
    """FormatReward(THINK_BOXED): one leading <think>, one </think>, a closed \\boxed{} after it."""
    r = response.strip()
    if not r.startswith("<think>") or r.count("<think>") != 1 or r.count("</think>") != 1:
        return False
    return last_boxed(r[r.index("</think>") + len("</think>"):]) is not None


def clean(text):
    s, prev = text.strip(), None
    while s != prev:
        prev, s = s, LATEX_TEXT.sub(lambda m: m.group(1), s)
    s = s.replace("\\left", "").replace("\\right", "")
    s = LATEX_SPACING.sub(" ", s)
    for x in ("\\(", "\\)", "\\[", "\\]", "$", "**"):
        s = s.replace(x, "")
    s = s.strip()
    if len(s) >= 2 and s[0] in "\"'“”`" and s[-1] in "\"'“”`":
        s = s[1:-1].strip()
    return s


def unwrap(s):
    if len(s) >= 2 and (s[0], s[-1]) in (("(", ")"), ("[", "]"), ("{", "}"), ("<", ">")):
        return s[1:-1].strip()
    return s


def index_token(s):
    for p in INDEX_PATTERNS:
        m = p.match(s)
        if m:
            i = int(m.group(1))
            return i if i >= 1 else None
    m = INDEX_WORD.match(s)
    if m and m.group(1) in ORDINALS:
        return ORDINALS.index(m.group(1)) + 1
    return None


def image_index(text):
    """AnswerNormalizer.parseImageIndex."""
    if text is None:
        return None
    s = unwrap(TRAILING_PUNCT.sub("", clean(text).lower()))
    whole = index_token(s)
    if whole is not None:
        return whole
    colon = s.find(":")
    return index_token(s[:colon].strip()) if colon > 0 else None


def reward(response, answer):
    """Rewards.standard(THINK_BOXED) for an image_index answer: 0.9 accuracy + 0.1 format."""
    truth = image_index(answer)
    if truth is None:
        raise ValueError(f"ground truth {answer!r} is not an image index")
    extracted = image_index(last_boxed(response))
    accuracy = 1.0 if extracted == truth else 0.0
    fmt = 1.0 if think_boxed_format(response) else 0.0
    return 0.9 * accuracy + 0.1 * fmt, accuracy


# ------------------------------------------------------------------ data

def decode_png(data):
    """Our synth PNGs (8-bit RGB, one IDAT, no interlace) -> HWC uint8; PNG filters handled."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    at, idat, w = 8, b"", None
    while at < len(data):
        (n,) = struct.unpack(">I", data[at:at + 4])
        kind, body = data[at + 4:at + 8], data[at + 8:at + 8 + n]
        at += 12 + n
        if kind == b"IHDR":
            w, h, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            if depth != 8 or colour != 2 or interlace != 0:
                raise ValueError("only 8-bit RGB non-interlaced PNGs (as perl synth writes)")
        elif kind == b"IDAT":
            idat += body
    raw = np.frombuffer(zlib.decompress(idat), dtype=np.uint8).reshape(h, 1 + 3 * w)
    out = np.zeros((h, 3 * w), dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        up = out[y - 1] if y else np.zeros(3 * w, np.int32)
        if f == 0:
            out[y] = line
        elif f == 2:
            out[y] = (line + up) & 255
        else:  # sub / average / paeth depend on the left pixel: byte by byte
            for x in range(3 * w):
                a = out[y, x - 3] if x >= 3 else 0
                c = up[x - 3] if x >= 3 else 0
                b = up[x]
                if f == 1:
                    pred = a
                elif f == 3:
                    pred = (a + b) // 2
                else:
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
                out[y, x] = (line[x] + pred) & 255
    return out.reshape(h, w, 3).astype(np.uint8)


def image_patches(png, spec):
    """ImagePixels.decode (CHW floats in [0, 1]) then Sequences.patchify: patches in raster order,
    each channel, pixel row, pixel column."""
    hwc = decode_png(png)
    size, ps, c = spec["image"], spec["patch"], spec["channels"]
    if hwc.shape[:2] != (size, size) or c != 3:
        raise ValueError(f"image is {hwc.shape[:2]}, the model takes {size}x{size} RGB (no resizing here)")
    chw = hwc.transpose(2, 0, 1).astype(np.float32) / np.float32(255)
    side = size // ps
    return chw.reshape(c, side, ps, side, ps).transpose(1, 3, 0, 2, 4).reshape(side * side, c * ps * ps)


def load_prompts(path, spec, tokenizer, limit=None):
    import pyarrow.parquet as pq
    if os.path.isdir(os.path.join(path, "data")):  # perl filter / prepare output (DataPaths)
        path = os.path.join(path, "data")
    table = pq.read_table(path, columns=["id", "images", "problem", "answer", "answer_kind", "order_sensitive"])
    out = []
    for row in table.to_pylist()[:limit]:
        if row["answer_kind"] != "image_index":
            sys.exit(f"{path}: row {row['id']} is {row['answer_kind']}; the peer implements which_image only")
        pngs = [img["bytes"] for img in row["images"]]
        out.append({"id": row["id"], "text": row["problem"], "tokens": tokenizer.encode(row["problem"]),
                    "answer": row["answer"], "order_sensitive": row["order_sensitive"], "pngs": pngs,
                    "image_patches": [image_patches(p, spec) for p in pngs], "images": len(pngs)})
    return out


def with_images(prompt, image_list):
    q = dict(prompt)
    q["patches"] = np.concatenate(image_list, 0)
    return q


def permuted_copy(prompt, rng):
    """Permuter.apply with slots=all: new[j] = old[order[j]], a uniform non-identity order; text kept;
    an image-index answer follows its image (AnswerRemapper)."""
    n = prompt["images"]
    while True:
        order = rng.permutation(n)
        if (order != np.arange(n)).any():
            break
    q = with_images(prompt, [prompt["image_patches"][o] for o in order])
    if prompt["order_sensitive"]:
        new_slot_of = np.empty(n, dtype=int)
        new_slot_of[order] = np.arange(n)
        q["answer"] = str(new_slot_of[int(prompt["answer"]) - 1] + 1)
    return q


# ------------------------------------------------------------------ the step

def group_advantages(rewards):
    """GroupAdvantages (GRPO): (r - mean) / (unbiased std + 1e-6) in double; None for zero variance."""
    r = np.asarray(rewards, dtype=np.float64)
    std = r.std(ddof=1) if len(r) > 1 else 0.0
    if std == 0.0:
        return None
    return (r - r.mean()) / (std + 1e-6)


def grpo_loss(logp, old, ref, adv, mask, normaliser, a):
    """GrpoLoss (docs/ARCHITECTURE.md "GRPO as implemented"), token-mean with the mini-batch's
    normaliser; padding replaced by 0 before any arithmetic."""
    m = mask > 0
    zero = torch.zeros_like(logp)
    lp = torch.where(m, logp, zero)
    old = torch.where(m, old, zero)
    adv = adv[:, None].expand_as(lp)
    ratio = torch.exp(torch.clamp(lp - old, -20, 20))
    pg = torch.maximum(-ratio * adv, -torch.clamp(ratio, 1 - a.clip_low, 1 + a.clip_high) * adv)
    neg = adv < 0
    pg = torch.where(neg, torch.minimum(pg, -a.dual_clip * adv), pg)
    per_token = pg
    kl = zero
    if a.kl_coef > 0:
        d = torch.clamp(torch.where(m, ref, zero) - lp, -20, 20)
        kl = torch.clamp(torch.exp(d) - d - 1, -10, 10)
        per_token = pg + a.kl_coef * kl
    total = torch.where(m, per_token, zero).sum()
    return total / (normaliser if normaliser > 0 else 1.0), torch.where(m, kl, zero).sum().item()


def step(a, policy, reference, optimizer, prompts, cursor, rng, gen):
    t = {"generate": 0.0, "reference": 0.0, "reward_advantage": 0.0, "update": 0.0}
    cpu0, wall0 = time.process_time(), time.perf_counter()

    # draw + permute: original then its copy, adjacent, as PermutationTransform.expand orders them
    drawn = [prompts[cursor.next()] for _ in range(a.prompts)]
    copies, group_of = [], []
    for g, p in enumerate(drawn):
        copies.append(with_images(p, p["image_patches"]))
        group_of.append(g)
        if a.copies and p["images"] >= 2:
            copies.append(permuted_copy(p, rng))
            group_of.append(g)

    # roll out: n responses per copy, in generate calls of whole copies (<= generation_batch sequences)
    t0 = time.perf_counter()
    per_call = max(1, a.generation_batch // a.n)
    seq_prompt, seq_group, responses, old_logp = [], [], [], []
    for at in range(0, len(copies), per_call):
        chunk = copies[at:at + per_call]
        inputs = [c for c in chunk for _ in range(a.n)]
        toks, lps = generate(policy, inputs, a.max_new_tokens, gen)
        seq_prompt += inputs
        seq_group += [group_of[at + i // a.n] for i in range(len(inputs))]
        responses += toks
        old_logp += lps
    t["generate"] = time.perf_counter() - t0

    def reference_logprobs(indices):
        t1 = time.perf_counter()
        out = score(reference, [seq_prompt[i] for i in indices], [responses[i] for i in indices], a.scoring_batch)
        t["reference"] += time.perf_counter() - t1
        return dict(zip(indices, out))

    ref_logp = {}
    if a.kl_coef > 0 and a.score_reference == "all":
        ref_logp = reference_logprobs(list(range(len(responses))))

    # rewards, groups, advantages, online filter (zero variance of the reward; no refill)
    t0 = time.perf_counter()
    rewards, accuracy = [], []
    for i, r in enumerate(responses):
        text = policy_tokenizer.decode(r[:-1] if r and r[-1] == EOS else r)
        rw, acc = reward(text, seq_prompt[i]["answer"])
        rewards.append(rw)
        accuracy.append(acc)
    members = {}
    for i, g in enumerate(seq_group):
        members.setdefault(g, []).append(i)
    kept, advantage = [], {}
    for g, idx in members.items():
        adv = group_advantages([rewards[i] for i in idx])
        if adv is not None:
            kept.append(g)
            advantage.update(zip(idx, adv))
    t["reward_advantage"] = time.perf_counter() - t0

    if a.kl_coef > 0 and a.score_reference == "kept":
        ref_logp = reference_logprobs([i for g in kept for i in members[g]])

    # update: kept groups shuffled, mini-batches of mini_batch groups, micro-batches of sequences
    t0 = time.perf_counter()
    order = list(rng.permutation(kept)) if kept else []
    updates, losses, kl_sum, tokens_trained = 0, [], 0.0, 0
    for mb in range(0, len(order), a.mini_batch):
        seqs = [i for g in order[mb:mb + a.mini_batch] for i in members[g]]
        normaliser = float(sum(len(responses[i]) for i in seqs))
        optimizer.zero_grad(set_to_none=False)
        loss_sum = 0.0
        for at in range(0, len(seqs), a.micro_batch):
            part = seqs[at:at + a.micro_batch]
            packed = pack([seq_prompt[i] for i in part], [responses[i] for i in part], policy.ppi)
            logp, _ = response_logprobs(policy, packed, with_entropy=True)
            mask = packed[5]
            old = torch.zeros_like(logp)
            ref = torch.zeros_like(logp)
            for j, i in enumerate(part):
                n = len(responses[i])
                old[j, :n] = old_logp[i]
                if a.kl_coef > 0:
                    ref[j, :n] = ref_logp[i]
            adv = torch.tensor([advantage[i] for i in part], dtype=torch.float32)
            loss, kl = grpo_loss(logp, old, ref, adv, mask, normaliser, a)
            loss.backward()
            loss_sum += loss.item()
            kl_sum += kl
        torch.nn.utils.clip_grad_norm_(policy.parameters(), a.grad_clip)
        optimizer.step()
        updates += 1
        losses.append(loss_sum)
        tokens_trained += int(normaliser)
    t["update"] = time.perf_counter() - t0

    kept_seqs = [i for g in kept for i in members[g]]
    return {
        "wall_s": time.perf_counter() - wall0, "cpu_s": time.process_time() - cpu0,
        **{f"t_{k}": v for k, v in t.items()},
        "groups_drawn": len(members), "groups_kept": len(kept), "responses_generated": len(responses),
        "responses_kept": len(kept_seqs), "responses_ref_scored": len(ref_logp),
        "response_len_mean_kept": float(np.mean([len(responses[i]) for i in kept_seqs])) if kept_seqs else 0.0,
        "response_len_mean_all": float(np.mean([len(r) for r in responses])),
        "response_tokens_generated": int(sum(len(r) for r in responses)), "tokens_trained": tokens_trained,
        "reward_mean_kept": float(np.mean([rewards[i] for i in kept_seqs])) if kept_seqs else 0.0,
        "accuracy_mean_all": float(np.mean(accuracy)), "updates": updates,
        "loss": float(np.mean(losses)) if losses else 0.0,
        "kl": kl_sum / max(1, tokens_trained),
    }


class Cursor:
    """Prompts in a seeded order, reshuffled each pass (our PromptCursor's role)."""

    def __init__(self, n, rng):
        self.n, self.rng, self.order, self.at = n, rng, [], 0

    def next(self):
        if self.at >= len(self.order):
            self.order, self.at = list(self.rng.permutation(self.n)), 0
        self.at += 1
        return int(self.order[self.at - 1])


# ------------------------------------------------------------------ sanity check against ours

def check(a, spec, params_path, policy, tokenizer, prompts):
    """Generates a few responses with the peer, adds reference SFT responses (correct by
    construction), and compares per-token log-probs and rewards with PeerCheck.java (ours)."""
    import pyarrow.parquet as pq
    gen = torch.Generator().manual_seed(a.seed)
    cases = []
    sample = prompts[:a.check]
    toks, gen_lp = generate(policy, [with_images(p, p["image_patches"]) for p in sample], a.max_new_tokens, gen)
    for p, r, lp in zip(sample, toks, gen_lp):
        cases.append((p, r, lp))
    sft = [r for r in pq.read_table(a.check_sft).to_pylist() if r["answer_kind"] == "image_index"][:a.check]
    for row in sft:
        pngs = [img["bytes"] for img in row["images"]]
        p = {"text": row["problem"], "tokens": tokenizer.encode(row["problem"]), "answer": row["answer"],
             "pngs": pngs, "images": len(pngs), "image_patches": [image_patches(x, spec) for x in pngs],
             "order_sensitive": row["order_sensitive"]}
        cases.append((p, tokenizer.encode(row["response"]) + [EOS], None))
    lines = []
    for p, r, _ in cases:
        lines.append("\t".join([p["answer"], "image_index", p["text"],
                                ",".join(base64.b64encode(x).decode() for x in p["pngs"]), " ".join(map(str, r))]))
    java = subprocess.run(["java", "-cp", a.java_cp, os.path.join(os.path.dirname(__file__), "PeerCheck.java"),
                          "score", params_path], input="\n".join(lines) + "\n", capture_output=True, text=True)
    if java.returncode != 0:
        sys.exit("PeerCheck failed:\n" + java.stderr[-3000:])
    ours = [l.split("\t") for l in java.stdout.strip().split("\n")]
    worst_score = worst_gen = 0.0
    reward_mismatches = 0
    for (p, r, lp), (our_reward, our_lp) in zip(cases, ours):
        our_lp = torch.tensor([float(x) for x in our_lp.split()]) if our_lp else torch.zeros(0)
        peer_lp = score(policy, [with_images(p, p["image_patches"])], [r], 1)[0]
        worst_score = max(worst_score, (peer_lp - our_lp).abs().max().item() if len(r) else 0.0)
        if lp is not None and len(r):
            worst_gen = max(worst_gen, (lp - our_lp).abs().max().item())
        text = tokenizer.decode(r[:-1] if r and r[-1] == EOS else r)
        peer_reward = reward(text, p["answer"])[0]
        if abs(peer_reward - float(our_reward)) > 1e-12:
            reward_mismatches += 1
            print(f"reward differs: peer {peer_reward} ours {our_reward} for {text!r}", file=sys.stderr)
    sft_rewards = [float(o[0]) for o in ours[len(sample):]]
    print(json.dumps({
        "cases": len(cases), "peer_generated": len(sample), "sft_reference_responses": len(sft),
        "max_abs_logprob_diff_scoring_path": worst_score,
        "max_abs_logprob_diff_generation_kv_cache": worst_gen,
        "reward_mismatches": reward_mismatches,
        "generated_responses_reward_ours": [float(o[0]) for o in ours[:len(sample)]],
        "sft_responses_reward_ours": sft_rewards,
        "peer_generated_tokens_total": sum(len(r) for r in toks)}))
    return worst_score <= 1e-4 and worst_gen <= 1e-4 and reward_mismatches == 0


# ------------------------------------------------------------------ main

def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--checkpoint", required=True, help="params.bin, or a checkpoints folder (latest step-*)")
    ap.add_argument("--data", required=True, help="the Parquet split `perl train` reads (which_image only)")
    ap.add_argument("--vocab", required=True, help="our token strings in id order (PeerCheck.java vocab)")
    ap.add_argument("--steps", type=int, default=30)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads (default 1)")
    ap.add_argument("--seed", type=int, default=42)
    ap.add_argument("--prompts", type=int, default=32, help="trainer.promptBatch")
    ap.add_argument("--copies", type=int, default=1, help="permutation.copies (constant schedule, p = 1)")
    ap.add_argument("--n", type=int, default=8, help="rollout.n")
    ap.add_argument("--max-new-tokens", type=int, default=32)
    ap.add_argument("--generation-batch", type=int, default=128, help="rollout.generationBatch (sequences per call)")
    ap.add_argument("--scoring-batch", type=int, default=128, help="rollout.scoringBatch")
    ap.add_argument("--score-reference", choices=["all", "kept"], default="all",
                    help="reference log-probs for every generated response (ours) or only the kept groups'")
    ap.add_argument("--mini-batch", type=int, default=16, help="groups per update (trainer.miniBatch)")
    ap.add_argument("--micro-batch", type=int, default=16, help="sequences per forward/backward (trainer.microBatch)")
    ap.add_argument("--lr", type=float, default=3e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--grad-clip", type=float, default=1.0)
    ap.add_argument("--kl-coef", type=float, default=0.01)
    ap.add_argument("--clip-low", type=float, default=0.2)
    ap.add_argument("--clip-high", type=float, default=0.2)
    ap.add_argument("--dual-clip", type=float, default=3.0)
    ap.add_argument("--check", type=int, default=0, help="compare N rows with ours (needs --java-cp) and exit")
    ap.add_argument("--check-sft", help="SFT split whose reference responses the check also scores")
    ap.add_argument("--java-cp", help="class path with our application jar, for --check")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    spec, params, params_path = read_params(a.checkpoint)
    tokens = open(a.vocab, encoding="utf-8").read().split("\n")[:spec["vocab"]]
    if len(tokens) != spec["vocab"]:
        sys.exit(f"{a.vocab}: {len(tokens)} tokens, the checkpoint's vocabulary has {spec['vocab']}")
    global policy_tokenizer
    policy_tokenizer = WordTokenizer(tokens)
    policy = TinyVlm(spec, params)
    t0 = time.perf_counter()
    prompts = load_prompts(a.data, spec, policy_tokenizer, a.check or None)
    print(json.dumps({"event": "loaded", "prompts": len(prompts), "spec": spec,
                      "parameters": sum(v.numel() for v in params.values()), "checkpoint": params_path,
                      "load_s": round(time.perf_counter() - t0, 2), "threads": torch.get_num_threads(),
                      "torch": torch.__version__}), flush=True)
    if a.check:
        sys.exit(0 if check(a, spec, params_path, policy, policy_tokenizer, prompts) else 1)

    reference = TinyVlm(spec, params).requires_grad_(False)
    optimizer = torch.optim.AdamW(policy.parameters(), lr=a.lr, betas=(0.9, 0.999), eps=1e-8,
                                  weight_decay=a.weight_decay)
    rng = np.random.default_rng(a.seed)
    gen = torch.Generator().manual_seed(a.seed)
    cursor = Cursor(len(prompts), rng)
    for s in range(1, a.steps + 1):
        m = step(a, policy, reference, optimizer, prompts, cursor, rng, gen)
        print(json.dumps({"step": s, **{k: (round(v, 4) if isinstance(v, float) else v) for k, v in m.items()}}),
              flush=True)


policy_tokenizer = None

if __name__ == "__main__":
    main()
