"""The Tatoeba GPU run (config/gpu-tatoeba.yaml, bench/gpu-tatoeba; issue 17): the paper's design with Transformer
teachers and students on real text, its exact plan, flags that the schema and Sockeye 3.1.34 itself accept, and the
convergence report (tools/convergence.py) that says how each training stopped. Nothing here trains."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import convergence
import jsonschema
import pytest
import yaml
from conftest import REPO, SOCKEYE3_PYTHON, load_config, planned_jobs, run_workflow
from slkd import backends, checks, design, training_flags
from slkd.cost import plan as cost_plan

CONFIG = REPO / "config/gpu-tatoeba.yaml"
CORPUS = "bench/work/tatoeba-de-en"  # the gitignored copy that `bench/gpu-tatoeba --prepare` makes
GPU_ARGS = ("--resources", "gpu=15", "--set-resources", *(f"{rule}:gpu=1" for rule in backends.TRAINER_RULES),
            "--scheduler", "greedy")
TARGETS = ("table1", "table2", "table3", "figures")  # what bench/gpu-tatoeba runs
# The plan: 2 teachers, 6 shards per direction, 5 datasets x 2 columns x 3 trials, 4 datasets compared with
# baseline per column and trial; BPE 4000 (teachers) on base train/dev/test, BPE 500 on base dev, the test
# source and the 5 datasets' train sides
PLAN = {
    "prepare_corpus": 3, "check_corpus": 1, "learn_bpe": 4, "apply_bpe": 6 + 3 + 10, "corpus_stats": 5,
    "concat_dataset": 5,
    "train_teacher": 2, "score_teacher": 2, "split_for_distillation": 2, "distill": 12, "gather_part": 3,
    "train_student": 30, "translate_test": 30 + 2, "translate_dev": 2,
    "evaluate": 30,
    "paired_bootstrap": 24, "table1": 1, "table2": 1, "table3": 1, "figure1": 1, "figures": 1,
}


@pytest.fixture(scope="module")
def config() -> dict[str, Any]:
    return load_config(CONFIG)


@pytest.mark.unit
def test_the_papers_design_with_transformers_on_tatoeba(config: dict[str, Any]) -> None:
    checks.check_config(config)
    corpus = config["corpus"]
    assert corpus["source"] == "local" and corpus["tokenize"] is True and corpus["lowercase"] is False
    assert {side: path for split in design.SPLITS for side, path in corpus["local"][split].items()
            if path != f"{CORPUS}/{split}.{'de' if side == 'src' else 'en'}"} == {}
    # Transformers only (no MXNet on sm_90): teachers in both directions, no grid
    assert design.backends_used(config) == ["sockeye3"] and design.grid_students(config) == []
    assert design.teachers_used(config) == ["de-en", "en-de"]
    assert design.backend_of(config, config["teacher"]["architecture"]) == "sockeye3"
    # Table 3: five datasets, T-SMALL with and without dropout, 3 trials; Table 1 trains nothing more
    students = design.students(config)
    assert config["tables"]["table3"]["datasets"] == ["baseline", "kd", "base+kd", "base+kd+bt", "base+best-2"]
    assert len(students) == 30 and {s.trial for s in students} == {1, 2, 3}
    assert {(s.architecture, s.dropout) for s in students} == {("T-SMALL", True), ("T-SMALL", False)}
    assert set(design.students(config, ["table1"])) < set(design.students(config, ["table3"]))
    assert design.bpe_sizes(config) == [500, 4000]
    # every training stops on early stopping on the dev set, or at its ceilings
    teacher = training_flags.teacher_flags(config)
    stops = ("max-num-checkpoint-not-improved", "max-updates", "max-seconds")
    assert tuple(teacher[k] for k in stops) == (4, 1500, 150)
    for student in students:
        flags = training_flags.student_flags(config, student)
        assert tuple(flags[k] for k in stops) == (4, 1500, 120)
        assert flags["transformer-dropout-prepost"] == (".1:.1" if student.dropout else "0:0")
        assert flags["encoder"] == flags["decoder"] == "transformer" and "backend" not in flags


@pytest.mark.unit
def test_merged_config_passes_the_schema(config: dict[str, Any]) -> None:
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    jsonschema.Draft202012Validator(schema).validate(config)
    # the schema does look at the Transformer flags: a list where a flag's value belongs is refused
    broken = json.loads(json.dumps(config))
    broken["architectures"]["T-SMALL"]["num-layers"] = [2, 2]
    with pytest.raises(jsonschema.ValidationError, match=r"\[2, 2\] is not of type"):
        jsonschema.Draft202012Validator(schema).validate(broken)


PARSE = """
import json, sys
import sockeye.arguments as arguments, sockeye.train as train
parsed = []
for argv in json.loads(sys.argv[1]):
    parser = arguments.ConfigArgumentParser()
    arguments.add_train_cli_args(parser)
    args = parser.parse_args(argv)
    train.check_arg_compatibility(args)
    parsed.append({k: getattr(args, k) for k in ("max_updates", "max_seconds", "max_num_checkpoint_not_improved",
                   "checkpoint_interval", "num_layers", "transformer_model_size", "transformer_dropout_prepost",
                   "learning_rate_reduce_num_not_improved", "num_words")})
