"""Teacher ensembles (teacher.ensemble: N, teacher.ensemble_mode): N teachers per direction with their own seeds,
decoding as one (sockeye.translate --models DIR1 DIR2 ...); each member and the ensemble scored, the floor the
ensemble's. With one teacher, the jobs and commands of before."""

from __future__ import annotations

import argparse
import copy
import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import REPO, SOCKEYE3_PYTHON, TINY, TINY_TRANSFORMER, load_config, planned_jobs, run_workflow, ungrouped

sys.path.insert(0, str(REPO / "scripts"))
import translate  # noqa: E402
from slkd import (  # noqa: E402
    backends,  # noqa: E402
    checks,
    layout,
    settings,
    sockeye_jobs,  # noqa: E402
    training_flags,
)
from slkd.cost import estimate as cost_estimate  # noqa: E402
from slkd.cost import plan as cost_plan  # noqa: E402
from slkd.cost import rates as cost_rates  # noqa: E402
from slkd.text import debpe_line  # noqa: E402

TWO = {"teacher": {"ensemble": 2}}


# ---- Names, seeds, options ----------------------------------------------------------------------------------
@pytest.mark.unit
def test_member_and_ensemble_names_parse_and_every_other_name_as_before() -> None:
    assert layout.parse_model("teacher/de-en") == {"kind": "teacher", "direction": "de-en"}
    assert layout.parse_model("teacher/de-en.m2") == {"kind": "member", "direction": "de-en", "member": "2"}
    assert layout.parse_model("teacher/en-de.m12") == {"kind": "member", "direction": "en-de", "member": "12"}
    assert layout.parse_model("teacher/de-en.ensemble") == {"kind": "ensemble", "direction": "de-en"}
    student = "student/bpe500-e256-l1-lstm-h256/base+kd/nodropout/ckpt25/trial3"
    assert layout.parse_model(student)["kind"] == "student" and layout.parse_model(student)["dataset"] == "base+kd"
    for name in ("teacher/de-en.m1", "teacher/de-en.m0", "teacher/de-en.x", "teacher/de-en/m2"):
        with pytest.raises(ValueError):
            layout.parse_model(name)  # member 1 is the teacher's own name, no other
        assert not re.fullmatch(layout.model_regex(), name)
    config = settings.merge_config(load_config(), {"teacher": {"ensemble": 3}})
    assert layout.member_models(config, "de-en") == ["teacher/de-en", "teacher/de-en.m2", "teacher/de-en.m3"]
    assert [layout.member_number(m) for m in layout.member_models(config, "de-en")] == [1, 2, 3]
    assert [layout.teacher_label(m) for m in layout.member_models(config, "en-de")] == ["en-de", "en-de.m2", "en-de.m3"]
    assert layout.distilling_model(config, "de-en") == "teacher/de-en.ensemble"
    assert layout.decoding_members(config, "teacher/de-en.ensemble") == layout.member_models(config, "de-en")
    assert layout.model_architecture(config, "teacher/de-en.m3") == config["teacher"]["architecture"]
    paper = load_config()
    assert layout.distilling_model(paper, "de-en") == "teacher/de-en" and layout.member_models(paper, "de-en") == [
        "teacher/de-en"]


@pytest.mark.unit
def test_member_i_trains_with_seed_plus_i_minus_1_and_member_1_is_the_teacher() -> None:
    config = settings.merge_config(load_config(), {"teacher": {"ensemble": 3, "seed": 7}})
    flags = [training_flags.teacher_flags(config, member) for member in (1, 2, 3)]
    assert [f["seed"] for f in flags] == [7, 8, 9]
    assert flags[0] == training_flags.teacher_flags(config)  # the single teacher's flags
    assert all({k: v for k, v in f.items() if k != "seed"} == {k: v for k, v in flags[0].items() if k != "seed"}
               for f in flags)
    rnn_sets = training_flags.trainer_flag_sets(config)["sockeye1"]
    assert len(rnn_sets) == len(training_flags.trainer_flag_sets(load_config())["sockeye1"]) + 2


