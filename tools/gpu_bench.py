"""The GPU check's results (bench/gpu, bench/GPU.md): per Sockeye 3 model of a finished (or stopped) run, its
training and decoding throughput, parameters, model FLOPs per token and share of the GPU's dense peak.

    python -m gpu_bench --outdir bench/work/gpu --config config/gpu-check.yaml --out bench \\
        [--wall-seconds S] [--snakemake-rc N] [--mxnet-refusal FILE] [--timings FILE] [--cpu]

writes OUT/gpu-results.json and OUT/gpu-results.md. Every number comes from the run's own files:

- train_tokens_per_second: target tokens per second of training, = updates per second x target tokens per
  update. Updates per second: Sockeye 3's checkpoint lines (`Checkpoint [k] Updates=U ... Time-cost=T`; T is the
  training time since the previous checkpoint, validation excluded), sum of the update deltas over the sum of T,
  leaving out each (re)start's first checkpoint (CUDA start-up, allocator warm-up). Target tokens per update: the
  training data's bucket lines (`Bucket (s, t): n samples in b batches of k, ~X target tokens/batch`), the mean
  of X over the batches of one epoch (non-padding tokens; update interval 1). Sockeye's own `tok/sec=` counts
  padded *source* positions (batch x source bucket length); its mean is kept as speedometer_tokens_per_second.
- decode_sentences_per_second: the test-set decode's `sent/sec` (sockeye.translate, model loading excluded);
  teachers also get distill_sentences_per_second, all shards' lines over their decoding times (per process).
- parameters: the log's `# of parameters: N` (trainable, shared counted once, and fixed positional tables).
- flops_per_token (training, per target token), from the log's parameter list (names and shapes) and data
  statistics, with r = source/target tokens of the training data, n_s and n_t its mean source and target lengths:

      6 x (r x (M_enc + M_kv) + M_dec + M_out) + 12 x (r x L_enc x n_s x d_enc + L_dec x (n_t + n_s) x d_dec)

  M_*: elements of the 2-D weight matrices (biases, layer norms, embedding look-ups and the fixed positional
  tables left out) of the encoder, of the decoder's cross-attention keys/values (`enc_attention.ff_kv`, applied
  to source states), of the rest of the decoder and of the output layer (V_trg x d, tied to the embeddings but a
  matmul); 6 = 2 (multiply-add) x 3 (forward, backward for inputs and weights). The second term is attention's
  scores and weighted sums (QK^T, AV: 4 x n x d per token and layer forward, x 3), encoder self-attention over
  the source, decoder self-attention (causal masking not halved) and cross-attention; L: layers, d: model size
  (args.yaml). Padding is not counted: these are model FLOPs, not the hardware's.
- peak_share: train_tokens_per_second x flops_per_token / PEAK_FLOPS[gpu][precision], for a training whose log
  says `Training Device: cuda:N` (Sockeye 3 falls back to the CPU, saying so, when CUDA is unusable; such a
  model gets none). Sockeye 3 trains in float32 with TF32 matmuls on CUDA by default (`--tf32`); args.yaml's
  dtype/amp/tf32 decide the precision.
- concurrent_trainings: the mean number of trainings running (this one included) over this one's training,
  from the logs' time stamps (decodes that overlap are not counted).
"""

from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "scripts"))  # the library: slkd
import yaml  # noqa: E402
from slkd import design, formats, layout, settings  # noqa: E402

# Dense (no sparsity) peak FLOP/s by GPU name (nvidia-smi's) and matmul precision. H200 SXM and H100 SXM share
# their tensor cores and clocks (NVIDIA's data sheets: FP32 67, TF32 494.7, BF16/FP16 989.4 TFLOP/s; the sheets'
# larger TF32/BF16 figures assume 2:4 sparsity).
PEAK_FLOPS: dict[str, dict[str, float]] = {
    "NVIDIA H200": {"float32": 67e12, "tf32": 494.7e12, "bfloat16": 989.4e12, "float16": 989.4e12},
    "NVIDIA H100 80GB HBM3": {"float32": 67e12, "tf32": 494.7e12, "bfloat16": 989.4e12, "float16": 989.4e12},
}

LOG = formats.TRAINING_LOG  # the training log's lines that this report reads