print(json.dumps(parsed))
"""


@pytest.mark.workflow
def test_sockeye3_accepts_every_training_argv(config: dict[str, Any], tmp_path: Path) -> None:
    """The teacher's and both student columns' flags through Sockeye 3.1.34's own argument parser and checks."""
    if not SOCKEYE3_PYTHON.exists():
        pytest.skip(f"no Sockeye 3 environment at {SOCKEYE3_PYTHON}")
    for name in ("s", "t"):
        (tmp_path / name).write_text("a b\n")
    data = ["--source", str(tmp_path / "s"), "--target", str(tmp_path / "t"), "--validation-source",
            str(tmp_path / "s"), "--validation-target", str(tmp_path / "t"), "--output", str(tmp_path / "m"),
            "--use-cpu"]
    with_dropout, without = (design.Student("T-SMALL", "base+kd+bt", d, 15, 1) for d in (True, False))
    assert {with_dropout, without} <= set(design.students(config))
    flags = [training_flags.teacher_flags(config), training_flags.student_flags(config, with_dropout),
             training_flags.student_flags(config, without)]
    argvs = json.dumps([data + training_flags.sockeye_args(f) for f in flags])
    proc = subprocess.run([str(SOCKEYE3_PYTHON), "-c", PARSE, argvs],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    teacher, dropout, nodropout = json.loads(proc.stdout)
    assert (teacher["max_updates"], teacher["max_seconds"], teacher["num_layers"]) == (1500, 150, [3, 3])
    assert (dropout["max_updates"], dropout["max_seconds"], dropout["num_layers"]) == (1500, 120, [2, 2])
    assert dropout["transformer_dropout_prepost"] == [0.1, 0.1] and nodropout["transformer_dropout_prepost"] == [0, 0]
    for parsed in (teacher, dropout, nodropout):
        assert (parsed["max_num_checkpoint_not_improved"], parsed["checkpoint_interval"]) == (4, 100)
        assert parsed["learning_rate_reduce_num_not_improved"] == 2 and parsed["transformer_model_size"] == [256, 256]
    assert (teacher["num_words"], dropout["num_words"]) == ([4000, 4000], [500, 500])


@pytest.mark.plan
def test_dry_run_plans_exactly_the_design_on_one_shared_gpu(config: dict[str, Any], tmp_path: Path) -> None:
    # the DAG follows from the configuration alone: any text at the corpus paths will do for a dry run
    (tmp_path / CORPUS).mkdir(parents=True)
    for split in design.SPLITS:
        for lang in ("de", "en"):
            (tmp_path / CORPUS / f"{split}.{lang}").write_text("ein Satz .\n")
    proc = run_workflow(tmp_path, "-n", "-p", *GPU_ARGS, *TARGETS, configfiles=(CONFIG,))
    jobs = planned_jobs(proc)
    assert jobs == {**PLAN, "total": sum(PLAN.values())}
    # `snakemake cost` estimates exactly these trainings, decodes and evaluations
    assert cost_plan.rule_counts(cost_plan.jobs(config, cost_plan.corpus_sizes(config, tmp_path))) == {
        rule: PLAN[rule] for rule in cost_plan.RULES if rule in PLAN}
    # every trainer job is a Sockeye 3 job on the GPU slot it holds (device 0: the same GPU for all)
    out = proc.stdout + proc.stderr
    trainer = [line for line in out.splitlines() if re.search(r"python -m (train_model|translate) ", line)]
    assert len(trainer) == 2 + 12 + 32 + 2 + 30  # teachers, shards, test decodes, the teachers' dev decodes, students
    assert all("--backend sockeye3 --device auto --gpus 1 " in line for line in trainer)
    students = [line for line in trainer if "train_model" in line and "/student/" in line]
    assert len(students) == 30
    assert all('"max-num-checkpoint-not-improved": 4' in line and '"max-updates": 1500' in line for line in students)


@pytest.mark.unit
def test_carried_paths_are_gitignored() -> None:
    paths = [f"{CORPUS}/train.de", "bench/gpu-wheels/x.whl", "bench/work/gpu-tatoeba/models",
             "bench/work/gpu-tatoeba-out/summary.md"]
    ignored = subprocess.run(["git", "check-ignore", *paths], cwd=REPO, capture_output=True, text=True)
    assert ignored.stdout.split() == paths
    script = (REPO / "bench/gpu-tatoeba").read_text()
    assert f'CORPUS={CORPUS} ' in script and "--config sockeye_python=/bin/false" in script
    assert "sacremoses==0.2.0" in (REPO / "bench/gpu-wheels.sh").read_text()  # Moses tokenization on the node


# ---- tools/convergence.py ------------------------------------------------------------------------------------
def _model(root: Path, model: str, log: str, ppl: list[float]) -> None:
    folder = root / "models" / model
    folder.mkdir(parents=True)
    (folder / "log").write_text(log)
    (folder / "metrics").write_text("".join(f"{i}\tperplexity-train={p + 1:.3f}\tperplexity-val={p:.3f}\n"
                                            for i, p in enumerate(ppl, 1)))


@pytest.mark.unit
def test_stop_reasons_are_sockeyes_own_lines() -> None:
    early = "[x:INFO:sockeye.training:_determine_convergence] Maximum number of not improved checkpoints reached: " \
            "improvement 0.000000 <= 0.000000 over 4 checkpoints\n"
    updates = "[x:INFO:sockeye.training:fit] Maximum # of updates (1500) reached.\n"
    assert convergence.stop_reason(early) == "early-stopping"
    assert convergence.stop_reason(updates) == "max-updates"
    assert convergence.stop_reason("Maximum # of seconds (120) reached. Training ran for 121 seconds.") == "max-seconds"
    assert convergence.stop_reason("Maximum # of epochs (60) reached.") == "max-epochs"
    assert convergence.stop_reason("Checkpoint [3]\tUpdates=300\n") == "unfinished"
    assert convergence.stop_reason(early + "resuming\n" + updates) == "max-updates"  # the last training's
    source = SOCKEYE3_PYTHON.parent.parent / "lib/python3.11/site-packages/sockeye/training.py"
    if source.is_file():  # the format strings these lines come from, in Sockeye 3.1.34
        text = source.read_text()
        for fragment in ("Maximum number of not improved checkpoints reached", "Maximum # of updates (%s) reached.",
                         "Maximum # of seconds (%s) reached.", "Maximum # of epochs (%s) reached.",
                         "Model optimization diverged"):
            assert fragment in text


@pytest.mark.unit
def test_flat_means_early_stopped_or_last_checkpoints_within_two_percent(tmp_path: Path) -> None:
    _model(tmp_path, "teacher/de-en", "Maximum number of not improved checkpoints reached: ...",
           [9.0, 6.0, 5.0, 5.2, 5.3])
    base = "student/T-SMALL/baseline/dropout/ckpt15/trial1"
    _model(tmp_path, base, "Maximum # of updates (1500) reached.", [8.0, 6.0, 5.05, 5.0, 4.98])
    _model(tmp_path, base.replace("trial1", "trial2"), "Maximum # of seconds (120) reached.", [8.0, 6.0, 5.5, 5.0])
    _model(tmp_path, base.replace("trial1", "trial3"), "Checkpoint [2]", [8.0, 6.0])
    records = {r["model"]: r for r in convergence.convergence(tmp_path)}
    teacher = records["teacher/de-en"]
    assert teacher["stopped"] == "early-stopping" and teacher["flat"]
    assert (teacher["best_checkpoint"], teacher["best_ppl_val"], teacher["checkpoints"]) == (3, 5.0, 5)
    assert teacher["last_ppl_val"] == [5.0, 5.2, 5.3] and teacher["spread"] == pytest.approx(0.3 / 5.0)
    budget = records[base]
    assert budget["stopped"] == "max-updates" and budget["spread"] == pytest.approx(0.07 / 4.98) and budget["flat"]
    slow = records[base.replace("trial1", "trial2")]
    assert slow["stopped"] == "max-seconds" and slow["spread"] == pytest.approx(0.2) and not slow["flat"]
    unfinished = records[base.replace("trial1", "trial3")]
    assert unfinished["stopped"] == "unfinished" and unfinished["spread"] is None and not unfinished["flat"]
    md = convergence.markdown(list(records.values()), 3, 0.02)
    assert md.startswith("2 of 4 models flat: 1 stopped by early stopping on the dev set, 1 at a ceiling with the"
                         " validation perplexities of their last 3 checkpoints within 2 % of each other.")
    assert f"| {base} | max-updates | 5 | 5 | 4.980 | 5.050, 5.000, 4.980 | 1.41 % | yes |" in md
    out = tmp_path / "out"
    out.mkdir()
    assert convergence.main(["--outdir", str(tmp_path), "--json", str(out / "c.json"), "--md", str(out / "c.md")]) == 0
    doc = json.loads((out / "c.json").read_text())
    assert (doc["last"], doc["tolerance"]) == (3, 0.02) and [m["flat"] for m in doc["models"]] == [
        records[m["model"]]["flat"] for m in doc["models"]]
    assert convergence.main(["--outdir", str(tmp_path / "none"), "--json", str(out / "x"), "--md", str(out / "y")]) == 1