@pytest.mark.unit
@pytest.mark.parametrize(
    ("teacher", "line"),
    [
        ({"ensemble": 0}, "teacher.ensemble: 0 is less than the minimum of 1"),
        ({"ensemble": "2"}, "teacher.ensemble: '2' is not of type 'integer'"),
        ({"ensemble_mode": "max"}, "teacher.ensemble_mode: 'max' is not one of ['linear', 'log_linear']"),
    ],
)
def test_a_bad_ensemble_setting_names_the_key(teacher: dict, line: str) -> None:
    schema = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())
    config = settings.merge_config(copy.deepcopy(load_config()), {"teacher": teacher})
    assert settings.schema_error(config, schema) == line


@pytest.mark.unit
def test_log_linear_is_refused_where_sockeye3_would_fail_at_the_first_sentence() -> None:
    """Sockeye 3.1.34's log_linear ensembles fail (beam_search.py: `log_probs.log_softmax()` without a dim), so a
    Transformer teacher's ensemble must be linear; Sockeye 1.18's and a single Transformer teacher are fine."""
    transformer = load_config(*TINY_TRANSFORMER)
    settings.merge_config(transformer, {"teacher": {"ensemble": 2, "ensemble_mode": "log_linear"}})
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(transformer)
    assert str(err.value).startswith("teacher.ensemble_mode: log_linear fails in Sockeye 3.1.34")
    for config, extra in ((load_config(*TINY_TRANSFORMER), {"teacher": {"ensemble": 1, "ensemble_mode": "log_linear"}}),
                          (load_config(TINY), {"teacher": {"ensemble": 2, "ensemble_mode": "log_linear"}})):
        checks.check_config(settings.merge_config(config, extra))


@pytest.mark.unit
@pytest.mark.parametrize("backend", ["sockeye1", "sockeye3"])
def test_translate_gives_sockeye_every_folder_and_the_mode_only_to_an_ensemble(backend: str) -> None:
    job = sockeye_jobs.Job(backends.get(backend), "py", "cpu", 1)

    def argv(*folders: str) -> list[str]:
        args = argparse.Namespace(model_dir=list(folders), input="in", output="out", beam_size=5, batch_size=64,
                                  nbest_size=1, output_type="translation", ensemble_mode="log_linear")
        return translate.build_argv(args, job)

    two = argv("m/a", "m/a.m2")
    assert two[two.index("--models") + 1:two.index("--input")] == ["m/a", "m/a.m2"]
    assert two[two.index("--ensemble-mode") + 1] == "log_linear"
    one = argv("m/a")
    assert one[one.index("--models") + 1:one.index("--input")] == ["m/a"] and "--ensemble-mode" not in one


@pytest.mark.workflow
def test_both_sockeyes_accept_an_ensemble() -> None:
    """--models takes several folders and --ensemble-mode linear|log_linear (default linear) in Sockeye 1.18 and
    in Sockeye 3, as their own parsers say."""
    for python in (REPO / ".venv-sockeye/bin/python", SOCKEYE3_PYTHON):
        if not Path(python).exists():
            pytest.skip(f"no Sockeye environment at {python}")
        code = ("import argparse, sockeye.arguments as a; p = argparse.ArgumentParser();"
                " a.add_translate_cli_args(p); args = p.parse_args(['-m', 'x', 'y', '--ensemble-mode', 'log_linear']);"
                " print(args.models, args.ensemble_mode, p.parse_args(['-m', 'x']).ensemble_mode)")
        out = subprocess.run([str(python), "-c", code], capture_output=True, text=True, check=True).stdout
        assert out.split("\n")[0] == "['x', 'y'] log_linear linear"


# ---- Dry runs --------------------------------------------------------------------------------------------
JOB_LINES = re.compile(r"^\s+(jobid|reason|resources):")


