"""The configuration: schema validation with clear messages, cross-key checks, and the jobs it implies."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from conftest import REPO, load_config, planned_jobs, run_workflow
from slkd import backends, checks, design, gres, layout, settings, training_flags

SCHEMA = yaml.safe_load((REPO / "schemas/config.schema.yaml").read_text())


@pytest.mark.unit
def test_paper_config_implies_the_papers_matrix() -> None:
    config = load_config()
    runs = design.students(config)
    # Table 3: SMALL 5 datasets x 2 dropout x 3 trials + LARGE 5 x 3 = 45, at 100 checkpoints;
    # Table 1: SMALL 3 datasets x 3 trials at 30 checkpoints.
    assert len(runs) == 54
    assert len(set(runs)) == 54
    assert sum(r.checkpoints == 30 for r in runs) == 9
    assert sum(r.architecture == "LARGE" for r in runs) == 15
    assert sum(not r.dropout for r in runs) == 15
    assert design.bpe_sizes(config, grid=False) == [500, 10000]


@pytest.mark.unit
def test_trials_and_datasets_change_counts_and_nothing_else() -> None:
    config = load_config()
    config["trials"] = 5
    assert len(design.students(config)) == 54 // 3 * 5
    config = load_config()
    config["tables"]["table3"]["datasets"].remove("base+kd+bt")
    assert len(design.students(config)) == 54 - 3 * 3
    assert "bt" not in design.parts_used(config)


@pytest.mark.unit
def test_grid_follows_appendix_a1() -> None:
    config = load_config()
    archs = design.grid_architectures(config)
    # 9 BPE sizes x 4 embed x 2 layers x 2 cells x 4 hidden = 576, less embed 512 or hidden 512 for BPE < 10000:
    # 6 small BPE sizes x 2 x 2 x (4*4 - 3*3) = 168 dropped
    assert len(archs) == 576 - 168
    assert len({design.grid_name(a) for a in archs}) == len(archs)
    assert not [a for a in archs if a["num-words"] < 10000 and 512 in (a["num-embed"], a["rnn-num-hidden"])]


@pytest.mark.unit
def test_sockeye_args_renders_flags() -> None:
    argv = training_flags.sockeye_args({"batch-size": 4096, "disable-device-locking": True, "use-cpu": False,
                                        "x": ".1:.1"})
    assert argv == ["--batch-size", "4096", "--disable-device-locking", "--x", ".1:.1"]


@pytest.mark.unit
def test_paths_have_no_dot_prefix_and_honour_outdir() -> None:
    assert layout.paths(".").text == "data/text/{corpus}/{split}.{lang}"
    assert layout.paths("runs/x/").stats == "runs/x/results/stats/{corpus}.tsv"
    bpe = layout.paths(".").bpe_text
    assert layout.fill(bpe, size=500, corpus="base+kd", lang="en") == "data/bpe/500/base+kd/{split}.en"
    assert layout.fill(bpe) == bpe and layout.fill(bpe, other=1) == bpe


@pytest.mark.unit
def test_grid_names_round_trip_and_named_architectures_keep_their_names() -> None:
    config = load_config()
    for arch in design.grid_architectures(config):
        name = design.architecture_name(config, arch)
        assert design.architecture(config, name) == arch
        assert name in ("LARGE", "SMALL") or name == design.grid_name(arch)
    assert design.architecture_name(config, config["architectures"]["SMALL"]) == "SMALL"
    with pytest.raises(settings.ConfigError, match="unknown architecture 'MEDIUM'"):
        design.architecture(config, "MEDIUM")
    flags = training_flags.student_flags(config, design.Student("bpe250-e64-l2-gru-h128", "baseline", True, 25, 1))
    assert (flags["num-words"], flags["num-layers"], flags["rnn-cell-type"], flags["max-updates"]) == (
        250, 2, "gru", 25 * 4000)


@pytest.mark.plan
@pytest.mark.parametrize(
    ("override", "expected"),
    [
        ({"no_such_key": 1}, "no_such_key"),
        ({"corpus": {"spurce": "ted"}}, "spurce"),
        ({"trials": "three"}, "trials"),
        ({"corpus": {"max_len": -4}}, "max_len"),
        ({"tables": {"table3": {"datasets": ["baseline", "kd2"]}}}, "tables.table3.datasets[1]: unknown dataset 'kd2'"),
        ({"grid": {"compare": {"dataset": "kd2"}}}, "grid.compare.dataset: unknown dataset 'kd2'"),
        ({"claims": {"kd": "kd2"}}, "claims.kd: unknown dataset 'kd2'"),
        ({"claims": {"augmented": ["base+kd", "bt2"]}}, "claims.augmented[1]: unknown dataset 'bt2'"),
        ({"claims": {"table": "table4"}}, "claims.table: unknown table 'table4'"),
        ({"claims": {"architecture": "TINY"}}, "claims.architecture: unknown architecture 'TINY'"),
        ({"evaluation": {"significance": {"baseline": "base"}}}, "evaluation.significance.baseline: unknown dataset"),
        ({"architectures": {"bpe9-e9-l1-lstm-h9": {"num-words": 10, "num-embed": 9, "num-layers": 1,
                                                   "rnn-cell-type": "lstm", "rnn-num-hidden": 9}}},
         "architectures.bpe9-e9-l1-lstm-h9: a grid-style name must have the flags it spells"),
        (
            {"tables": {"table1": {"columns": [{"architecture": "MEDIUM", "dropout": True}]}}},
            "tables.table1.columns[0].architecture: unknown architecture 'MEDIUM'",
        ),
        ({"teacher": {"architecture": "HUGE"}}, "teacher.architecture"),
        ({"architectures": {"T": {"backend": "sockeye3", "num-embed": "8:8"}}}, "'num-words' is a required property"),
        ({"architectures": {"LARGE": {"transformer-model-size": 8}}},
         "architectures.LARGE.transformer-model-size: unknown key (known keys: backend, num-embed, num-layers,"
         " num-words, rnn-cell-type, rnn-num-hidden)"),
        ({"architectures": {"T": {"backend": "sockeye2", "num-words": 8}}},
         "'sockeye2' is not one of ['sockeye1', 'sockeye3']"),
        ({"datasets": {"base": ["base"]}}, "datasets.base"),
        ({"corpus": {"source": "local", "local": {
            "train": {"src": "c/train.de", "trg": "c/train.de"}, "dev": {"src": "c/dev.de", "trg": "c/dev.en"},
            "test": {"src": "c/test.de", "trg": "c/test.en"}}}},
         "Invalid configuration: corpus.local.train.src and corpus.local.train.trg name the same file (c/train.de):"
         " a split needs two sides"),
    ],
)
def test_bad_config_fails_at_once_naming_the_key(tmp_path: Path, override: dict, expected: str) -> None:
    proc = run_workflow(tmp_path, "-n", config=override, check=False)
    assert proc.returncode != 0
    assert expected in proc.stdout + proc.stderr


@pytest.mark.unit
@pytest.mark.parametrize(
    ("override", "line"),
    [
        ({"corpus": {"max_len": "abc"}}, "corpus.max_len: 'abc' is not of type 'integer'"),
        ({"trials": "three"}, "trials: 'three' is not of type 'integer'"),
        ({"corpus": {"max_line_chars": 0}}, "corpus.max_line_chars: 0 is less than the minimum of 1"),
        ({"corpus": {"source": "tedx"}}, "corpus.source: 'tedx' is not one of ['ted', 'synthetic', 'local']"),
        ({"corpus": {"spurce": "ted"}}, "corpus.spurce: unknown key (did you mean 'source'?)"),
        ({"corpus": {"zzz": 1, "yyy": 2}}, "corpus.zzz, corpus.yyy: unknown keys (known keys: drop_eval_overlap, local,"
         " lowercase, max_len, max_line_chars, max_line_len, source, src, synthetic, ted, tokenize, trg)"),
        ({"corpus": {"drop_eval_overlap": "yes"}}, "corpus.drop_eval_overlap: 'yes' is not of type 'boolean'"),
        ({"no_such_key": 1}, "no_such_key: unknown key (known keys: architectures, claims, compute, corpus, cost,"
         " datasets, decoding, evaluation, grid, no_dropout, not_learning, outdir, parts, sockeye3_no_dropout,"
         " sockeye3_python, sockeye3_train, sockeye_python, sockeye_train, tables, teacher, trials)"),
        # the wrong backend, not the Sockeye 1.18 flags that the schema's `else` branch then requires
        ({"architectures": {"T": {"backend": "sockeye2", "num-words": 8}}},
         "architectures.T.backend: 'sockeye2' is not one of ['sockeye1', 'sockeye3']"),
        ({"tables": {"table3": {"datasets": ["baseline", 3]}}}, "tables.table3.datasets[1]: 3 is not of type 'string'"),
        ({"compute": {"runtime": {"train": 5}}}, "compute.runtime.train: unknown key (known"
         " keys: distill, score_part, train_student, train_teacher, translate_dev, translate_test)"),
    ],
)
def test_schema_error_names_the_key_and_the_reason(override: dict, line: str) -> None:
    config = load_config()
    assert settings.schema_error(config, SCHEMA) is None
    assert settings.schema_error(settings.merge_config(copy.deepcopy(config), override), SCHEMA) == line
    with pytest.raises(settings.ConfigError) as err:
        settings.check_schema(settings.merge_config(config, override), REPO / "schemas/config.schema.yaml")
    assert str(err.value) == f"{line}; for the full schema report set SLKD_CONFIG_DETAILS=1"


@pytest.mark.plan
def test_schema_error_is_one_line_and_the_full_report_on_request(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SLKD_CONFIG_DETAILS", raising=False)
    proc = run_workflow(tmp_path, "-n", config={"corpus": {"max_len": "abc"}}, check=False)
    lines = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode != 0
    assert "Invalid configuration: corpus.max_len: 'abc' is not of type 'integer'; for the full schema report set"\
        " SLKD_CONFIG_DETAILS=1" in lines
    assert len(lines) < 30 and "Failed validating" not in proc.stdout + proc.stderr
    monkeypatch.setenv("SLKD_CONFIG_DETAILS", "1")
    proc = run_workflow(tmp_path, "-n", config={"corpus": {"max_len": "abc"}}, check=False)
    assert proc.returncode != 0
    assert "Failed validating 'type' in schema['properties']['corpus']['properties']['max_len']:" in proc.stdout


@pytest.mark.plan
def test_paper_config_dry_run_plans_download_and_bpe(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "-n", "bpe", "stats")
    jobs = planned_jobs(proc)
    sizes = design.bpe_sizes(load_config())
    assert jobs["download_ted"] == 1
    assert jobs["extract_ted"] == 1
    assert jobs["prepare_corpus"] == 3
    assert jobs["learn_bpe"] == 2 * len(sizes)
    assert jobs["apply_bpe"] == 2 * 3 * len(sizes)
    assert jobs["corpus_stats"] == 1  # the base corpus only: no teacher is needed for these targets
    assert "train_teacher" not in jobs


@pytest.mark.plan
def test_demo_config_is_the_synthetic_corpus(tmp_path: Path) -> None:
    proc = run_workflow(tmp_path, "-n", "demo", configfiles=(REPO / "config/demo.yaml",))
    jobs = planned_jobs(proc)
    assert jobs["synthesize"] == 1
    assert "download_ted" not in jobs


@pytest.mark.unit
def test_sockeye_device_follows_the_gpu_resource_unless_forced() -> None:
    assert backends.sockeye_device("auto", 1) == "gpu"
    assert backends.sockeye_device("auto", 0) == backends.sockeye_device("auto", None) == "cpu"
    assert backends.sockeye_device("cpu", 1) == "cpu" and backends.sockeye_device("gpu", 0) == "gpu"
    with pytest.raises(settings.ConfigError, match="resource gpu: 'a100' is not a number"):
        backends.sockeye_device("auto", "a100")
    # a SLURM job that holds shards of a GPU (GPU sharing: its gpu resource is 0) runs on that GPU
    assert backends.sockeye_device("auto", 0, "1") == "gpu" and backends.sockeye_device("auto", 0, None) == "cpu"
    assert backends.sockeye_device("cpu", 0, "2") == "cpu"
    with pytest.raises(settings.ConfigError, match=r"\$SLURM_SHARDS_ON_NODE: 'x' is not a number"):
        backends.sockeye_device("auto", 0, "x")


@pytest.mark.unit
def test_gres_counts_shards_as_slurm_writes_them() -> None:
    assert [gres.shards(value) for value in ("shard:1", "shard:2", "shard", "gpu:1", "", None, "gpu:1,shard:3",
                                             "shard:mps:2")] == [1, 2, 1, 0, 0, 0, 3, 2]
    assert gres.count("gpu:a100:2", "gpu") == 2 and gres.count("shard:1", "gpu") == 0


def _demo_with(**changes: object) -> dict:
    """config/demo.yaml (over config.yaml) with sockeye_train / teacher.train / table changes applied."""
    config = copy.deepcopy(load_config(REPO / "config/demo.yaml"))
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = config
        for key in parents:
            node = node[key]
        if value is None:
            node.pop(leaf)
        else:
            node[leaf] = value
    return config


@pytest.mark.unit
def test_the_demos_fixed_step_schedule_matches_every_students_budget() -> None:
    config = _demo_with()
    assert config["sockeye_train"]["learning-rate-schedule"] == "0.01:400,0.003:100,0.001:200"
    checks.check_config(config)
    budgets = {s.checkpoints * 100 for s in design.students(config)
               if design.backend_of(config, s.architecture) == "sockeye1"}
    assert budgets == {700}


@pytest.mark.unit
@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"tables__table3__checkpoints": 8},
         "sockeye_train.learning-rate-schedule: the schedule trains 700 updates, but tables.table3.checkpoints gives"
         " 800 (8 checkpoints of 100); Sockeye would train the schedule's total: make them equal"),
        ({"sockeye_train__learning-rate-scheduler-type": "plateau-reduce"},
         "sockeye_train.learning-rate-schedule: Sockeye uses a schedule only with learning-rate-scheduler-type"
         " fixed-step (sockeye_train.learning-rate-scheduler-type: plateau-reduce)"),
        ({"teacher__train__learning-rate-schedule": None, "teacher__train__learning-rate-scheduler-type": None},
         "sockeye_train.learning-rate-schedule: a fixed schedule trains the teacher 700 updates and Sockeye then"
         " ignores teacher.max_epochs"),
        ({"sockeye_train__learning-rate-schedule": "0.01:450,0.003:50,0.001:200"},
         "sockeye_train.learning-rate-schedule: the step 0.01:450 is not a whole number of checkpoints of 100"),
        ({"sockeye_train__learning-rate-schedule": "0.01-700"},
         "sockeye_train.learning-rate-schedule: '0.01-700' is not RATE:UPDATES"),
    ],
)
def test_a_schedule_that_disagrees_with_the_budget_is_refused(changes: dict, message: str) -> None:
    config = _demo_with(**changes)
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(config)
    assert message in str(err.value)


def _local(tmp_path: Path, **splits: tuple[str, str]) -> dict:
    """config.yaml with corpus.source local: each split's paths as given, else two files of their own."""
    config = load_config()
    config["corpus"]["source"] = "local"
    config["corpus"]["local"] = {}
    for split in design.SPLITS:
        src, trg = splits.get(split, (f"{split}.de", f"{split}.en"))
        config["corpus"]["local"][split] = {"src": str(tmp_path / src), "trg": str(tmp_path / trg)}
    return config