def _stamp(line: str) -> datetime.datetime | None:
    match = LOG["time"].match(line)
    return datetime.datetime.strptime(match.group(1), "%Y-%m-%d:%H:%M:%S") if match else None


def parse_training_log(text: str) -> dict[str, Any]:
    """What one Sockeye 3 training log says: checkpoints, buckets, speedometer, parameters, data, times."""
    lines = text.splitlines()
    segments: list[list[tuple[int, int, float]]] = []
    buckets: list[tuple[int, float]] = []
    section = None
    params: list[tuple[str, tuple[int, ...]]] = []
    in_trainable = False
    stamps = [s for s in map(_stamp, lines) if s]
    result: dict[str, Any] = {"speedometer": [], "parameters": None, "sentences": None, "tokens": None,
                              "device": None, "tf32_logged": False}
    for line in lines:
        if formats.ARGUMENTS in line:
            segments.append([])
            buckets, params, section = [], [], None  # a restart describes the same data again
            continue
        if "Creating training data iterator" in line:
            section = "train"
        elif "Creating validation data iterator" in line:
            section = "validation"
        elif "CUDA: allow tf32" in line:
            result["tf32_logged"] = True
        elif "Training Device: " in line:
            result["device"] = line.split("Training Device: ", 1)[1].strip()  # cuda:0, or cpu (also when CUDA failed)
        if "log_parameters] Trainable parameters" in line:
            in_trainable = True
            continue
        if in_trainable:
            found = LOG["parameter"].search(line)
            if found:
                params.append((found.group(1), tuple(int(x) for x in found.group(2).split(",") if x.strip())))
            if line.rstrip().endswith("]") and not line.lstrip().startswith("["):
                in_trainable = False
            elif line.startswith("[") and "INFO" in line:
                in_trainable = False
        if section == "train":
            if (m := LOG["bucket"].search(line)) and int(m.group(4)) > 0:
                buckets.append((int(m.group(4)), float(m.group(6))))
            if (m := LOG["data_size"].search(line)) and result["sentences"] is None:
                result["sentences"] = int(m.group(1))
            if (m := LOG["tokens"].search(line)) and result["tokens"] is None:
                result["tokens"] = (int(m.group(1)), int(m.group(2)))
        if m := formats.CHECKPOINT_TIME.search(line):
            if not segments:
                segments.append([])
            segments[-1].append((int(m.group(1)), int(m.group(2)), float(m.group(3))))
        if m := LOG["speed"].search(line):
            result["speedometer"].append(float(m.group(1)))
        if result["parameters"] is None:
            result["parameters"] = formats.parameter_count(line)
    result.update(segments=segments, buckets=buckets, params=params,
                  start=stamps[0] if stamps else None, end=stamps[-1] if stamps else None)
    return result


def updates_per_second(segments: list[list[tuple[int, int, float]]]) -> tuple[float | None, int, float]:
    """(updates/s, updates, seconds) over the checkpoints after each segment's first (all of a segment that has
    only one). A checkpoint's updates are its Updates= less the previous checkpoint's (0 before the first)."""
    updates, seconds = 0, 0.0
    previous = 0
    for segment in segments:
        deltas = []
        for _, total, cost in segment:
            deltas.append((total - previous, cost))
            previous = total
        measured = deltas[1:] if len(deltas) > 1 else deltas
        updates += sum(d for d, _ in measured)
        seconds += sum(c for _, c in measured)
    return (updates / seconds if seconds > 0 else None), updates, seconds


def tokens_per_update(buckets: list[tuple[int, float]]) -> float | None:
    """Mean target tokens per batch over one epoch's batches (the bucket lines' ~X weighted by their batches)."""
    batches = sum(b for b, _ in buckets)
    return sum(b * x for b, x in buckets) / batches if batches else None