def planned_commands(proc: subprocess.CompletedProcess[str]) -> list[str]:
    """A dry run's (-p) jobs, each its rule, files, wildcards and command, without ids, reasons or dates, sorted."""
    jobs = []
    for block in re.split(r"\n\[[^\]\n]*\d{4}\]\n", ungrouped(proc.stdout + proc.stderr)):
        lines = []
        for line in block.split("\n\n")[0].splitlines():
            if not JOB_LINES.match(line):
                lines.append(line)
            if line.startswith("Shell command:"):  # the job's last line (what follows may be another stream's)
                break
        if lines and lines[0].startswith(("rule ", "localrule ")):
            jobs.append("\n".join(lines).strip())
    return sorted(jobs)


@pytest.mark.plan
def test_one_teacher_plans_exactly_the_jobs_and_commands_of_before(tmp_path: Path) -> None:
    """ensemble: 1 (config.yaml's) plans the same jobs, files and commands whatever ensemble_mode says: no
    member, no ensemble, no option; the floor's command is the single teacher's, as it always was."""
    targets = ("-n", "-p", "table1", "table2", "table3")
    default = run_workflow(tmp_path / "default", *targets, configfiles=(TINY,))
    explicit = run_workflow(tmp_path / "explicit", *targets, configfiles=(TINY,),
                            config={"teacher": {"ensemble": 1, "ensemble_mode": "log_linear"}})
    jobs = planned_commands(default)
    assert jobs == planned_commands(explicit) and len(jobs) == planned_jobs(default)["total"]
    text = "\n".join(jobs)
    assert not any(word in text for word in ("--ensemble-mode", "--member", ".m2", ".ensemble"))
    plan = planned_jobs(default)
    assert (plan["train_teacher"], plan["translate_dev"], plan["score_teacher"], plan["distill"]) == (2, 2, 2, 4)
    p = layout.paths("tiny")
    hyp = layout.fill(p.test_hyp, model="teacher/de-en")
    assert (f"python -m evaluate --hyp {hyp} --ref tiny/data/text/base/test.en --model-dir tiny/models/teacher/de-en"
            " --output tiny/results/teachers/de-en.json --tokenize none --min-bleu 0.5 --floor-hyp"
            f" {layout.fill(p.dev_hyp, model='teacher/de-en')} --floor-ref tiny/data/text/base/dev.en"
            " --model teacher/de-en"
            " 2> tiny/logs/score_teacher/de-en.log") in text
    assert "--model-dir tiny/models/teacher/de-en --input tiny/data/distill/de-en/shards/0.in" in text
    assert "output: tiny/models/teacher/de-en.done.json\n    log: tiny/logs/train_teacher/de-en.log" in text


@pytest.mark.plan
def test_an_ensemble_of_two_plans_two_trainings_per_direction_and_decodes_with_both(tmp_path: Path) -> None:
    targets = ("-n", "-p", "table1", "table2", "table3")
    one = planned_jobs(run_workflow(tmp_path / "one", *targets, configfiles=(TINY,)))
    proc = run_workflow(tmp_path / "two", *targets, configfiles=(TINY,), config=TWO)
    two = planned_jobs(proc)
    assert two["train_teacher"] == 2 * one["train_teacher"] == 4
    # each direction: member 2's dev and test, and the ensemble's; one floor and the same shards per direction
    assert (two["translate_dev"], two["translate_test"] - one["translate_test"]) == (6, 4)
    assert (two["score_teacher"], two["distill"]) == (one["score_teacher"], one["distill"])
    assert {rule: n for rule, n in two.items() if not rule.startswith(("train_teacher", "translate", "total"))} == {
        rule: n for rule, n in one.items() if not rule.startswith(("train_teacher", "translate", "total"))}
    jobs = planned_commands(proc)
    trainings = [j for j in jobs if j.startswith("rule train_teacher")]
    trained = sorted(re.search(r"wildcards: teacher=(\S+)", j).group(1) for j in trainings)
    assert trained == ["de-en", "de-en.m2", "en-de", "en-de.m2"]
    seeds = [re.search(r'"seed": (\d+)', j).group(1) for j in jobs if "wildcards: teacher=de-en" in j]
    assert sorted(seeds) == ["1", "2"]
    distill = [j for j in jobs if j.startswith("rule distill")]
    assert len(distill) == 4 and all(
        "--model-dir tiny/models/teacher/{0} tiny/models/teacher/{0}.m2 --input".format(
            re.search(r"direction=(\S+),", j).group(1)) in j and "--ensemble-mode linear" in j for j in distill)
    floor = next(j for j in jobs if j.startswith("rule score_teacher") and "direction=de-en" in j)
    assert "--floor-hyp tiny/data/translations/teacher/de-en.ensemble/dev.bpe" in floor
    assert "--member teacher/de-en.m2 tiny/models/teacher/de-en.m2" in floor
    assert "--model teacher/de-en.ensemble" in floor


