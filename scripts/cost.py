"""CPU- and GPU-hours of everything a configuration implies, before (or while) it runs.

    python -m cost --config-json JSON [--gpu-profile profiles/slurm/config.yaml] --csv OUT.csv --md OUT.md

Run in the folder Snakemake runs in (paths under the config's `outdir` are read from there); the `cost` rule
(rules/cost.smk) passes the merged configuration. Nothing is trained: the jobs are those the configuration
implies (slkd_config: teachers, the tables' and the grid's students, distillation shards, test decodings,
evaluations; tests/test_cost.py checks them against a dry run), each costed from its budget and a throughput.

The model (stated again in OUT.md):
- training: updates x seconds per update. Students: checkpoints x checkpoint-frequency updates; teachers:
  max_epochs x target tokens / batch-size (word batches), capped by teacher.max_updates. Sockeye stops early
  after 32 checkpoints without improvement, so trainings are upper bounds.
- seconds per update = batch-size / tokens per second. Throughputs (config `cost`) are given per backend and
  device for a reference architecture and scaled to another one of that backend by its weights per token W
  (every weight matrix a target token goes through, embeddings left out; `weights_per_token`): time per token x
  (f + (1 - f) W / W_ref), where f (fixed_share) is the part of the time that does not shrink with the model.
  Sockeye 1.18's RNNs (the paper's): cost.reference, cost.gpu, cost.cpu. Sockeye 3's Transformers (backend
  sockeye3): cost.sockeye3.reference, .gpu, .cpu; where the GPU check's results file exists
  (cost.sockeye3.gpu_measured, bench/gpu-results.json), its measured Transformer GPU rates, scaled to the
  reference, replace the assumed .gpu ones. `parameters` reproduces the sizes both Sockeyes log.
- checkpoint decoding (sockeye_train `decode-and-evaluate`, on the CPU with `decode-and-evaluate-use-cpu`) runs
  beside the training: it adds to a GPU job's wall time only when it is slower than the checkpoint's updates
  (Sockeye waits for it), to a CPU job's wall time always (same cores); its CPU time is counted.
- decoding jobs: start-up + sentences / sentences per second; an ensemble of N teachers (teacher.ensemble)
  decodes at 1/N of one model's rate (each sentence goes through every member), and each of its N members is a
  training and decodes dev and test on its own.
- measured: with `cost.measured`, Sockeye logs (models/**/log: Updates/sec per checkpoint; 1.18's and 3's) and
  the benchmark files of decoding jobs (benchmarks/distill, benchmarks/translate_test) of runs under outdir
  replace the assumed throughputs: per architecture where that one was measured, else scaled from the others of
  its backend measured on that device.
- GPU jobs are the rules that the SLURM profile gives a `gpu` (with compute.device `auto`; `cpu`: none, `gpu`:
  every Sockeye job). CPU time is counted in core-hours (wall x compute.threads).
- what the run used, where it left a record (else OUT.md has no such section): the GPU samples of the trainer
  jobs (logs/<rule>/<job>.gpu.csv under outdir, scripts/gpu_monitor.py: utilisation and memory per job and per
  rule) and the efficiency reports of snakemake-executor-plugin-slurm (efficiency_report_*.csv in the folder
  the SLURM profile's slurm-efficiency-report-path names: elapsed and CPU time, CPU efficiency and memory per
  rule), each rule against its estimate. They are reported beside the estimate and change none of its figures.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import itertools
import json
import math
import re
import statistics
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gpu_monitor
import slkd_config as sc
import yaml
from corpus_check import count_lines

STUDENT_LOGS = sc.pattern_glob(sc.STUDENT) + "/log"  # every student's Sockeye log under models/

SOCKEYE_RULES = sc.TRAINER_RULES
RULES = (*SOCKEYE_RULES, "evaluate")  # the rules costed; the others are bookkeeping of seconds
DEFAULT_GPU_RULES = frozenset(SOCKEYE_RULES)
REPO = Path(__file__).resolve().parent.parent
SLURM_PROFILE = REPO / "profiles" / "slurm" / "config.yaml"
GATES = {"lstm": 4, "lnlstm": 4, "lnglstm": 4, "gru": 3, "lngru": 3, "lnggru": 3}  # Sockeye 1.18's CELL_TYPES
SPECIALS = 4  # Sockeye's <pad>, <unk>, <s>, </s>
CSV_COLUMNS = ["rule", "job", "group", "architecture", "device", "work", "unit", "rate", "rate_unit", "source",
               "wall_hours", "gpu_hours", "cpu_hours", "wait_hours", "limit_hours"]
GROUPS = ("teachers", "table students", "grid students", "distillation", "test decoding", "evaluation")
CHECKPOINT = re.compile(r"Checkpoint \[(\d+)\]\s+Updates=\d+ .*Updates/sec=([\d.]+)")  # 1.18's and 3's
VERSION = re.compile(r"log_sockeye_version\] Sockeye(?: version|:) (\d+)\.")


# ---- Model size ----------------------------------------------------------------------------------------------
def weights_per_token(arch: dict[str, Any]) -> int:
    """Multiply-adds per target token: transformer_weights_per_token for a Sockeye 3 model, else rnn_weights."""
    return transformer_weights_per_token(arch) if backend(arch) == "sockeye3" else rnn_weights_per_token(arch)


def parameters(arch: dict[str, Any], source_vocab: int | None = None, target_vocab: int | None = None) -> int:
    """The parameter count that Sockeye logs for a model: transformer_parameters for a Sockeye 3 model (give it
    the model's flags, sc.model_flags: max-seq-len sizes its positional embeddings), else rnn_parameters."""
    if backend(arch) == "sockeye3":
        return transformer_parameters(arch, source_vocab, target_vocab)
    return rnn_parameters(arch, source_vocab, target_vocab)


def rnn_weights_per_token(arch: dict[str, Any]) -> int:
    """Multiply-adds per target token of Sockeye 1.18's RNN model (`--encoder rnn --decoder rnn`, dot
    attention), with as many source as target tokens: the bidirectional first encoder layer (h/2 per direction),
    further encoder and decoder layers, the first decoder layer (input: embedding + previous attentional
    state), the attentional hidden layer (h x 2h) and the output layer (vocabulary x h). Embeddings are lookups,
    biases and the attention's dot products (S x h) are left out."""
    gates, embed, hidden = GATES[arch["rnn-cell-type"]], arch["num-embed"], arch["rnn-num-hidden"]
    layers, vocab, half = arch["num-layers"], arch["num-words"] + SPECIALS, arch["rnn-num-hidden"] // 2
    deeper = (layers - 1) * gates * hidden * 2 * hidden
    encoder = 2 * gates * half * (embed + half) + deeper
    decoder = gates * hidden * (embed + hidden) + gates * hidden * hidden + deeper + hidden * 2 * hidden
    return encoder + decoder + vocab * hidden


def rnn_parameters(arch: dict[str, Any], source_vocab: int | None = None, target_vocab: int | None = None) -> int:
    """Sockeye 1.18's `Total # of parameters` of that RNN model (vocabularies: num-words + 4 unless given)."""
    gates, embed, hidden = GATES[arch["rnn-cell-type"]], arch["num-embed"], arch["rnn-num-hidden"]
    layers, half = arch["num-layers"], arch["rnn-num-hidden"] // 2
    src = source_vocab if source_vocab is not None else arch["num-words"] + SPECIALS
    trg = target_vocab if target_vocab is not None else arch["num-words"] + SPECIALS

    def cell(inputs: int, size: int) -> int:
        return gates * size * (inputs + size) + 2 * gates * size

    encoder = 2 * cell(embed, half) + (layers - 1) * cell(hidden, hidden)
    decoder = cell(embed + hidden, hidden) + (layers - 1) * cell(hidden, hidden)
    states = 2 if GATES[arch["rnn-cell-type"]] == 4 else 1  # LSTMs initialise h and c from the encoder
    init = layers * states * (hidden * hidden + hidden)
    return (src + trg) * embed + encoder + decoder + init + hidden * 2 * hidden + hidden + trg * hidden + trg


# ---- Model size: Sockeye 3.1.34's Transformers (backend sockeye3) -----------------------------------------------
# Sockeye 3.1.34's defaults of the flags that shape a Transformer (sockeye/arguments.py); num-embed defaults to
# (and must equal) transformer-model-size.
TRANSFORMER_DEFAULTS: dict[str, Any] = {
    "num-layers": "6:6", "transformer-model-size": "512:512", "transformer-attention-heads": "8:8",
    "transformer-feed-forward-num-hidden": "2048:2048", "transformer-feed-forward-use-glu": False,
    "transformer-activation-type": "relu:relu", "transformer-positional-embedding-type": "fixed",
    "transformer-preprocess": "n:n", "transformer-postprocess": "dr:dr", "weight-tying-type": "src_trg_softmax",
    "pad-vocab-to-multiple-of": 8, "decoder": "transformer", "lhuc": "",
}
TRANSFORMER_PAIRS = ("num-layers", "transformer-model-size", "transformer-attention-heads",
                     "transformer-feed-forward-num-hidden", "transformer-activation-type", "transformer-preprocess",
                     "transformer-postprocess")  # "E:D" (or one value for both sides)
TRANSFORMER_KEYS = ("num-words", *TRANSFORMER_DEFAULTS)  # the flags that make a Transformer's speed and size
DEFAULT_MAX_SEQ_LEN = "95:95"  # Sockeye 3's --max-seq-len; its positional embeddings have one row more


def backend(arch: dict[str, Any]) -> str:
    """The trainer backend of an architecture (its `backend`) or of a model's flags (sc.model_flags leaves
    `backend` out): Sockeye 1.18's RNNs have an rnn-cell-type, Sockeye 3's Transformers none."""
    if "backend" in arch:
        return arch["backend"]
    return sc.DEFAULT_BACKEND if "rnn-cell-type" in arch else "sockeye3"


def sides(value: Any, kind: type = int) -> tuple[Any, Any]:
    """(encoder, decoder) of a Sockeye 3 "E:D" flag value; one value stands for both."""
    text = str(value)
    first, _, second = text.partition(":")
    return kind(first), kind(second or first)


def transformer(flags: dict[str, Any]) -> dict[str, Any]:
    """A Transformer's shape: its flags among TRANSFORMER_KEYS with Sockeye 3's defaults filled in, pairs as
    (encoder, decoder) tuples, and `max-seq-len` (used for the positional embeddings only)."""
    shape = {**TRANSFORMER_DEFAULTS, **{k: v for k, v in flags.items() if k in TRANSFORMER_KEYS}}
    for key in TRANSFORMER_PAIRS:
        shape[key] = sides(shape[key], int if key in TRANSFORMER_PAIRS[:4] else str)
    shape["num-words"] = int(flags["num-words"])
    shape["transformer-feed-forward-use-glu"] = shape["transformer-feed-forward-use-glu"] in (True, "true", "True")
    shape["pad-vocab-to-multiple-of"] = int(shape["pad-vocab-to-multiple-of"] or 1)
    shape["max-seq-len"] = sides(flags.get("max-seq-len", DEFAULT_MAX_SEQ_LEN))
    embed = flags.get("num-embed")
    if embed is not None and sides(embed) != shape["transformer-model-size"]:
        raise ValueError(f"num-embed {embed} differs from transformer-model-size: Sockeye 3 refuses that")
    return shape


def padded_vocabulary(words: int, multiple: int) -> int:
    """Sockeye 3's vocabulary of a side: num-words types (BPE gives at least that many) + 4 specials, padded to
    a multiple of pad-vocab-to-multiple-of."""
    size = words + SPECIALS
    return size + (-size) % multiple


def transformer_layers(shape: dict[str, Any]) -> tuple[int, int]:
    """Weights (multiply-adds per token) of one encoder and one decoder layer: attention projections and the
    feed-forward block (with GLU a second input projection)."""
    (d_enc, d_dec), (ff_enc, ff_dec) = shape["transformer-model-size"], shape["transformer-feed-forward-num-hidden"]
    inputs = 2 if shape["transformer-feed-forward-use-glu"] else 1
    self_attention = 4 * d_dec * d_dec if shape["decoder"] == "transformer" else 2 * d_dec * d_dec  # SSRU: 2 d^2
    encoder = 4 * d_enc * d_enc + (inputs + 1) * d_enc * ff_enc
    decoder = self_attention + 2 * d_dec * d_dec + 2 * d_dec * d_enc + (inputs + 1) * d_dec * ff_dec
    return encoder, decoder


def transformer_weights_per_token(flags: dict[str, Any]) -> int:
    """Multiply-adds per target token of a Sockeye 3 Transformer, with as many source as target tokens: every
    encoder and decoder layer's projections (self-attention, encoder attention: queries, keys/values of the
    source, output; feed-forward) and the output layer (padded vocabulary x model size). Embeddings are lookups;
    biases, layer norms and the attention's dot products are left out."""
    shape = transformer(flags)
    (enc_layers, dec_layers), (_, d_dec) = shape["num-layers"], shape["transformer-model-size"]
    encoder, decoder = transformer_layers(shape)
    vocab = padded_vocabulary(shape["num-words"], shape["pad-vocab-to-multiple-of"])
    return enc_layers * encoder + dec_layers * decoder + vocab * d_dec


def transformer_parameters(flags: dict[str, Any], source_vocab: int | None = None,
                           target_vocab: int | None = None) -> int:
    """Sockeye 3.1.34's `# of parameters` (the total: fixed positional embeddings included, tied weights once) of
    a Transformer given its sockeye.train flags (architecture and training flags: max-seq-len sizes the
    positional embeddings). Vocabularies: num-words + 4, padded (pad-vocab-to-multiple-of), unless given."""
    shape = transformer(flags)
    (enc_layers, dec_layers), (d_enc, d_dec) = shape["num-layers"], shape["transformer-model-size"]
    (ff_enc, ff_dec) = shape["transformer-feed-forward-num-hidden"]
    (pre_enc, pre_dec), (post_enc, post_dec) = shape["transformer-preprocess"], shape["transformer-postprocess"]
    glu = shape["transformer-feed-forward-use-glu"]
    padded = padded_vocabulary(shape["num-words"], shape["pad-vocab-to-multiple-of"])
    src = source_vocab if source_vocab is not None else padded
    trg = target_vocab if target_vocab is not None else padded
    lhuc = set(str(shape["lhuc"] or "").split())

    def norm(sequence: str, size: int) -> int:  # a pre/post-process block: a layer norm where it has `n`
        return 2 * size if "n" in sequence else 0

    def feed_forward(size: int, hidden: int) -> int:  # ff1 (+ the GLU's linear) and ff2, with biases
        return (2 if glu else 1) * (size * hidden + hidden) + hidden * size + size

    if shape["decoder"] == "transformer":  # ff_in (queries, keys, values) and ff_out
        self_attention = 4 * d_dec * d_dec
    else:  # ssru_transformer: the SSRU's forget gate (with bias) and linear map
        self_attention = 2 * d_dec * d_dec + d_dec
    encoder_layer = (4 * d_enc * d_enc + feed_forward(d_enc, ff_enc)
                     + 2 * (norm(pre_enc, d_enc) + norm(post_enc, d_enc)) + (d_enc if lhuc & {"encoder", "all"} else 0))
    decoder_layer = (self_attention + 2 * d_dec * d_dec + 2 * d_dec * d_enc + feed_forward(d_dec, ff_dec)
                     + 3 * (norm(pre_dec, d_dec) + norm(post_dec, d_dec)) + (d_dec if lhuc & {"decoder", "all"} else 0))
    tying = shape["weight-tying-type"]
    embeddings = src * d_enc + (0 if "src" in tying and "trg" in tying else trg * d_dec)
    output = (0 if "softmax" in tying else trg * d_dec) + trg
    positions = 0
    if shape["transformer-positional-embedding-type"] in ("fixed", "learned"):
        (len_src, len_trg) = shape["max-seq-len"]
        positions = (len_src + 1) * d_enc + (len_trg + 1) * d_dec
    return (embeddings + positions + enc_layers * encoder_layer + norm(pre_enc, d_enc)
            + dec_layers * decoder_layer + norm(pre_dec, d_dec) + output)


def transformer_name(flags: dict[str, Any]) -> str:
    """A readable key of a Transformer's shape, e.g. `s3-bpe300-l1-m32-a2-ff64`: BPE size, layers, model size,
    heads, feed-forward size ("E:D" where the sides differ), then every other TRANSFORMER_KEYS flag that is not
    Sockeye 3's default."""
    shape = transformer(flags)

    def text(key: str) -> str:
        value = shape[key]
        if not isinstance(value, tuple):
            return str(value).lower() if isinstance(value, bool) else str(value)
        return str(value[0]) if value[0] == value[1] else ":".join(map(str, value))

    name = (f"s3-bpe{shape['num-words']}-l{text('num-layers')}-m{text('transformer-model-size')}"
            f"-a{text('transformer-attention-heads')}-ff{text('transformer-feed-forward-num-hidden')}")
    defaults = transformer({"num-words": 1})
    extras = [f"{key.removeprefix('transformer-')}={text(key)}" for key in TRANSFORMER_DEFAULTS
              if key not in TRANSFORMER_PAIRS[:4] and shape[key] != defaults[key]]
    return "-".join([name, *extras])


def arch_key(arch: dict[str, Any]) -> str:
    """The CSV's `architecture`: a grid name for the RNNs (bpe500-e256-l1-lstm-h256), transformer_name else."""
    return transformer_name(arch) if backend(arch) == "sockeye3" else sc.grid_name(arch)


@dataclass(frozen=True)
class Device:
    """Throughputs of the reference architecture on one device, and how they scale."""

    name: str
    train_tokens_per_second: float
    decode_sentences_per_second: float
    fixed_share: float
    startup_seconds: float
    note: str


def scale(arch: dict[str, Any], reference: dict[str, Any], fixed_share: float) -> float:
    """Time per token (or sentence) of `arch` relative to the reference architecture's."""
    return fixed_share + (1 - fixed_share) * weights_per_token(arch) / weights_per_token(reference)


# ---- Corpus sizes: counted from files under outdir where they exist, else assumed ---------------------------
@dataclass
class Corpus:
    train_sentences: int
    dev_sentences: int
    test_sentences: int
    teacher_tokens: dict[str, int]  # BPE target tokens of each teacher's training data, by direction
    sources: dict[str, str] = field(default_factory=dict)


def count_tokens(path: Path) -> int:
    with open(path, "rb") as handle:
        return sum(len(line.split()) for line in handle)


def stats_tokens(path: Path, lang: str) -> tuple[int, int] | None:
    """(lines, tokens) of one language in a corpus_stats TSV, or None."""
    if not path.is_file():
        return None
    for line in path.read_text(encoding="utf-8").splitlines()[1:]:
        fields = line.split("\t")
        if len(fields) >= 4 and fields[1] == lang:
            return int(fields[2]), int(fields[3])
    return None


def corpus_sizes(config: dict[str, Any], root: Path = Path(".")) -> Corpus:
    """Sentences of base train/dev/test and each teacher's BPE target tokens, with where each number came from."""
    assume = config["cost"]["corpus"]
    paths = sc.paths(config["outdir"])
    src = config["corpus"]["src"]
    sources: dict[str, str] = {}

    def split_lines(split: str, assumed: int) -> int:
        path = root / paths.text.format(corpus="base", split=split, lang=src)
        if path.is_file():
            sources[split] = f"counted in {path}"
            return count_lines(path)
        sources[split] = f"assumed: cost.corpus.{split}_sentences"
        return assumed

    train = split_lines("train", assume["train_sentences"])
    dev = split_lines("dev", assume["dev_sentences"])
    test = split_lines("test", assume["test_sentences"])
    tokens: dict[str, int] = {}
    for direction in sc.teachers_used(config):
        size = sc.architecture(config, config["teacher"]["architecture"])["num-words"]
        target = direction.split("-")[1]
        bpe = root / paths.bpe_text.format(size=size, corpus="base", split="train", lang=target)
        stats = stats_tokens(root / paths.stats.format(corpus="base"), target)
        if bpe.is_file():
            tokens[direction] = count_tokens(bpe)
            sources[f"tokens {direction}"] = f"counted in {bpe}"
        elif stats:
            tokens[direction] = round(stats[1] * assume["bpe_tokens_per_word"])
            sources[f"tokens {direction}"] = "words counted in results/stats/base.tsv x cost.corpus.bpe_tokens_per_word"
        else:
            tokens[direction] = round(assume["train_tokens"] * assume["bpe_tokens_per_word"])
            sources[f"tokens {direction}"] = "assumed: cost.corpus.train_tokens x bpe_tokens_per_word"
    return Corpus(train, dev, test, tokens, sources)


# ---- Jobs ----------------------------------------------------------------------------------------------------
@dataclass
class Job:
    rule: str
    name: str
    group: str
    arch: dict[str, Any]
    updates: int = 0
    sentences: int = 0
    batch: int = 0
    checkpoint_interval: int = 0
    checkpoint_sentences: int = 0  # sentences decoded at each checkpoint (decode-and-evaluate)
    checkpoint_on_cpu: bool = True
    models: int = 1  # models that decode together: an ensemble of teachers (teacher.ensemble) takes N x the time


def checkpoint_sentences(flags: dict[str, Any], dev: int) -> int:
    value = int(flags.get("decode-and-evaluate", 0) or 0)
    return dev if value < 0 else min(value, dev)


def training(rule: str, name: str, group: str, arch: dict[str, Any], flags: dict[str, Any], updates: int,
             corpus: Corpus) -> Job:
    interval = int(flags.get("checkpoint-interval", flags.get("checkpoint-frequency")))
    return Job(rule, name, group, arch, updates=updates, batch=int(flags["batch-size"]),
               checkpoint_interval=interval, checkpoint_sentences=checkpoint_sentences(flags, corpus.dev_sentences),
               checkpoint_on_cpu=bool(flags.get("decode-and-evaluate-use-cpu", False)))


def teacher_updates(config: dict[str, Any], flags: dict[str, Any], tokens: int) -> int:
    """max_epochs x updates per epoch (word batches: about batch-size target tokens each), capped by max_updates."""
    updates = config["teacher"]["max_epochs"] * math.ceil(tokens / int(flags["batch-size"]))
    return min(updates, int(flags["max-updates"])) if "max-updates" in flags else updates


def shard_sizes(total: int, shards: int) -> list[int]:
    """Lines per shard, as scripts/distill.py splits them."""
    size, rest = divmod(total, shards)
    return [size + (1 if i < rest else 0) for i in range(shards)]


def jobs(config: dict[str, Any], corpus: Corpus) -> list[Job]:
    """Every costed job the configuration implies (the `table1 table2 table3 figures grid` targets)."""
    result: list[Job] = []
    teachers = sc.teachers_used(config)
    teacher_arch = sc.architecture(config, config["teacher"]["architecture"]) if teachers else {}
    flags = sc.teacher_flags(config) if teachers else {}
    ensemble = sc.ensemble_size(config)
    for direction in teachers:  # each member of an ensemble (teacher.ensemble) is one training
        updates = teacher_updates(config, flags, corpus.teacher_tokens[direction])
        for model in sc.member_models(config, direction):
            result.append(training("train_teacher", sc.teacher_label(model), "teachers", teacher_arch, flags,
                                   updates, corpus))
    table = set(sc.students(config))
    students = sc.all_students(config)
    for student in students:
        flags = sc.student_flags(config, student)
        group = "table students" if student in table else "grid students"
        result.append(training("train_student", sc.student_model(student), group,
                               sc.architecture(config, student.architecture), flags, int(flags["max-updates"]),
                               corpus))
    for direction in sc.distilling_teachers(config):
        # the forward teacher decodes the sources, the backward one the targets: both have train_sentences lines
        for shard, lines in enumerate(shard_sizes(corpus.train_sentences, config["decoding"]["shards"])):
            result.append(Job("distill", f"{direction}.{shard}", "distillation", teacher_arch, sentences=lines,
                              models=ensemble))
    for part, normalize in sc.scored_parts(config):
        # cross-entropy filtering: the other teacher scores a part's pairs (at most train_sentences); costed at
        # its decoding speed, an upper bound (scoring is one forward pass, no beam)
        result.append(Job("score_part", f"{part}.{normalize}", "distillation", teacher_arch,
                          sentences=corpus.train_sentences))
    for direction in teachers:  # each member, and an ensemble (teacher.ensemble) with all its members
        decoders = [(model, 1) for model in sc.member_models(config, direction)]
        if ensemble > 1:
            decoders.append((sc.distilling_model(config, direction), ensemble))
        for model, models in decoders:
            result.append(Job("translate_test", model, "test decoding", teacher_arch,
                              sentences=corpus.test_sentences, models=models))
            result.append(Job("translate_dev", model, "test decoding", teacher_arch,
                              sentences=corpus.dev_sentences, models=models))
    for student in students:
        result.append(Job("translate_test", sc.student_model(student), "test decoding",
                          sc.architecture(config, student.architecture), sentences=corpus.test_sentences))
    for student in students:
        result.append(Job("evaluate", sc.student_model(student), "evaluation",
                          sc.architecture(config, student.architecture)))
    return result


def rule_counts(job_list: list[Job]) -> dict[str, int]:
    counts: dict[str, int] = defaultdict(int)
    for job in job_list:
        counts[job.rule] += 1
    return dict(counts)


# ---- Measured throughputs ------------------------------------------------------------------------------------
def flag_value(command: list[str], name: str) -> str | None:
    if name in command:
        i = command.index(name)
        return command[i + 1] if i + 1 < len(command) else None
    return None


def command_arch(command: list[str], trainer: str = sc.DEFAULT_BACKEND) -> dict[str, Any] | None:
    """The architecture flags of a sockeye.train command line, or None if one is missing or not a number. A
    Sockeye 3 command (trainer sockeye3): num-words and the TRANSFORMER_KEYS flags it gives (--flag alone:
    true), max-seq-len, and `backend: sockeye3`."""
    if trainer == "sockeye3":
        arch: dict[str, Any] = {"backend": "sockeye3"}
        for key in (*TRANSFORMER_KEYS, "max-seq-len"):
            if f"--{key}" in command:
                value = flag_value(command, f"--{key}")
                arch[key] = True if value is None or value.startswith("--") else value
        try:
            arch["num-words"] = sides(arch["num-words"])[1]
            transformer(arch)
        except (KeyError, TypeError, ValueError):
            return None
        return arch
    try:
        arch = {key: flag_value(command, f"--{key}") for key in sc.GRID_KEYS}
        return {key: value if key == "rnn-cell-type" else int(value) for key, value in arch.items()}
    except (TypeError, ValueError):
        return None


def sockeye_command(log: Path) -> list[str] | None:
    for line in log.read_text(encoding="utf-8", errors="replace").splitlines():
        if "log_basic_info] Command: " in line:
            return line.split("Command: ", 1)[1].split()
    return None


def log_backend(log: Path) -> str:
    """The backend that wrote a training log: Sockeye 3 logs `Sockeye: 3.x.y`, Sockeye 1.18 `Sockeye version
    1.18.x`; a log without that line is taken for 1.18's."""
    with open(log, encoding="utf-8", errors="replace") as handle:
        for line in itertools.islice(handle, 20):
            match = VERSION.search(line)
            if match:
                return "sockeye3" if match.group(1) == "3" else sc.DEFAULT_BACKEND
    return sc.DEFAULT_BACKEND


def model_arch(log: Path) -> dict[str, Any] | None:
    """The architecture of the model whose training log this is (None: no command, or flags missing)."""
    command = sockeye_command(log)
    return command_arch(command, log_backend(log)) if command else None


@dataclass
class Measured:
    """Measured throughputs by (device, architecture key): training tokens/s, decoding sentences/s."""

    train: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    decode: dict[tuple[str, str], list[float]] = field(default_factory=lambda: defaultdict(list))
    archs: dict[str, dict[str, Any]] = field(default_factory=dict)


def training_speed(log: Path) -> tuple[str, dict[str, Any], float] | None:
    """(device, architecture, target tokens per second) of one Sockeye training log (1.18's or 3's):
    batch-size x the median Updates/sec of its checkpoints (less the first when there are three or more: it
    holds the start-up). The device: `--use-cpu` or not (1.18's --device-ids, 3's --device-id)."""
    command = sockeye_command(log)
    if not command:
        return None
    arch, batch = command_arch(command, log_backend(log)), flag_value(command, "--batch-size")
    rates = [float(m.group(2)) for m in CHECKPOINT.finditer(log.read_text(encoding="utf-8", errors="replace"))]
    if arch is None or batch is None or not rates or flag_value(command, "--batch-type") not in (None, "word"):
        return None
    rates = rates[1:] if len(rates) >= 3 else rates
    device = "cpu" if "--use-cpu" in command else "gpu"
    return device, arch, int(batch) * statistics.median(rates)


def decoding_job(benchmark: Path, log: Path, root: Path) -> tuple[str, Path, int, float] | None:
    """(device, model folder, input lines, wall seconds) of one decoding job from its benchmark file and its log
    (whose first line is the command: --models, --input, --use-cpu or a GPU), or None. An ensemble's decoding
    (several --models: teacher.ensemble) counts each line once per model: the rate is one model's."""
    if not (benchmark.is_file() and log.is_file()):
        return None
    lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    command = lines[0].split() if lines else []
    source, model = flag_value(command, "--input"), flag_value(command, "--models")
    if not source or not model or not (root / source).is_file():
        return None
    try:
        seconds = float(benchmark.read_text(encoding="utf-8").splitlines()[1].split("\t")[0])
    except (IndexError, ValueError):
        return None
    folders = list(itertools.takewhile(lambda arg: not arg.startswith("--"), command[command.index("--models") + 1:]))
    return ("cpu" if "--use-cpu" in command else "gpu", root / model, count_lines(root / source) * len(folders),
            seconds)


def measure(config: dict[str, Any], startup: dict[str, dict[str, float]], root: Path = Path(".")) -> Measured:
    """Throughputs of the jobs that already ran under outdir (Sockeye 1.18's and 3's). `startup`: decoding
    start-up seconds by backend and device ({"sockeye1": {"gpu": 30, "cpu": 6}, "sockeye3": {...}})."""
    paths = sc.paths(config["outdir"])
    measured = Measured()
    models = root / paths.models
    for log in sorted([*models.glob("teacher/*/log"), *models.glob(STUDENT_LOGS)]):
        speed = training_speed(log)
        if speed:
            device, arch, tokens = speed
            measured.archs[arch_key(arch)] = arch
            measured.train[(device, arch_key(arch))].append(tokens)
    benchmarks, logs = root / paths.benchmarks, root / paths.logs
    pairs = [(b, logs / "distill" / f"{b.stem}.log") for b in sorted((benchmarks / "distill").glob("*.tsv"))]
    pairs += [(b, logs / "translate_test" / b.relative_to(benchmarks / "translate_test").with_suffix(".log"))
              for b in sorted((benchmarks / "translate_test").rglob("*.tsv"))]
    for benchmark, log in pairs:
        job = decoding_job(benchmark, log, root)
        if job is None or not (job[1] / "log").is_file():
            continue
        device, model, lines, seconds = job
        arch = model_arch(model / "log")
        if arch is None:
            continue
        wait = float(startup[backend(arch)][device])
        if seconds >= 2 * wait:
            measured.archs[arch_key(arch)] = arch
            measured.decode[(device, arch_key(arch))].append(lines / (seconds - wait))
    return measured


def gpu_results_path(config: dict[str, Any]) -> Path | None:
    """cost.sockeye3.gpu_measured (a relative path is taken from the repository, where bench/ is), or None."""
    value = (config["cost"].get("sockeye3") or {}).get("gpu_measured")
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else REPO / path


def measurement_files(config: dict[str, Any], root: Path = Path(".")) -> list[Path]:
    """The files `measure` reads (so that the rule can redo the estimate when they change)."""
    paths = sc.paths(config["outdir"])
    models, benchmarks = root / paths.models, root / paths.benchmarks
    return sorted([*models.glob("teacher/*/log"), *models.glob(STUDENT_LOGS),
                   *(benchmarks / "distill").glob("*.tsv"), *(benchmarks / "translate_test").rglob("*.tsv")])


def measurement_stamp(config: dict[str, Any], root: Path = Path(".")) -> str:
    """A digest of the measurement files' names, sizes and times (and of the GPU check's results file, the GPU
    samples and the SLURM efficiency reports): it changes when finished jobs add some."""
    stamp = hashlib.sha1()
    gpu = gpu_results_path(config)
    for path in [*measurement_files(config, root), *([gpu] if gpu and gpu.is_file() else []),
                 *usage_files(config, SLURM_PROFILE, root)]:
        stat = path.stat()
        stamp.update(f"{path}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    return stamp.hexdigest()


# ---- GPU check results (bench/gpu-results.json) --------------------------------------------------------------
@dataclass(frozen=True)
class GpuCheck:
    """A Transformer's throughputs measured on a GPU by the GPU check (None: not measured), and what it ran on."""

    path: Path
    model: str
    arch: dict[str, Any]
    train_tokens_per_second: float | None
    decode_sentences_per_second: float | None
    parameters: int | None
    about: str  # date, GPU, compute capability, torch, CUDA, precision
    concurrent: float | None = None  # trainings that shared the GPU with this one, on average (itself included)

    @property
    def label(self) -> str:
        return f"GPU check {self.path.name} ({self.about})"


def gpu_check(path: Path | None) -> GpuCheck | None:
    """The reference entry of a GPU check results file (bench/gpu-results.json, scripts/gpu_bench.py in the GPU
    check): model teacher/de-en, else the first sockeye3 entry; entries whose training ran elsewhere than on CUDA
    (`device`) are left out. None when the file or such an entry is missing, or it measured nothing."""
    if path is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        entries = [m for m in data.get("models", []) if m.get("backend", "sockeye3") == "sockeye3"
                   and str(m.get("device") or "cuda").startswith("cuda")]
        if not entries:
            return None
        entry = next((m for m in entries if m.get("model") == "teacher/de-en"), entries[0])
        arch = {**{k: v for k, v in entry["architecture"].items() if k != "backend"}, "backend": "sockeye3"}
        transformer(arch)
        about = ", ".join(str(part) for part in (
            data.get("date"), data.get("gpu"), data.get("compute_capability") and f"sm {data['compute_capability']}",
            data.get("torch") and f"torch {data['torch']}", data.get("cuda") and f"CUDA {data['cuda']}",
            entry.get("precision") or data.get("dtype")) if part)
        train, decode = entry.get("train_tokens_per_second"), entry.get("decode_sentences_per_second")
        if not train and not decode:
            return None
        return GpuCheck(path, entry.get("model", "?"), arch, float(train) if train else None,
                        float(decode) if decode else None, entry.get("parameters"), about,
                        entry.get("concurrent_trainings"))
    except (AttributeError, KeyError, TypeError, ValueError) as error:
        raise sc.ConfigError(f"cost.sockeye3.gpu_measured: {path} is not a GPU check results file ({error!r})") \
            from None


# ---- Rates ---------------------------------------------------------------------------------------------------
def cost_section(config: dict[str, Any], trainer: str) -> tuple[dict[str, Any], str]:
    """The `cost` keys (reference, gpu, cpu) of a backend and their name: cost (Sockeye 1.18, the paper's) or
    cost.sockeye3."""
    if trainer == sc.DEFAULT_BACKEND:
        return config["cost"], "cost"
    if trainer not in config["cost"]:
        raise sc.ConfigError(f"cost.{trainer}: the configuration has {trainer} models but no throughputs for them")
    return config["cost"][trainer], f"cost.{trainer}"


class Rates:
    """Throughput of an architecture on a device: measured for that architecture, else measured for others of
    its backend and scaled, else (Sockeye 3 on the GPU) the GPU check's scaled, else the configuration's
    assumption scaled."""

    def __init__(self, config: dict[str, Any], measured: Measured | None) -> None:
        self.references: dict[str, dict[str, Any]] = {}
        self.specs: dict[str, dict[str, Device]] = {}
        self.sections: dict[str, str] = {}
        for trainer in sc.BACKEND_KEYS:
            if trainer != sc.DEFAULT_BACKEND and trainer not in config["cost"]:
                continue
            section, name = cost_section(config, trainer)
            reference = section["reference"]
            self.references[trainer] = {**reference, "backend": trainer} if trainer != sc.DEFAULT_BACKEND \
                else reference
            self.specs[trainer] = {device: Device(device, **section[device]) for device in ("gpu", "cpu")}
            self.sections[trainer] = name
        self.gpu_results = gpu_results_path(config)
        self.gpu_check = gpu_check(self.gpu_results) if "sockeye3" in self.specs else None
        if self.gpu_check:  # the GPU check's model, scaled to the reference, replaces the assumed GPU rates
            spec, check = self.specs["sockeye3"]["gpu"], self.gpu_check
            factor = scale(check.arch, self.references["sockeye3"], spec.fixed_share)
            kinds = [kind for kind, value in (("training", check.train_tokens_per_second),
                                              ("decoding", check.decode_sentences_per_second)) if value]
            self.specs["sockeye3"]["gpu"] = Device(
                "gpu", check.train_tokens_per_second * factor if check.train_tokens_per_second
                else spec.train_tokens_per_second,
                check.decode_sentences_per_second * factor if check.decode_sentences_per_second
                else spec.decode_sentences_per_second, spec.fixed_share, spec.startup_seconds,
                f"{' and '.join(kinds)} measured: {check.label}, model {check.model} (`{arch_key(check.arch)}`)"
                + ("" if arch_key(check.arch) == arch_key(self.references["sockeye3"]) else ", scaled to the reference")
                + f"; {'fixed_share' if len(kinds) == 2 else 'the rest'} and start-up still assumed ({spec.note})")
        self.measured = measured or Measured()

    @property
    def reference(self) -> dict[str, Any]:
        """The Sockeye 1.18 reference architecture (config cost.reference)."""
        return self.references[sc.DEFAULT_BACKEND]

    @property
    def devices(self) -> dict[str, Device]:
        """The Sockeye 1.18 throughputs by device (config cost.gpu, cost.cpu)."""
        return self.specs[sc.DEFAULT_BACKEND]

    def device(self, arch: dict[str, Any], device: str) -> Device:
        """The throughputs of an architecture's backend on a device."""
        trainer = backend(arch)
        if trainer not in self.specs:
            raise sc.ConfigError(f"cost.{trainer}: the configuration has {trainer} models but no throughputs for them")
        return self.specs[trainer][device]

    def _rate(self, kind: str, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        trainer = backend(arch)
        spec, reference = self.device(arch, device), self.references[trainer]
        table = self.measured.train if kind == "train" else self.measured.decode
        own = table.get((device, arch_key(arch)))
        if own:
            return statistics.median(own), f"measured ({len(own)} run{'s' if len(own) > 1 else ''})"
        others = [(key, value) for (dev, key), values in table.items()
                  if dev == device and backend(self.measured.archs[key]) == trainer for value in values]
        if others:
            rate = statistics.median(
                value * scale(self.measured.archs[key], reference, spec.fixed_share) for key, value in others)
            return (rate / scale(arch, reference, spec.fixed_share),
                    f"measured on other architectures ({len(others)} runs), scaled")
        assumed = spec.train_tokens_per_second if kind == "train" else spec.decode_sentences_per_second
        check = self.gpu_check
        if trainer == "sockeye3" and device == "gpu" and check and (
                check.train_tokens_per_second if kind == "train" else check.decode_sentences_per_second):
            return assumed / scale(arch, reference, spec.fixed_share), check.label + (
                "" if arch_key(arch) == arch_key(check.arch) else ", scaled")
        return assumed / scale(arch, reference, spec.fixed_share), f"config {self.sections[trainer]}.{device}" + (
            "" if arch_key(arch) == arch_key(reference) else ", scaled")

    def train(self, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        """Target tokens per second of training."""
        return self._rate("train", device, arch)

    def decode(self, device: str, arch: dict[str, Any]) -> tuple[float, str]:
        """Sentences per second of beam search."""
        return self._rate("decode", device, arch)


# ---- Estimate ------------------------------------------------------------------------------------------------
@dataclass
class Row:
    job: Job
    device: str
    work: int
    unit: str
    rate: float
    rate_unit: str
    source: str
    wall: float  # seconds
    gpu: float  # GPU-seconds
    cpu: float  # CPU core-seconds
    limit: float | None  # seconds (compute.runtime)
    wait: float = 0.0  # seconds a GPU training waits for its checkpoint decoding


def job_device(config: dict[str, Any], rule: str, gpu_rules: frozenset[str]) -> str:
    if rule not in SOCKEYE_RULES:
        return "cpu"
    return sc.sockeye_device(config["compute"].get("device", "auto"), 1 if rule in gpu_rules else 0)


def cost_job(config: dict[str, Any], job: Job, device: str, rates: Rates) -> Row:
    threads = config["compute"]["threads"]
    cost = config["cost"]
    limit = config["compute"].get("runtime", {}).get(job.rule)
    limit_seconds = limit * 60.0 if limit else None
    if job.rule == "evaluate":
        seconds = float(cost["evaluate_seconds"])
        return Row(job, "cpu", 1, "jobs", 1 / seconds, "jobs/s", "config cost.evaluate_seconds", seconds, 0.0,
                   seconds, None)
    if job.updates:
        tokens, source = rates.train(device, job.arch)
        per_update = job.batch / tokens
        checkpoints = math.ceil(job.updates / job.checkpoint_interval)
        decode_device = "cpu" if job.checkpoint_on_cpu else device
        decode_seconds = 0.0
        if job.checkpoint_sentences:
            decode_seconds = job.checkpoint_sentences / rates.decode(decode_device, job.arch)[0]
        train_seconds, wait = job.updates * per_update, 0.0
        if source.startswith("measured"):
            wall = train_seconds  # Updates/sec measured per checkpoint already holds any wait for its decoding
        elif decode_device == device:
            wall = train_seconds + checkpoints * decode_seconds  # the same device (cores) does both
        else:
            wait = checkpoints * max(0.0, decode_seconds - job.checkpoint_interval * per_update)
            wall = train_seconds + wait
        cpu = checkpoints * decode_seconds * threads if decode_device == "cpu" and device != "cpu" else 0.0
        if device == "cpu":
            cpu += wall * threads
        return Row(job, device, job.updates, "updates", tokens, "tokens/s", source, wall,
                   wall if device == "gpu" else 0.0, cpu, limit_seconds, wait)
    sentences_per_second, source = rates.decode(device, job.arch)
    if job.models > 1:  # an ensemble: each sentence goes through every member, N x one model's time
        sentences_per_second, source = sentences_per_second / job.models, f"{source}, / {job.models} (ensemble)"
    spec = rates.device(job.arch, device)
    wall = spec.startup_seconds + job.sentences / sentences_per_second if job.sentences else 0.0
    return Row(job, device, job.sentences, "sentences", sentences_per_second, "sentences/s", source, wall,
               wall if device == "gpu" else 0.0, wall * threads if device == "cpu" else 0.0, limit_seconds)


def gpu_rules_of(profile: Path | None) -> frozenset[str]:
    """Rules that a Snakemake profile's set-resources give a `gpu` (the SLURM profile's training and decoding)."""
    if profile is None or not profile.is_file():
        return DEFAULT_GPU_RULES
    spec = yaml.safe_load(profile.read_text(encoding="utf-8")) or {}
    resources = spec.get("set-resources") or {}
    return frozenset(rule for rule, values in resources.items() if isinstance(values, dict) and values.get("gpu"))


def estimate(config: dict[str, Any], gpu_rules: frozenset[str] = DEFAULT_GPU_RULES, root: Path = Path("."),
             device: str | None = None) -> tuple[list[Row], Corpus, Rates]:
    """Every costed job with its hours; `device` (cpu/gpu) overrides compute.device."""
    if device:
        config = {**config, "compute": {**config["compute"], "device": device}}
    corpus = corpus_sizes(config, root)
    rates = Rates(config, None)
    if config["cost"].get("measured", True):  # the decoding start-ups are the configured (or GPU check's) ones
        startup = {trainer: {name: spec.startup_seconds for name, spec in specs.items()}
                   for trainer, specs in rates.specs.items()}
        rates.measured = measure(config, startup, root)
    rows = [cost_job(config, job, job_device(config, job.rule, gpu_rules), rates) for job in jobs(config, corpus)]
    return rows, corpus, rates


# ---- What the run used: GPU samples (scripts/gpu_monitor.py) and SLURM efficiency reports ---------------------
EFFICIENCY_REPORTS = "efficiency_report_*.csv"  # snakemake-executor-plugin-slurm's name: efficiency_report_<run>.csv


@dataclass(frozen=True)
class SlurmStep:
    """One job step of a SLURM efficiency report: its job's rule and wildcards (from the job's comment
    `rule_<rule>_wildcards_<values>`; "" where the cluster keeps no comments), elapsed and CPU seconds, CPUs,
    peak resident memory and the memory requested (MB)."""

    rule: str
    wildcards: str
    job_id: str
    elapsed: float
    cpu: float
    cpus: int
    max_rss_mb: float
    requested_mb: float


def efficiency_folder(profile: Path | None, root: Path = Path(".")) -> Path:
    """Where the SLURM profile has snakemake-executor-plugin-slurm write its efficiency reports: its
    slurm-efficiency-report-path (a relative one from the folder Snakemake runs in, `root`), else `root` (the
    plugin's default, the working folder)."""
    spec = yaml.safe_load(profile.read_text(encoding="utf-8")) if profile is not None and profile.is_file() else {}
    value = (spec or {}).get("slurm-efficiency-report-path")
    folder = Path(str(value)) if value else Path(".")
    return folder if folder.is_absolute() else root / folder


def efficiency_reports(profile: Path | None, root: Path = Path(".")) -> list[Path]:
    """The efficiency reports of the runs so far (one per run of the SLURM executor that asked for one)."""
    return sorted(efficiency_folder(profile, root).glob(EFFICIENCY_REPORTS))


def read_efficiency_report(path: Path) -> list[SlurmStep]:
    """The job steps of one efficiency report, the plugin's CSV (pandas' index column, then JobID, JobName,
    RuleName (absent without job comments), Elapsed, TotalCPU, NNodes, NCPUS, MaxRSS, ReqMem, Elapsed_sec,
    TotalCPU_sec, MaxRSS_MB, RequestedMem_MB, MainJobID, CPU Efficiency (%), Memory Usage (%)). A row whose
    numbers do not parse is left out."""
    steps = []
    with open(path, newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            rule, _, wildcards = (row.get("RuleName") or "").removeprefix("rule_").partition("_wildcards_")
            try:
                steps.append(SlurmStep(rule, wildcards, row["JobID"], float(row["Elapsed_sec"]),
                                       float(row["TotalCPU_sec"]), int(float(row["NCPUS"])),
                                       float(row["MaxRSS_MB"] or 0), float(row["RequestedMem_MB"] or 0)))
            except (KeyError, TypeError, ValueError):
                continue
    return steps


@dataclass
class Used:
    """What the jobs that ran left: their GPU samples (under `logs`) and the SLURM efficiency reports' steps."""

    logs: Path
    gpu: list[gpu_monitor.JobUsage]
    reports: list[Path]
    slurm: list[SlurmStep]


def used(config: dict[str, Any], profile: Path | None = SLURM_PROFILE, root: Path = Path(".")) -> Used:
    """The GPU samples under outdir's logs/ and the efficiency reports where the SLURM profile puts them."""
    logs = root / sc.paths(config["outdir"]).logs
    reports = efficiency_reports(profile, root)
    return Used(logs, gpu_monitor.job_usages(logs), reports, [s for r in reports for s in read_efficiency_report(r)])


def usage_files(config: dict[str, Any], profile: Path | None = SLURM_PROFILE, root: Path = Path(".")) -> list[Path]:
    """The files `used` reads (so that the rule can redo the estimate when they change)."""
    return [*gpu_monitor.sample_files(root / sc.paths(config["outdir"]).logs), *efficiency_reports(profile, root)]


@dataclass(frozen=True)
class RuleGpu:
    """A rule's GPU samples: jobs sampled, samples, seconds sampled (each job's first to last sample), utilisation
    (%) over every sampled line and at its peak, peak memory used and the GPUs' memory (MiB)."""

    jobs: int
    samples: int
    seconds: float
    utilization_mean: float
    utilization_peak: float
    memory_peak: float
    memory_total: float


def gpu_by_rule(usages: list[gpu_monitor.JobUsage]) -> dict[str, RuleGpu]:
    by_rule: dict[str, list[gpu_monitor.JobUsage]] = defaultdict(list)
    for usage in usages:
        by_rule[usage.rule].append(usage)
    return {rule: RuleGpu(len(jobs), sum(u.samples for u in jobs), sum(u.seconds for u in jobs),
                          sum(u.utilization_mean * u.lines for u in jobs) / sum(u.lines for u in jobs),
                          max(u.utilization_peak for u in jobs), max(u.memory_peak for u in jobs),
                          max(u.memory_total for u in jobs))
            for rule, jobs in sorted(by_rule.items())}


@dataclass(frozen=True)
class RuleSlurm:
    """A rule's SLURM job steps: how many, elapsed and CPU seconds, CPU efficiency (CPU time over elapsed x CPUs,
    %), the peak resident memory (MB) and its peak share of the memory requested (%)."""

    steps: int
    elapsed: float
    cpu: float
    cpu_efficiency: float
    max_rss_mb: float
    memory_share_peak: float


def slurm_by_rule(steps: list[SlurmStep]) -> dict[str, RuleSlurm]:
    by_rule: dict[str, list[SlurmStep]] = defaultdict(list)
    for step in steps:
        by_rule[step.rule].append(step)
    result = {}
    for rule, group in sorted(by_rule.items()):
        allotted = sum(s.elapsed * max(1, s.cpus) for s in group)
        cpu = sum(s.cpu for s in group)
        result[rule] = RuleSlurm(len(group), sum(s.elapsed for s in group), cpu,
                                 100 * cpu / allotted if allotted else 0.0, max(s.max_rss_mb for s in group),
                                 max((100 * s.max_rss_mb / s.requested_mb for s in group if s.requested_mb),
                                     default=0.0))
    return result


def usage_lines(rows: list[Row], use: Used) -> list[str]:
    """OUT.md's section on what the run used, each rule against the estimate; none without GPU samples or
    efficiency reports."""
    if not use.gpu and not use.reports:
        return []
    estimated: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        estimated[row.job.rule].append(row)

    def per_job(rule: str) -> str:
        jobs = estimated.get(rule)
        return f"{len(jobs)} | {hours(sum(r.wall for r in jobs) / len(jobs))}" if jobs else "— | —"

    lines = ["", "## What the run used", "",
             "Recorded by the jobs that ran, beside the estimate above (which they do not change): the estimate is of"
             " every job of the configuration at its full budget, while a run may have run only some of them, and"
             " SLURM's records also hold failed and repeated attempts."]
    if use.reports:
        by_rule = slurm_by_rule(use.slurm)
        gpu_rules = {r.job.rule for r in rows if r.device == "gpu"}
        used_gpu = sum(s.elapsed for s in use.slurm if s.rule in gpu_rules)
        lines += ["", f"### SLURM ({len(use.reports)} efficiency reports of snakemake-executor-plugin-slurm, from"
                  f" sacct: {len(use.slurm)} job steps)", "",
                  "| rule | job steps | elapsed hours | hours a step | estimated jobs | estimated hours a job |"
                  " CPU efficiency (%) | peak memory (MB) | peak share of the memory requested (%) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for rule, r in by_rule.items():
            lines.append(f"| {rule or '(no job comments)'} | {r.steps} | {hours(r.elapsed)} |"
                         f" {hours(r.elapsed / r.steps)} | {per_job(rule)} | {r.cpu_efficiency:.1f} |"
                         f" {r.max_rss_mb:,.0f} | {r.memory_share_peak:.1f} |")
        lines += ["", f"GPU-hours used (the elapsed time of the GPU rules' steps, one GPU each): **{hours(used_gpu)}**,"
                  f" against {hours(sum(r.gpu for r in rows))} estimated for every job."]
    if use.gpu:
        lines += ["", f"### GPU samples (nvidia-smi, {len(use.gpu)} jobs: {use.logs}/<rule>/<job>{gpu_monitor.SUFFIX})",
                  "", "| rule | jobs sampled | hours sampled | hours a job | estimated jobs | estimated hours a job |"
                  " mean utilisation (%) | peak utilisation (%) | peak memory (MiB) | GPU memory (MiB) |",
                  "|---|---|---|---|---|---|---|---|---|---|"]
        for rule, g in gpu_by_rule(use.gpu).items():
            lines.append(f"| {rule} | {g.jobs} | {hours(g.seconds)} | {hours(g.seconds / g.jobs)} | {per_job(rule)} |"
                         f" {g.utilization_mean:.1f} | {g.utilization_peak:.0f} | {g.memory_peak:,.0f} |"
                         f" {g.memory_total:,.0f} |")
        lines += ["", "Per job:", "", "| rule | job | samples | hours | mean utilisation (%) | peak utilisation (%) |"
                  " peak memory (MiB) |", "|---|---|---|---|---|---|---|"]
        lines += [f"| {u.rule} | {u.job} | {u.samples} | {hours(u.seconds)} | {u.utilization_mean:.1f} |"
                  f" {u.utilization_peak:.0f} | {u.memory_peak:,.0f} |" for u in use.gpu]
    return lines


# ---- Output --------------------------------------------------------------------------------------------------
def write_csv(rows: list[Row], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(CSV_COLUMNS)
        for r in rows:
            writer.writerow([r.job.rule, r.job.name, r.job.group, arch_key(r.job.arch), r.device, r.work, r.unit,
                             f"{r.rate:.6g}", r.rate_unit, r.source, f"{r.wall / 3600:.6f}", f"{r.gpu / 3600:.6f}",
                             f"{r.cpu / 3600:.6f}", f"{r.wait / 3600:.6f}",
                             "" if r.limit is None else f"{r.limit / 3600:g}"])


def hours(seconds: float) -> str:
    value = seconds / 3600
    return f"{value:,.0f}" if value >= 100 else f"{value:,.1f}" if value >= 1 else f"{value:,.2f}"


def work_text(rows: list[Row]) -> str:
    total, unit = sum(r.work for r in rows), rows[0].unit
    if total >= 1e6:
        return f"{total / 1e6:,.1f}M {unit}"
    return f"{total / 1e3:,.0f}k {unit}" if total >= 1e4 else f"{total:,} {unit}"


def group_table(rows: list[Row]) -> list[str]:
    by_group: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_group[row.job.group].append(row)
    lines = ["| group | jobs | work | device | GPU-hours | CPU core-hours | longest job (h) | time limit (h) |",
             "|---|---|---|---|---|---|---|---|"]
    for group in GROUPS:
        group_rows = by_group.get(group)
        if not group_rows:
            continue
        longest = max(group_rows, key=lambda r: r.wall)
        limit = "—" if longest.limit is None else f"{longest.limit / 3600:g}"
        if longest.limit is not None and longest.wall > longest.limit:
            limit += " (exceeded: the job is killed and resumes from its last checkpoint, up to `retries` times)"
        lines.append(f"| {group} | {len(group_rows)} | {work_text(group_rows)} | "
                     f"{'/'.join(sorted({r.device for r in group_rows}))} | {hours(sum(r.gpu for r in group_rows))} | "
                     f"{hours(sum(r.cpu for r in group_rows))} | {hours(longest.wall)} | {limit} |")
    lines.append(f"| **total** | {len(rows)} | | | **{hours(sum(r.gpu for r in rows))}** | "
                 f"**{hours(sum(r.cpu for r in rows))}** | | |")
    return lines


def gpu_status(rates: Rates) -> str:
    """Which of the Transformers' GPU rates are measured (by the GPU check: where, when, on what) and which are
    still assumed."""
    check = rates.gpu_check
    if check is None:
        where = f"names no file ({rates.gpu_results})" if rates.gpu_results else "is not set"
        return f"GPU: **assumed** (no GPU check results: cost.sockeye3.gpu_measured {where}). CPU: as its note says."
    measured = [kind for kind, value in (("training", check.train_tokens_per_second),
                                         ("decoding", check.decode_sentences_per_second)) if value]
    assumed = [kind for kind in ("training", "decoding") if kind not in measured] + ["f", "the start-up"]
    shared = (f"; {check.concurrent:.1f} trainings shared the GPU on average"
              if check.concurrent and check.concurrent > 1.05 else "")
    return (f"GPU: {' and '.join(measured)} rates **measured** by the GPU check ({check.path}: {check.about};"
            f" model {check.model}{shared}), scaled to the reference; {', '.join(assumed[:-1])} and {assumed[-1]}"
            " are still assumed. CPU: as its note says.")


def throughput_lines(rates: Rates, trainer: str, heading: bool) -> list[str]:
    """The throughput table of one backend; with `heading`, under a heading of its own, saying which of its
    rates are measured and which assumed."""
    reference, lines = rates.references[trainer], []
    if heading:
        lines += [f"### {'Sockeye 1.18 RNNs' if trainer == sc.DEFAULT_BACKEND else 'Sockeye 3 Transformers'}"
                  f" (config {rates.sections[trainer]})", ""]
    what = ("every weight matrix a token goes through; embeddings left out" if trainer == sc.DEFAULT_BACKEND
            else "every weight matrix a token goes through: attention projections, feed-forward layers, output"
            " layer; embeddings left out")
    lines += [f"Of the reference architecture `{arch_key(reference)}` ({weights_per_token(reference):,} weights per"
              " token). Another architecture's time per token is the reference's x (f + (1 − f) x W / W_ref), W its"
              f" weights per token ({what}).", "",
              "| device | training (target tokens/s) | decoding (sentences/s) | f (fixed share) | start-up (s) |"
              " source |", "|---|---|---|---|---|---|"]
    for name, spec in rates.specs[trainer].items():
        lines.append(f"| {name} | {spec.train_tokens_per_second:,.0f} | {spec.decode_sentences_per_second:,.2f} | "
                     f"{spec.fixed_share:g} | {spec.startup_seconds:g} | {spec.note} |")
    if heading and trainer == "sockeye3":
        lines += ["", gpu_status(rates)]
    return lines


def markdown(config: dict[str, Any], rows: list[Row], corpus: Corpus, rates: Rates, cpu_only: list[Row],
             use: Used | None = None) -> str:
    """results/cost.md: totals per group, the throughputs and every assumption; then, where the run left GPU
    samples or SLURM efficiency reports (`use`), what it used."""
    gpu_total, cpu_total = sum(r.gpu for r in rows), sum(r.cpu for r in rows)
    inside = sum(r.cpu for r in rows if r.device == "gpu")
    waiting = [r for r in rows if r.wait > 0]
    compute, teacher = config["compute"], sc.teacher_flags(config)
    lines = [f"# Cost estimate (outdir `{config['outdir']}`)", "",
             "The jobs of `snakemake table1 table2 table3 figures grid` that take more than seconds: trainings at"
             " their full budgets (upper bounds: Sockeye stops a training after 32 checkpoints without improvement),"
             " decodings and evaluations. One row per job in `cost.csv`.", "", *group_table(rows), "",
             f"GPU-hours: **{hours(gpu_total)}** ({gpu_total / 86400:,.1f} GPU-days). CPU core-hours:"
             f" **{hours(cpu_total)}**, of which {hours(inside)} inside the GPU jobs (checkpoint decoding on their CPU"
             " cores).",
             f"The same jobs on CPUs only (compute.device `cpu`): {hours(sum(r.cpu for r in cpu_only))} CPU"
             " core-hours."]
    if waiting:
        lines += ["", f"**Checkpoint decoding outlasts the checkpoint's updates** in {len(waiting)} GPU trainings:"
                  f" they wait {hours(sum(r.wait for r in waiting))} GPU-hours in all (included above) for the"
                  f" CPU decoding of {waiting[0].job.checkpoint_sentences:,} dev sentences at {compute['threads']}"
                  " threads. More compute.threads, a smaller decode-and-evaluate or decode-and-evaluate-use-cpu"
                  " false would avoid it."]
    transformers = any(backend(r.job.arch) == "sockeye3" for r in rows)
    lines += ["", "## Throughputs", ""]
    for i, trainer in enumerate([sc.DEFAULT_BACKEND, *(["sockeye3"] if transformers else [])]):
        lines += [""] * (i > 0) + throughput_lines(rates, trainer, heading=transformers)
    trained = sum(len(v) for v in rates.measured.train.values())
    decoded = sum(len(v) for v in rates.measured.decode.values())
    lines += ["", f"Measured under outdir: {trained} training logs and {decoded} decoding benchmarks" + (
        "; they replace these rates where they apply (the CSV's `source`)." if trained + decoded
        else "; none yet, so every rate above is the configuration's." if not transformers
        else "; none yet, so every rate above is the one given here."), "", "## Assumptions", ""]
    lines += [
        f"- Sentences: train {corpus.train_sentences:,} ({corpus.sources['train']}), dev {corpus.dev_sentences:,}"
        f" ({corpus.sources['dev']}), test {corpus.test_sentences:,} ({corpus.sources['test']}).",
        *(f"- Teacher {d}: {corpus.teacher_tokens[d]:,} BPE target tokens an epoch ({corpus.sources['tokens ' + d]});"
          f" {config['teacher']['max_epochs']} epochs of {teacher['batch-size']}-token batches."
          for d in corpus.teacher_tokens),
        *([f"- Teacher ensembles (teacher.ensemble {sc.ensemble_size(config)}): each member trains like one teacher;"
           " each member translates dev and test on its own, and the ensemble's decodings (distillation, its dev and"
           f" test) take {sc.ensemble_size(config)} x one model's time per sentence (every sentence goes through"
           " every member)."] if sc.ensemble_size(config) > 1 else []),
        "- Students: checkpoints x checkpoint-frequency updates (--max-updates) of batch-size target tokens"
        + (" (Sockeye 3: checkpoint-interval updates of sockeye3_train's batch-size)." if transformers else "."),
        "- Throughput depends neither on the batch size nor on the sentence length; decodings at decoding.beam_size"
        " and batch_size, checkpoint decoding (Sockeye's batch 16) at the same rate.",
        "- Checkpoint decoding (decode-and-evaluate) runs in a process of its own beside the training: a GPU job"
        " waits for it only where it takes longer than the checkpoint's updates; a CPU job shares its cores with it.",
        "- GPU jobs: " + (", ".join(sorted({r.job.rule for r in rows if r.device == "gpu"})) or "none")
        + f" (the SLURM profile's `gpu: 1` rules; compute.device `{compute.get('device', 'auto')}`). CPU core-hours:"
        f" wall hours x compute.threads ({compute['threads']}); an evaluation {config['cost']['evaluate_seconds']} s"
        " on one core.",
        "- Not counted: the download, corpus preparation, BPE, statistics, splits, gathers, concatenations, tables"
        " and figures (CPU jobs of seconds to minutes each), queueing, failed attempts.",
    ]
    lines += usage_lines(rows, use) if use is not None else []
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config-json", required=True, help="the merged configuration as JSON")
    parser.add_argument("--gpu-profile", type=Path, default=SLURM_PROFILE,
                        help="Snakemake profile whose set-resources name the GPU rules and whose"
                        " slurm-efficiency-report-path holds the efficiency reports (default: profiles/slurm)")
    parser.add_argument("--csv", type=Path, required=True)
    parser.add_argument("--md", type=Path, required=True)
    args = parser.parse_args(argv)
    config = json.loads(args.config_json)
    if "cost" not in config:
        print("ERROR: the configuration has no `cost` section (see config.yaml)", file=sys.stderr)
        return 1
    gpu_rules = gpu_rules_of(args.gpu_profile)
    rows, corpus, rates = estimate(config, gpu_rules)
    cpu_only, _, _ = estimate(config, gpu_rules, device="cpu")
    write_csv(rows, args.csv)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text(markdown(config, rows, corpus, rates, cpu_only, used(config, args.gpu_profile)),
                       encoding="utf-8")
    print(f"{len(rows)} jobs: {sum(r.gpu for r in rows) / 3600:,.1f} GPU-hours, "
          f"{sum(r.cpu for r in rows) / 3600:,.1f} CPU core-hours", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