def matrix_groups(params: list[tuple[str, tuple[int, ...]]]) -> dict[str, int]:
    """Elements of the 2-D weight matrices per group: enc, kv (decoder cross-attention keys/values), dec, out."""
    groups = {"enc": 0, "kv": 0, "dec": 0, "out": 0}
    for name, shape in params:
        if len(shape) != 2 or name.startswith("embedding_") or "pos_embedding" in name:
            continue
        size = shape[0] * shape[1]
        if name.startswith("encoder."):
            groups["enc"] += size
        elif name.startswith("decoder.") and "enc_attention.ff_kv" in name:
            groups["kv"] += size
        elif name.startswith("decoder."):
            groups["dec"] += size
        elif name.startswith("output_layer"):
            groups["out"] += size
        else:
            raise ValueError(f"parameter {name} belongs to no group of the FLOPs formula")
    return groups


def _pair(value: Any) -> tuple[int, int]:
    if isinstance(value, (list, tuple)):
        return int(value[0]), int(value[-1])
    return int(value), int(value)


def flops_per_token(groups: dict[str, int], sentences: int, tokens: tuple[int, int],
                    layers: tuple[int, int], model_size: tuple[int, int]) -> float:
    """Training FLOPs per target token (the module's formula)."""
    source, target = tokens
    ratio, n_s, n_t = source / target, source / sentences, target / sentences
    (l_enc, l_dec), (d_enc, d_dec) = layers, model_size
    dense = 6 * (ratio * (groups["enc"] + groups["kv"]) + groups["dec"] + groups["out"])
    attention = 12 * (ratio * l_enc * n_s * d_enc + l_dec * (n_t + n_s) * d_dec)
    return dense + attention


def precision(args: dict[str, Any], cuda: bool) -> str:
    """The matmul precision of a training: float16 with --amp, the dtype, TF32 for float32 on CUDA with --tf32."""
    if args.get("amp") or args.get("apex_amp"):
        return "float16"
    dtype = str(args.get("dtype", "float32"))
    if dtype == "float32" and cuda and args.get("tf32", True):
        return "tf32"
    return dtype


def parse_translate_log(path: Path) -> tuple[int, float, float] | None:
    """(lines, seconds, sent/sec) of sockeye.translate's last `Processed` line in a job log."""
    if not path.exists():
        return None
    return formats.translate_summary(path.read_text(encoding="utf-8", errors="replace"))


def _overlap(runs: dict[str, tuple[datetime.datetime, datetime.datetime]], name: str) -> float | None:
    start, end = runs[name]
    span = (end - start).total_seconds()
    if span <= 0:
        return None
    shared = sum(max(0.0, (min(end, e) - max(start, s)).total_seconds()) for s, e in runs.values())
    return shared / span


def model_dirs(outdir: Path) -> list[tuple[str, Path]]:
    """({model}, folder) of every Sockeye model folder with a training log under outdir/models."""
    models = outdir / "models"
    found = []
    for log in sorted(models.glob("teacher/*/log")) + sorted(models.glob(layout.pattern_glob(layout.STUDENT) + "/log")):
        found.append((str(log.parent.relative_to(models)), log.parent))
    return found