@pytest.mark.plan
def test_cost_counts_every_member_and_the_ensembles_decodings(tmp_path: Path) -> None:
    """`snakemake cost` costs the dry run's jobs (each member a training and two decodings; the ensemble's
    decodings N x one model's time per sentence)."""
    extra = {"teacher": {"ensemble": 3}}
    targets = ("table1", "table2", "table3", "figures", "grid")
    planned = planned_jobs(run_workflow(tmp_path, "-n", *targets, configfiles=(TINY,), config=extra))
    config = settings.merge_config(load_config(TINY), extra)
    jobs = cost_plan.jobs(config, cost_plan.corpus_sizes(config, tmp_path))
    assert cost_plan.rule_counts(jobs) == {rule: planned[rule] for rule in cost_plan.RULES if rule in planned}
    assert sorted(j.name for j in jobs if j.rule == "train_teacher") == [
        "de-en", "de-en.m2", "de-en.m3", "en-de", "en-de.m2", "en-de.m3"]
    rates = cost_rates.Rates(config, None)
    single = next(j for j in jobs if j.rule == "translate_dev" and j.name == "teacher/de-en")
    ensemble = next(j for j in jobs if j.rule == "translate_dev" and j.name == "teacher/de-en.ensemble")
    assert (single.models, ensemble.models) == (1, 3) and {j.models for j in jobs if j.rule == "distill"} == {3}
    one, three = (cost_estimate.cost_job(config, j, "gpu", rates) for j in (single, ensemble))
    startup = rates.device(single.arch, "gpu").startup_seconds
    assert three.rate == pytest.approx(one.rate / 3)
    assert three.wall - startup == pytest.approx(3 * (one.wall - startup))


# ---- Through Sockeye 1.18 -----------------------------------------------------------------------------------
OUT = "tiny-ensemble"
ENSEMBLE = {"outdir": OUT, **TWO}
TARGETS = (f"{OUT}/results/teachers/de-en.json", f"{OUT}/data/distill/de-en/kd/report.json")


@pytest.fixture(scope="module")
def ensemble_run(tiny_run: Path) -> tuple[Path, dict[str, int]]:
    """config/test-tiny.yaml with `ensemble: 2`, in an outdir of its own beside the tiny run's, started from its
    corpus, BPE and de-en teacher (copied with their times: member 1 is not trained again): member 2 trains, both
    and the ensemble translate dev and test and are scored, the ensemble distils kd. Its outdir and the plan."""
    out = tiny_run.parent / OUT
    for folder in ("data/raw", "data/text", "data/bpe", "models/teacher/de-en", "data/translations/teacher/de-en"):
        shutil.copytree(tiny_run / folder, out / folder)
    shutil.copy2(tiny_run / "models/teacher/de-en.done.json", out / "models/teacher/de-en.done.json")
    plan = planned_jobs(run_workflow(tiny_run.parent, "-n", *TARGETS, configfiles=(TINY,), config=ENSEMBLE))
    run_workflow(tiny_run.parent, *TARGETS, configfiles=(TINY,), config=ENSEMBLE)
    return out, plan


def sacrebleu(hyp: Path, ref: Path) -> float:
    """sacrebleu's tokenized BLEU (--tokenize none) of de-BPE'd translations, as a teacher's score is defined."""
    from sacrebleu.metrics import BLEU

    hyps = [debpe_line(line).strip() for line in hyp.read_text(encoding="utf-8").splitlines()]
    return round(BLEU(tokenize="none", force=True).corpus_score(hyps, [ref.read_text().splitlines()]).score, 2)