@pytest.mark.unit
def test_a_split_whose_two_sides_name_one_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("train.de", "train.en", "dev.de", "dev.en", "test.de", "test.en"):
        (tmp_path / name).write_text("x .\n")
    checks.check_config(_local(tmp_path))
    (tmp_path / "link.en").symlink_to(tmp_path / "dev.de")
    (tmp_path / "hard.en").hardlink_to(tmp_path / "test.de")
    (tmp_path / "sub").mkdir()
    cases = {
        "train": ("train.de", "train.de"),  # the same path
        "dev": ("dev.de", "link.en"),  # a symbolic link to the source side
        "test": ("test.de", "sub/../hard.en"),  # a hard link, reached through another folder
    }
    files = {
        "train": f"{tmp_path / 'train.de'}",
        "dev": f"{tmp_path / 'dev.de'} and {tmp_path / 'link.en'}",
        "test": f"{tmp_path / 'test.de'} and {tmp_path / 'sub/../hard.en'}",
    }
    for split, paths in cases.items():
        with pytest.raises(settings.ConfigError) as err:
            checks.check_config(_local(tmp_path, **{split: paths}))
        assert str(err.value) == (f"corpus.local.{split}.src and corpus.local.{split}.trg name the same file"
                                  f" ({files[split]}): a split needs two sides")
    # the same path spelt two ways, and relative paths taken from the working directory (where Snakemake runs)
    monkeypatch.chdir(tmp_path)
    config = load_config()
    config["corpus"]["source"] = "local"
    config["corpus"]["local"] = {s: {"src": f"{s}.de", "trg": f"{s}.en"} for s in design.SPLITS}
    config["corpus"]["local"]["dev"]["trg"] = "./sub/../dev.de"
    with pytest.raises(settings.ConfigError) as err:
        checks.check_config(config)
    assert str(err.value) == ("corpus.local.dev.src and corpus.local.dev.trg name the same file (dev.de and"
                              " ./sub/../dev.de): a split needs two sides")
    config["corpus"]["local"]["dev"]["trg"] = "link.en"
    with pytest.raises(settings.ConfigError,
                       match=r"^corpus\.local\.dev\.src and corpus\.local\.dev\.trg name the same"):
        checks.check_config(config)
    # a side that is missing is not the same file: the corpus check names it later
    config["corpus"]["local"]["dev"]["trg"] = "gone.en"
    checks.check_config(config)


@pytest.mark.unit
def test_drop_eval_overlap_gives_train_the_prepared_evaluation_texts() -> None:
    config = load_config()
    assert config["corpus"]["drop_eval_overlap"] is False
    assert [layout.drop_eval_options(config, split) for split in design.SPLITS] == [[], [], []]
    config["corpus"]["drop_eval_overlap"] = True
    config["outdir"] = "my runs/x"
    assert layout.drop_eval_texts(config, "train") == {
        "dev": ("my runs/x/data/text/base/dev.de", "my runs/x/data/text/base/dev.en"),
        "test": ("my runs/x/data/text/base/test.de", "my runs/x/data/text/base/test.en"),
    }
    assert layout.drop_eval_options(config, "train") == [
        "--drop-eval", "dev", "my runs/x/data/text/base/dev.de", "my runs/x/data/text/base/dev.en",
        "--drop-eval", "test", "my runs/x/data/text/base/test.de", "my runs/x/data/text/base/test.en"]
    assert layout.drop_eval_options(config, "dev") == layout.drop_eval_options(config, "test") == []