def model_record(config: dict[str, Any], outdir: Path, model: str, folder: Path, gpu: str | None,
                 runs: dict[str, tuple[datetime.datetime, datetime.datetime]]) -> dict[str, Any]:
    """One entry of the JSON's `models`."""
    info = layout.parse_model(model)
    name = layout.model_architecture(config, model)
    arch = {k: v for k, v in design.architecture(config, name).items() if k != "backend"}
    log = parse_training_log((folder / "log").read_text(encoding="utf-8", errors="replace"))
    args = yaml.safe_load((folder / "args.yaml").read_text(encoding="utf-8")) if (folder / "args.yaml").exists() else {}
    rate, updates, seconds = updates_per_second(log["segments"])
    per_update = tokens_per_update(log["buckets"])
    train_tps = rate * per_update if rate is not None and per_update is not None else None
    flops = None
    if log["params"] and log["sentences"] and log["tokens"] and args:
        flops = flops_per_token(matrix_groups(log["params"]), log["sentences"], log["tokens"],
                                _pair(args["num_layers"]), _pair(args["transformer_model_size"]))
    on_gpu = str(log["device"]).startswith("cuda")
    prec = precision(args, on_gpu)
    peak = PEAK_FLOPS.get(gpu or "", {}).get(prec) if on_gpu else None
    test = parse_translate_log(outdir / "logs" / "translate_test" / f"{model}.log")
    record: dict[str, Any] = {
        "model": model,
        "backend": design.backend_of(config, name),
        "architecture_name": name,
        "architecture": arch,
        "batch_size": args.get("batch_size"),
        "batch_type": args.get("batch_type"),
        "device": log["device"],
        "finished": (folder.parent / f"{folder.name}.done.json").exists(),
        "parameters": log["parameters"],
        "train_tokens_per_second": train_tps,
        "train_updates_per_second": rate,
        "train_tokens_per_update": per_update,
        "train_measured_updates": updates,
        "train_measured_seconds": seconds,
        "checkpoints": sum(len(s) for s in log["segments"]),
        "speedometer_tokens_per_second": (sum(log["speedometer"]) / len(log["speedometer"])
                                          if log["speedometer"] else None),
        "decode_sentences_per_second": test[2] if test else None,
        "decode_sentences": test[0] if test else None,
        "flops_per_token": flops,
        "precision": prec,
        "peak_flops": peak,
        "peak_share": train_tps * flops / peak if train_tps and flops and peak else None,
        "concurrent_trainings": _overlap(runs, model) if model in runs else None,
    }
    if info["kind"] == "teacher":
        logs = sorted((outdir / "logs" / "distill").glob(f"{info['direction']}.*.log"))
        shards = [s for s in map(parse_translate_log, logs) if s]
        lines, secs = sum(s[0] for s in shards), sum(s[1] for s in shards)
        record["distill_sentences_per_second"] = lines / secs if secs > 0 else None
        record["distill_sentences"] = lines
        record["distill_shards"] = len(shards)
    return record


def device_info(cpu: bool) -> dict[str, Any]:
    """GPU name, compute capability and driver (nvidia-smi, via gpu_check), torch and its CUDA."""
    from slkd import gpu_check

    info: dict[str, Any] = {"gpu": None, "compute_capability": None, "driver": None, "torch": None, "cuda": None}
    try:
        import torch

        info["torch"] = torch.__version__.split("+")[0]
        info["torch_build"] = torch.__version__
        info["cuda"] = torch.version.cuda
        if torch.cuda.is_available() and not cpu:
            major, minor = torch.cuda.get_device_capability(0)
            info["gpu"], info["compute_capability"] = torch.cuda.get_device_name(0), f"{major}.{minor}"
    except ImportError:
        pass
    gpus = [] if cpu else (gpu_check.visible_gpus() or [])
    if gpus:
        gpu = gpus[0]
        info.update(gpu=gpu.name, compute_capability=gpu.compute_capability, driver=gpu.driver)
        info["gpu_memory"] = gpus[0].memory
    if cpu:
        info["device"] = "cpu"
    return info


def results(config: dict[str, Any], outdir: Path, cpu: bool = False, device: dict[str, Any] | None = None,
            **extra: Any) -> dict[str, Any]:
    """The JSON document: device, the models (teachers first) and whatever `extra` adds (wall time, refusal)."""
    device = device_info(cpu) if device is None else device
    found = model_dirs(outdir)
    runs = {}
    for model, folder in found:
        log = parse_training_log((folder / "log").read_text(encoding="utf-8", errors="replace"))
        if log["start"] and log["end"]:
            runs[model] = (log["start"], log["end"])
    models = [model_record(config, outdir, model, folder, device.get("gpu"), runs) for model, folder in found]
    precisions = sorted({m["precision"] for m in models})
    return {
        "date": datetime.date.today().isoformat(),
        **device,
        "dtype": "float32" if all(p in ("float32", "tf32") for p in precisions) else ",".join(precisions),
        "matmul_precision": ",".join(precisions),
        "peak_flops_table": PEAK_FLOPS,
        "train_tokens_per_second_source": "Updates/sec (checkpoint lines, first of each start left out) x mean"
                                          " target tokens per batch (training bucket lines)",
        "flops_formula": "6 x (r x (M_enc + M_kv) + M_dec + M_out) + 12 x (r x L_enc x n_s x d_enc"
                         " + L_dec x (n_t + n_s) x d_dec), per target token (tools/gpu_bench.py)",
        "models": models,
        **extra,
    }