@pytest.mark.workflow
def test_only_member_2_trains_and_the_members_have_their_seeds(ensemble_run: tuple[Path, dict[str, int]]) -> None:
    out, plan = ensemble_run
    assert plan["train_teacher"] == 1  # member 2: member 1 is the tiny run's teacher
    assert (plan["translate_dev"], plan["translate_test"], plan["score_teacher"], plan["distill"]) == (2, 2, 1, 2)
    for member, seed in (("de-en", 1), ("de-en.m2", 2)):
        folder = out / "models/teacher" / member
        assert yaml.safe_load((folder / "args.yaml").read_text())["seed"] == seed
        command = (folder / "command.sh").read_text()
        assert f"--seed {seed} " in command and f"/models/teacher/{member} --" in command  # its --output


@pytest.mark.workflow
def test_the_ensemble_decodes_with_both_members(ensemble_run: tuple[Path, dict[str, int]]) -> None:
    """The distillation shards and the ensemble's dev and test translations come from decodes that read both
    model folders: the job's Sockeye command lists them, and Sockeye says that it loaded 2 models."""
    out, _plan = ensemble_run
    both = f"--models {OUT}/models/teacher/de-en {OUT}/models/teacher/de-en.m2 --input"
    logs = [out / "logs/distill/de-en.0.log", out / "logs/distill/de-en.1.log",
            *(out / f"logs/{rule}/teacher/de-en.ensemble.log" for rule in ("translate_dev", "translate_test"))]
    for log in logs:
        text = log.read_text()
        assert both in text.splitlines()[0] and "--ensemble-mode linear" in text.splitlines()[0], log
        assert f"Command: sockeye.translate {both}" in text and "] 2 model(s) loaded in " in text, log
    member = (out / "logs/translate_dev/teacher/de-en.m2.log").read_text()
    assert f"--models {OUT}/models/teacher/de-en.m2 --input" in member and "] 1 model(s) loaded in " in member
    assert "--ensemble-mode" not in member
    shards = [out / f"data/distill/de-en/shards/{i}.json" for i in (0, 1)]
    report = json.loads((out / "data/distill/de-en/kd/report.json").read_text())["parts"]["kd"]
    assert report["pairs"] + report["empty"] + report["missing"] == sum(len(s.read_text().splitlines()) for s in shards)


@pytest.mark.workflow
def test_each_member_and_the_ensemble_are_scored(tiny_run: Path, ensemble_run: tuple[Path, dict[str, int]]) -> None:
    """results/teachers/de-en.json: the ensemble's test and dev BLEU, each member's under `members`, every number
    sacrebleu's on its translations; member 1's equal the single teacher's in the tiny run."""
    out, _plan = ensemble_run
    score = json.loads((out / "results/teachers/de-en.json").read_text())
    translations, text = out / "data/translations/teacher", out / "data/text/base"
    assert (score["model"], score["ensemble_mode"], score["student"]) == ("teacher/de-en.ensemble", "linear", None)
    assert score["bleu"] == sacrebleu(translations / "de-en.ensemble/test.bpe", text / "test.en")
    assert score["floor"] == {"bleu": sacrebleu(translations / "de-en.ensemble/dev.bpe", text / "dev.en"),
                              "min_bleu": 0.5, "ref": f"{OUT}/data/text/base/dev.en", "sentences": 100}
    assert [m["model"] for m in score["members"]] == ["teacher/de-en", "teacher/de-en.m2"]
    for member in score["members"]:
        folder = translations / layout.teacher_label(member["model"])
        assert member["bleu"] == sacrebleu(folder / "test.bpe", text / "test.en")
        assert member["dev"] == {"bleu": sacrebleu(folder / "dev.bpe", text / "dev.en"),
                                 "ref": f"{OUT}/data/text/base/dev.en", "sentences": 100}
        assert member["curve"] and member["best_checkpoint"] and member["parameters"]
    single = json.loads((tiny_run / "results/teachers/de-en.json").read_text())
    first = score["members"][0]
    assert (first["bleu"], first["dev"]["bleu"]) == (single["bleu"], single["floor"]["bleu"])
    assert score["parameters"] == sum(m["parameters"] for m in score["members"]) and score["curve"] == []


