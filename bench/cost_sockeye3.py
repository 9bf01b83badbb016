"""CPU throughputs of Sockeye 3 (Transformer) models for `snakemake cost` (config.yaml `cost.sockeye3.cpu`).

    .venv/bin/python bench/cost_sockeye3.py [--updates 40] [--out bench/work/cost-sockeye3/result.json]

What bench/run's figure C does for the Sockeye 1.18 RNNs, for config.yaml's TRANSFORMER-LARGE and
TRANSFORMER-SMALL: each trained with sockeye3_train's flags (batch 4096 words) on the CPU at config.yaml's
threads, on random tokens of its full vocabulary (bench.random_corpus: source and target of equal lengths, 5-38
tokens); target tokens per second = batch-size x the median Updates/sec of the checkpoints, the first left out;
their ratio gives fixed_share. Decoding: TRANSFORMER-LARGE, its </s> forbidden (so that an untrained model runs
to the maximum output length, about its input's), decodes 1, 100 and 400 sentences with config.yaml's beam and
batch size: the rate is 300 over the difference of the last two times, start-up what the single sentence took
beyond its share of that rate. The sizes that Sockeye 3 logs (`# of parameters`) are kept beside the rates. Prints a
`cost.sockeye3.cpu` block for config.yaml and writes the numbers as JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH))
from bench import REPO, WORK, random_corpus, timed  # noqa: E402

sys.path.insert(0, str(REPO / "scripts"))
from slkd import formats  # noqa: E402
from slkd.backends.sockeye3 import env as sockeye3_env  # noqa: E402
from slkd.cost import rates as cost_rates  # noqa: E402
from slkd.settings import load_config  # noqa: E402
from slkd.training_flags import model_flags, sockeye_args  # noqa: E402

PYTHON = REPO / ".venv-sockeye3" / "bin" / "python"
ENTRY = REPO / "scripts" / "sockeye3_entry.py"
FORBID_EOS = """
import json, sys
import torch
folder = sys.argv[1]
eos = json.load(open(folder + "/vocab.trg.0.json"))["</s>"]
params = torch.load(folder + "/params.best", map_location="cpu")
params["output_layer.bias"][eos] = -1e4
torch.save(params, folder + "/params.best")
"""


def finished(log: Path, updates: int) -> bool:
    """Whether a training log reached its --max-updates."""
    return log.is_file() and f"Maximum # of updates ({updates}) reached" in log.read_text()


def measure(updates: int, names: tuple[str, str] = ("TRANSFORMER-LARGE", "TRANSFORMER-SMALL"),
            keep: bool = False) -> dict:
    """Training rates of both architectures, decoding rate and start-up of the first, their logged sizes; with
    `keep`, a training that already reached its updates is not run again."""
    config = load_config(REPO)
    threads = str(config["compute"]["threads"])
    env = sockeye3_env(threads)
    folder = WORK / "cost-sockeye3"
    if not keep:
        shutil.rmtree(folder, ignore_errors=True)
    interval = max(updates // 4, 1)
    result: dict = {"date": time.strftime("%Y-%m-%d"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
                    "threads": int(threads), "updates": updates, "models": {}}
    for name in names:
        arch = config["architectures"][name]
        data = random_corpus(folder / f"data{arch['num-words']}", arch["num-words"], 4000, seed=1)
        # no warm-up: at warm-up's tiny learning rates an untrained model's perplexity on random tokens can stay
        # above twice the vocabulary, which Sockeye 3 takes for divergence (it stops after one checkpoint)
        flags = {**model_flags(config, name, True), "checkpoint-interval": interval, "max-updates": updates,
                 "decode-and-evaluate": 0, "learning-rate-warmup": 0, "seed": 1}
        cmd = [str(PYTHON), str(ENTRY), "train", "--source", data["train.src"], "--target", data["train.trg"],
               "--validation-source", data["dev.src"], "--validation-target", data["dev.trg"],
               "--output", str(folder / name), *sockeye_args(flags), "--use-cpu"]
        if not (keep and finished(folder / name / "log", updates)):
            shutil.rmtree(folder / name, ignore_errors=True)
            print(f"cost_sockeye3: training {name} ({updates} updates on CPU, {threads} threads)", file=sys.stderr)
            timed([cmd], env)
        log = (folder / name / "log").read_text()
        rates = formats.checkpoint_rates(log)[1:]
        result["models"][name] = {"architecture": arch, "updates_per_second": rates,
                                  "train_tokens_per_second": int(flags["batch-size"]) * statistics.median(rates),
                                  "parameters": formats.read_parameters(folder / name)}
    large = folder / names[0]
    timed([[str(PYTHON), "-c", FORBID_EOS, str(large)]], env)
    data = folder / f"data{config['architectures'][names[0]]['num-words']}"
    test = (data / "test.src").read_text().splitlines()
    (data / "test100.src").write_text("".join(f"{line}\n" for line in test[:100]), encoding="utf-8")
    (data / "test1.src").write_text(f"{test[0]}\n", encoding="utf-8")
    decoding = config["decoding"]

    def decode(source: Path) -> float:
        return timed([[str(PYTHON), str(ENTRY), "translate", "--models", str(large), "--input", str(source),
                       "--output", f"{source}.out", "--beam-size", str(decoding["beam_size"]), "--batch-size",
                       str(decoding["batch_size"]), "--no-logfile", "--use-cpu"]], env)

    print(f"cost_sockeye3: decoding with {names[0]} on CPU", file=sys.stderr)
    one, short, long = decode(data / "test1.src"), decode(data / "test100.src"), decode(data / "test.src")
    rate = (len(test) - 100) / max(long - short, 1e-6)
    words = [len((data / f).read_text().split()) for f in ("test.src", "test.src.out")]
    # start-up: what one sentence takes beyond its share of the rate (the extrapolation from 100 sentences is
    # too noisy on a shared machine)
    result.update(decode_seconds={"1": one, "100": short, str(len(test)): long}, decode_sentences_per_second=rate,
                  startup_seconds=max(one - 1 / rate, 0.0), beam=decoding["beam_size"],
                  batch=decoding["batch_size"], length_ratio=words[1] / words[0])
    return result


def fixed_share(r: dict) -> float:
    """The share of the time per token that does not shrink with the model: from the two training rates."""
    (large, small) = r["models"].values()
    share = cost_rates.weights_per_token(small["architecture"]) / cost_rates.weights_per_token(large["architecture"])
    ratio = large["train_tokens_per_second"] / small["train_tokens_per_second"]  # SMALL's time per token / LARGE's
    return min(max((ratio - share) / (1 - share), 0.0), 1.0)


def block(r: dict) -> str:
    large = next(iter(r["models"].values()))
    note = (f"measured by bench/cost_sockeye3.py on {r['machine']}, {r['threads']} threads, {r['date']}")
    return "\n".join([
        "    cpu:", f"      train_tokens_per_second: {large['train_tokens_per_second']:.0f}",
        f"      decode_sentences_per_second: {r['decode_sentences_per_second']:.2f}",
        f"      fixed_share: {r['fixed_share']:.2f}", f"      startup_seconds: {r['startup_seconds']:.1f}",
        f'      note: "{note}"'])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--updates", type=int, default=40)
    parser.add_argument("--out", type=Path, default=WORK / "cost-sockeye3" / "result.json")
    parser.add_argument("--keep", action="store_true", help="keep trainings that reached --updates already")
    args = parser.parse_args()
    result = measure(args.updates, keep=args.keep)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    result["fixed_share"] = fixed_share(result)
    args.out.write_text(json.dumps(result, indent=1) + "\n", encoding="utf-8")
    print(json.dumps(result, indent=1))
    print(block(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