def _fmt(value: Any, digits: int = 1) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}" if abs(value) >= 1 or value == 0 else f"{value:.{max(digits, 3)}g}"
    return f"{value:,}" if isinstance(value, int) else str(value)


def markdown(doc: dict[str, Any]) -> str:
    """gpu-results.md: the device, a table of the models, the workflow's status and the MXNet refusal."""
    lines = [f"# GPU check, {doc['date']}", "",
             f"Device: {doc.get('gpu') or doc.get('device', '?')}"
             f" (compute capability {_fmt(doc.get('compute_capability'))},"
             f" driver {_fmt(doc.get('driver'))}); torch {_fmt(doc.get('torch'))}, CUDA {_fmt(doc.get('cuda'))};"
             f" dtype {doc['dtype']}, matmuls {doc['matmul_precision']}.",
             f"Wall time: {_fmt(doc.get('wall_seconds'))} s; workflow exit status {_fmt(doc.get('snakemake_rc'))}.",
             "",
             "| model | params | train tok/s | upd/s | tok/upd | ckpts | conc. | decode sent/s | distill sent/s"
             " | MFLOP/tok | peak share |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for m in doc["models"]:
        lines.append(
            f"| {m['model']}{'' if m['finished'] else ' (unfinished)'} | {_fmt(m['parameters'])}"
            f" | {_fmt(m['train_tokens_per_second'], 0)} | {_fmt(m['train_updates_per_second'], 2)}"
            f" | {_fmt(m['train_tokens_per_update'], 0)} | {m['checkpoints']} | {_fmt(m['concurrent_trainings'], 1)}"
            f" | {_fmt(m['decode_sentences_per_second'])} | {_fmt(m.get('distill_sentences_per_second'))}"
            f" | {_fmt(m['flops_per_token'] / 1e6 if m['flops_per_token'] else None, 2)}"
            f" | {_fmt(100 * m['peak_share'] if m['peak_share'] else None, 2)}{'%' if m['peak_share'] else ''} |")
    lines += ["", f"train tok/s: {doc['train_tokens_per_second_source']}. FLOPs per target token: "
              f"{doc['flops_formula']}. peak share: tok/s x FLOPs/tok over the dense peak of the matmul precision"
              " (peak_flops_table). conc.: mean number of trainings running during this one.", "",
              f"MXNet (Sockeye 1.18) on this device: {doc.get('mxnet_refusal') or '–'}", ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outdir", required=True, help="the workflow's outdir (config outdir)")
    parser.add_argument("--config", nargs="+", required=True, help="override files, merged over config.yaml")
    parser.add_argument("--out", required=True, help="folder for gpu-results.json and gpu-results.md")
    parser.add_argument("--wall-seconds", type=float)
    parser.add_argument("--snakemake-rc", type=int)
    parser.add_argument("--mxnet-refusal", help="a file with `python -m slkd.gpu_check mxnet`'s output")
    parser.add_argument("--timings", help="bench/gpu's timings.tsv (step, seconds)")
    parser.add_argument("--cpu", action="store_true", help="a CPU test run: no GPU is looked for")
    args = parser.parse_args(argv)
    root = Path(__file__).resolve().parent.parent
    config = settings.load_config(root, *args.config)
    extra: dict[str, Any] = {"wall_seconds": args.wall_seconds, "snakemake_rc": args.snakemake_rc}
    if args.mxnet_refusal:
        path = Path(args.mxnet_refusal)
        extra["mxnet_refusal"] = path.read_text(encoding="utf-8").strip() if path.exists() else None
    if args.timings and Path(args.timings).exists():
        rows = [line.split("\t") for line in Path(args.timings).read_text(encoding="utf-8").splitlines()[1:]]
        extra["step_seconds"] = {row[0]: float(row[1]) for row in rows if len(row) == 2}
    doc = results(config, Path(args.outdir), cpu=args.cpu, **extra)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "gpu-results.json").write_text(json.dumps(doc, indent=2, default=str) + "\n", encoding="utf-8")
    (out / "gpu-results.md").write_text(markdown(doc), encoding="utf-8")
    print(f"{out / 'gpu-results.json'}: {len(doc['models'])} models", file=sys.stderr)
    return 0 if doc["models"] else 1


if __name__ == "__main__":
    sys.exit(main())