@pytest.mark.workflow
def test_the_floor_is_the_ensembles(ensemble_run: tuple[Path, dict[str, int]]) -> None:
    """A floor between the ensemble's dev BLEU and a member's decides by the ensemble's: it stops the run naming
    the ensemble when the ensemble is below it, however well a member scores, and lets an ensemble above it
    pass, however badly a member scores; a floor just above the ensemble's stops it."""
    out, _plan = ensemble_run
    score = json.loads((out / "results/teachers/de-en.json").read_text())
    ensemble, members = score["floor"]["bleu"], [m["dev"]["bleu"] for m in score["members"]]

    def run(floor: float) -> subprocess.CompletedProcess[str]:
        return run_workflow(out.parent, TARGETS[0], configfiles=(TINY,), check=False,
                            config={**ENSEMBLE, "teacher": {**TWO["teacher"], "min_bleu": floor}})

    def stopped(proc: subprocess.CompletedProcess[str], floor: float) -> None:
        text = proc.stdout + proc.stderr
        assert proc.returncode != 0
        assert (f"ERROR: teacher/de-en.ensemble (an ensemble of 2; its members' dev BLEU: teacher/de-en"
                f" {members[0]}, teacher/de-en.m2 {members[1]}) scores {ensemble} BLEU on {OUT}/data/text/base/dev.en"
                f" (100 sentences), below the floor of {floor} (teacher.min_bleu)") in text

    if max(members) > ensemble:  # a member clears a floor that the ensemble does not: the run stops
        floor = round((ensemble + max(members)) / 2, 3)
        stopped(run(floor), floor)
    if min(members) < ensemble:  # the ensemble clears a floor that a member does not: it passes
        floor = round((ensemble + min(members)) / 2, 3)
        assert run(floor).returncode == 0
        assert json.loads((out / "results/teachers/de-en.json").read_text())["floor"]["min_bleu"] == floor
    stopped(run(ensemble + 0.01), ensemble + 0.01)


# ---- Through Sockeye 3 -----------------------------------------------------------------------------------
@pytest.mark.workflow
def test_sockeye3_decodes_an_ensemble(tiny_transformer_run: Path, tmp_path: Path) -> None:
    """translate.py with two folders on the Transformer backend: Sockeye 3 loads both and combines them
    (linear: its log_linear fails, see above; the teacher's folder twice, an ensemble of one model: the same
    translations as alone)."""
    teacher = tiny_transformer_run / "models/teacher/de-en"
    source = tmp_path / "in.de"
    config = load_config(*TINY_TRANSFORMER)
    size = config["architectures"][config["teacher"]["architecture"]]["num-words"]
    lines = (tiny_transformer_run / f"data/bpe/{size}/base/test.de").read_text().splitlines(True)
    source.write_text("".join(lines[:5]))
    env = {"PYTHONPATH": str(REPO / "scripts"), "PATH": "/usr/bin:/bin"}
    outputs = {}
    for name, folders in (("alone", [teacher]), ("twice", [teacher, teacher])):
        out = tmp_path / f"{name}.bpe"
        proc = subprocess.run(
            [sys.executable, "-m", "translate", "--backend", "sockeye3", "--sockeye-python", str(SOCKEYE3_PYTHON),
             "--model-dir", *map(str, folders), "--input", str(source), "--output", str(out), "--device", "cpu",
             "--ensemble-mode", "linear"], capture_output=True, text=True, env=env, timeout=300)
        assert proc.returncode == 0, proc.stderr[-3000:]
        assert f"{len(folders)} model(s) loaded in " in proc.stderr
        assert ("--ensemble-mode linear" in proc.stderr.splitlines()[0]) == (len(folders) > 1)
        outputs[name] = out.read_text().splitlines()
    assert outputs["twice"] == outputs["alone"] and len(outputs["alone"]) == 5
