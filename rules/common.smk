# Shared by every stage: configuration checks, paths (built in one place), interpreters, input functions.

import functools
import json
import os
import shlex
import shutil
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError
from snakemake.settings.types import DeploymentMethod
from snakemake.utils import validate

sys.path.insert(0, os.path.join(workflow.basedir, "scripts"))
import claims  # noqa: E402  (claims.FORMAT)
import evaluate  # noqa: E402  (evaluate.FORMAT, significance.FORMAT: a new output format reruns the scoring)
import significance  # noqa: E402
from slkd import backends, checks, corpus_check, design, gpu_monitor, layout, settings, training_flags  # noqa: E402


# ---- Configuration: types and unknown keys (schema), then names that refer to each other ---------------
# Snakemake validates the configuration against the schema; when it fails, its report (the whole schema and
# configuration) is shown only when $SLKD_CONFIG_DETAILS asks for it: otherwise settings.check_schema names the first
# wrong key and its reason in one line. A valid configuration is validated once.
try:
    try:
        validate(config, schema="../schemas/config.schema.yaml")
    except WorkflowError:
        if not os.environ.get(settings.CONFIG_DETAILS_VAR):
            settings.check_schema(config, os.path.join(workflow.basedir, "schemas", "config.schema.yaml"))
        raise
    checks.check_config(config)
except settings.ConfigError as err:
    raise WorkflowError(f"Invalid configuration: {err}")

CORPUS = config["corpus"]
SRC, TRG = CORPUS["src"], CORPUS["trg"]
LANGS = [SRC, TRG]
SPLITS = list(design.SPLITS)
P = layout.paths(config["outdir"])


# ---- Interpreters and scripts ----------------------------------------------------------------------------
# Workflow scripts run as `python -m <module>` with scripts/ on PYTHONPATH: the interpreter that runs Snakemake
# comes first on PATH, so its environment is used. Each trainer backend runs in its own environment, reached
# through its interpreter key (`sockeye_python`, `sockeye3_python`; a relative path is taken from the workflow's
# folder, where `make setup` puts it), passed to the jobs as $SLKD_SOCKEYE_PYTHON and $SLKD_SOCKEYE3_PYTHON.
# With --sdm conda instead, every rule's environment is activated in front: envs/workflow.yaml for the
# workflow's scripts, and for the rules that run a trainer the environment of the model's backend
# (backends.env_files()), whose own `python` runs both the job's script and Sockeye (the interpreter keys are not
# read). Neither the clone's location nor the interpreter is part of a command or a parameter, so moving the
# clone or switching profiles (local CPU, SLURM GPU) reruns nothing that is finished; nor is the device, which
# the jobs decide from compute.device and their `gpu` resource (scripts/train_model.py).
SCRIPTS = Path(workflow.basedir) / "scripts"
CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method
WORKFLOW_ENV = f"../{settings.WORKFLOW_ENV}"


def trainer_env(backend):
    """The conda environment file of a trainer backend (a rule's `conda:`, relative to rules/)."""
    return f"../{backends.env_files()[backend]}"


# Every path may hold spaces and non-ASCII letters (the clone's folder, outdir, a local corpus): each placeholder
# of a command is quoted by Snakemake (settings.unquoted_fields), and options that a parameter assembles are lists of
# arguments, never a joined string.
def script(name, args):
    """The shell command that runs one of the workflow's scripts with `args` (a Snakemake shell template, every
    placeholder quoted but {threads} and {resources.*}: settings.unquoted_fields)."""
    unquoted = settings.unquoted_fields(args)
    if unquoted:
        raise WorkflowError(f"the command of {name} has placeholders without :q: {', '.join(unquoted)}")
    return f"python -m {Path(name).stem} {args}"


def _sockeye_python(value):
    if "/" not in value:
        return shutil.which(value) or value
    path = Path(value)
    return str(path if path.is_absolute() else Path(workflow.basedir) / path)


# One interpreter per trainer backend (backends.keys()): sockeye_python (Sockeye 1.18, MXNet) and
# sockeye3_python (Sockeye 3, PyTorch), passed as $SLKD_SOCKEYE_PYTHON and $SLKD_SOCKEYE3_PYTHON.
# Under conda, "python": the job's PATH, where its backend's environment comes first.
TRAINER_PY = {
    backend: "python" if CONDA else _sockeye_python(config[keys["python"]])
    for backend, keys in backends.keys().items()
}
if CONDA:
    # Snakemake drops PYTHONPATH from a conda job's environment (foreign packages would shadow the
    # environment's); the workflow's scripts reach each other through it, and under conda it holds nothing else
    # (a cluster job gets the same setting: Snakemake passes its deployment settings on).
    workflow.deployment_settings.conda_not_block_search_path_envvars = True
os.environ.update(
    PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    PYTHONPATH=os.pathsep.join([str(SCRIPTS), *filter(None, [None if CONDA else os.environ.get("PYTHONPATH")])]),
    SLKD_SOCKEYE_PYTHON=TRAINER_PY["sockeye1"],
    SLKD_SOCKEYE3_PYTHON=TRAINER_PY["sockeye3"],
    # the not_learning guard of every training (scripts/train_model.py): a stopping rule, not part of the
    # command, so that changing it reruns nothing that finished
    SLKD_NOT_LEARNING=f"{config['not_learning']['checkpoints']}:{config['not_learning']['share']}",
    # seconds between the GPU samples of every trainer job on a GPU (scripts/gpu_monitor.py; 0: none): the same
    SLKD_GPU_MONITOR=str(config["compute"].get("gpu_monitor_interval", gpu_monitor.DEFAULT_INTERVAL)),
)
# Checks that change no output reach their jobs as environment variables, not as parameters, so that setting
# them reruns nothing: the archive's checksum (scripts/ted.py) and the character limit of a corpus line
# (scripts/prepare_corpus.py)
TED_SHA256 = CORPUS.get("ted", {}).get("sha256", "")
os.environ.update(SLKD_TED_SHA256=TED_SHA256, SLKD_MAX_LINE_CHARS=str(CORPUS["max_line_chars"]))
# compute.device (auto|cpu|gpu); with `auto` a job runs Sockeye on the GPU exactly when it holds the `gpu`
# resource (0 in the rules, 1 from profiles/slurm): see backends.sockeye_device
DEVICE = config["compute"].get("device", "auto")


# compute.cpu_kernels (portable|native): part of every trainer job's command, so that switching it retrains and
# redecodes what ran on the CPU under the other setting (their numbers differ); GPU jobs ignore it
CPU_KERNELS = config["compute"].get("cpu_kernels", backends.CPU_KERNELS[0])


def sockeye_script(name, args):
    """script() for the scripts that run a trainer: the model's backend (its interpreter comes from the
    backend's environment variable), the device setting, the job's GPUs and the CPU kernels first."""
    return script(name, f"--backend {{params.backend:q}} --device {{params.device:q}} --gpus {{resources.gpu}}"
                        f" --cpu-kernels {shlex.quote(CPU_KERNELS)} {args}")


BACKENDS_USED = design.backends_used(config)
TEACHER_BACKEND = design.backend_of(config, config["teacher"]["architecture"])


def model_backend(wildcards):
    """The trainer backend of a `{model}` (teacher or student)."""
    return layout.model_backend(config, wildcards.model)


def mxnet_gpus_requested():
    """Whether this run gives Sockeye 1.18 jobs a GPU: compute.device gpu, or auto with a `gpu` resource on a
    trainer rule (profiles/slurm, --set-resources)."""
    if DEVICE == "cpu" or "sockeye1" not in BACKENDS_USED:
        return False
    if DEVICE == "gpu":
        return True
    return any(_rule_gpus(name) > 0 for name in backends.TRAINER_RULES)


def _rule_gpus(name):
    """The `gpu` resource of a rule as planned (the profile's set-resources applied); 1 when it is computed."""
    resources = getattr(rules, name).rule.resources
    if "gpu" not in resources:
        return 0
    raw = resources["gpu"].raw
    try:
        return int(raw or 0)
    except (TypeError, ValueError):
        return 1


# One training (teacher or student): scripts/train_model.py runs, resumes or skips Sockeye in params.model_dir.
TRAIN_MODEL = sockeye_script(
    "train_model.py",
    "--model-dir {params.model_dir:q} --done {output:q}"
    " --source {input.source:q} --target {input.target:q} --validation-source {input.validation_source:q}"
    " --validation-target {input.validation_target:q} --flags {params.flags:q} --threads {threads} 2> {log:q}",
)


def conda_trainer_pythons():
    """Under --sdm conda, once Snakemake has created the environments: {backend: its environment's python}, for
    the backends that a planned trainer job runs."""
    pythons = {}
    for job in workflow.dag.needrun_jobs():
        if job.rule.name in backends.TRAINER_RULES and job.conda_env is not None:  # each has params.backend
            pythons.setdefault(job.params.backend, os.path.join(job.conda_env.address, "bin", "python"))
    return {backend: pythons[backend] for backend in backends.keys() if backend in pythons}


def download_planned():
    """Whether this run downloads the TED archive (then the download checks what it fetches)."""
    return any(job.rule.name == "download_ted" for job in workflow.dag.needrun_jobs())


onstart:
    # before any job runs (not for dry runs): a TED archive downloaded earlier that does not match a
    # corpus.ted.sha256 set since (it is kept aside; scripts/ted.py)
    if CORPUS["source"] == "ted" and TED_SHA256 and os.path.exists(P.ted_archive) and not download_planned():
        import ted

        try:
            ted.verify_archive(P.ted_archive, TED_SHA256)
        except ted.FetchError as err:
            raise WorkflowError(str(err))
    # an interpreter of a backend in use that is missing, or does not import its Sockeye, or a flag that this
    # Sockeye's parser refuses, would fail a training later (after the corpus, the BPE, perhaps the teachers);
    # so would Sockeye 1.18 on a GPU that MXNet 1.9.1 has no kernels for. A clean answer is remembered in
    # .snakemake/ until the flags or the Sockeye environment change.
    from slkd import trainer_check
    from snakemake.logging import logger

    if CONDA:  # the environments exist by now: check each trainer in the one its jobs run in
        pythons = conda_trainer_pythons()
        checked = trainer_check.startup_check(config, pythons, list(pythons), cache=trainer_check.CACHE)
    else:
        checked = trainer_check.startup_check(config, TRAINER_PY, BACKENDS_USED, cache=trainer_check.CACHE)
    for note in checked.notes:
        logger.warning(note)
    if checked.problems:
        raise WorkflowError("\n".join(checked.problems))
    local = workflow.executor_plugin is not None and workflow.executor_plugin.name == "local"
    if local and mxnet_gpus_requested():
        from slkd import gpu_check

        refusal = gpu_check.mxnet_refusal(gpu_check.visible_gpus() or [])
        if refusal:
            raise WorkflowError(f"compute.device/gpu resource: {refusal}")
    if local:  # local jobs watch this process and stop their Sockeye when it dies (scripts/supervise.py)
        from slkd import supervise

        os.environ[supervise.WATCH_ENV] = supervise.watch_value()


onerror:
    # a failed run on a full disk: the jobs' logs are on that disk and may not say it, so the console does,
    # naming the outdir and its free space (scripts/disk_space.py)
    from slkd import disk_space
    from snakemake.logging import logger

    notice = disk_space.workflow_notice(config["outdir"])
    if notice:
        logger.error(notice)


DIRECTIONS = design.directions(config)  # forward: src-trg (kd, best-2); backward: trg-src (bt)
TEACHER_OF = {direction: teacher for teacher, direction in DIRECTIONS.items()}
PARTS = design.parts(config)  # the table of parts (config `parts`): which teacher, which hypothesis
TEACHER_SIZE = config["architectures"][config["teacher"]["architecture"]]["num-words"]
THREADS = config["compute"]["threads"]
RUNTIME = config["compute"]["runtime"]  # minutes, per trainer rule (config.yaml holds every default)
DECODING = config["decoding"]
SHARDS = list(range(DECODING["shards"]))
# Teacher ensembles (teacher.ensemble > 1): N members per direction, trained with seeds teacher.seed ... + N - 1;
# the ensemble decodes (distils, translates dev and test, is held to the floor) from all its members' folders
# with sockeye.translate's --ensemble-mode. With one teacher (the paper's) the decoding and scoring rules have
# neither the parameter nor the option: their commands are those of before, and nothing that finished reruns.
ENSEMBLE_SIZE, ENSEMBLE_MODE = design.ensemble_size(config), design.ensemble_mode(config)
ENSEMBLES = ENSEMBLE_SIZE > 1
# train_teacher's `{teacher}`: each direction's members' names under teacher/ (`de-en`, `de-en.m2`, ...)
MEMBER_LABELS = [layout.teacher_label(m) for d in DIRECTIONS.values() for m in layout.member_models(config, d)]


def ensemble_option(wildcards):
    """translate.py's --ensemble-mode for a decoding by an ensemble (a distill job's; an ensemble's `{model}`),
    else nothing."""
    model = wildcards.model if "model" in wildcards.keys() else None
    if model is None or layout.parse_model(model)["kind"] == "ensemble":
        return ["--ensemble-mode", ENSEMBLE_MODE]
    return []


ENSEMBLE_PARAMS = {"ensemble": ensemble_option} if ENSEMBLES else {}  # the decoding rules' parameter
ENSEMBLE_OPTION = " {params.ensemble:q}" if ENSEMBLES else ""  # and option
# What the tables and claims show and the paired bootstrap compares (evaluation.metric), the metrics shown
# beside it (evaluation.columns), and whether detokenized BLEU is scored at all (only when a table shows it)
METRIC, METRIC_COLUMNS = design.table_metric(config), design.metric_columns(config)
DETOK = design.detok_used(config)
# What the metric is scored on, for the paired bootstrap and the claims: the BPE translations (de-BPE'd when read)
# against the tokenized reference (bleu, chrf), or the detokenized ones against the detokenized reference
# (bleu_detok: rule detok_reference writes it)
DETOK_REFERENCE = layout.fill(P.detok_text, corpus="base", split="test", lang=TRG)
BOOTSTRAP_HYP = P.student_test_detok if METRIC == design.DETOK else P.student_test_hyp
BOOTSTRAP_REF = DETOK_REFERENCE if METRIC == design.DETOK else layout.fill(P.text, corpus="base", split="test", lang=TRG)


wildcard_constraints:
    direction=layout.name_regex(list(DIRECTIONS.values())),
    dataset=layout.name_regex(list(config["datasets"])),
    reference=layout.name_regex(list(config["datasets"])),
    architecture=f"{layout.name_regex(list(config['architectures']))}|{design.GRID_NAME.pattern}",
    dropout="dropout|nodropout",
    checkpoints="[0-9]+",
    trial="[0-9]+",
    shard="[0-9]+",
    part=layout.name_regex(list(PARTS)),
    model=layout.model_regex(),
    split="train|dev|test",
    lang="[a-z]{2,3}",
    normalize="|".join(design.FILTER_NORMALIZE),
    size="[0-9]+",
    corpus="[A-Za-z0-9][A-Za-z0-9_+.-]*",


fill = layout.fill  # a path pattern with some wildcards filled in and the others left as wildcards


def _stem(rule_name, wildcard_names):
    return ".".join(f"{{{name}}}" for name in wildcard_names) or rule_name


def log_path(rule_name, *wildcard_names):
    """logs/<rule>/<w1>.<w2>....log"""
    return f"{P.logs}/{rule_name}/{_stem(rule_name, wildcard_names)}.log"


def benchmark_path(rule_name, *wildcard_names):
    """benchmarks/<rule>/<w1>.<w2>....tsv"""
    return f"{P.benchmarks}/{rule_name}/{_stem(rule_name, wildcard_names)}.tsv"


# ---- Input functions -------------------------------------------------------------------------------------
def raw_pair(wildcards):
    """Both sides of one split as obtained from the configured source, before any check (but a local file
    that is missing, a directory or unreadable stops the planning, naming its key and path)."""
    source = CORPUS["source"]
    if source == "local":
        local = CORPUS["local"][wildcards.split]
        for side in ("src", "trg"):
            try:
                corpus_check.check_file(local[side])
            except corpus_check.CorpusError as err:
                raise WorkflowError(f"corpus.local.{wildcards.split}.{side}: {err}")
        return {"src": local["src"], "trg": local["trg"]}
    pattern = P.raw_synthetic if source == "synthetic" else P.raw_ted
    return {
        "src": fill(pattern, split=wildcards.split, lang=SRC),
        "trg": fill(pattern, split=wildcards.split, lang=TRG),
    }


def langs_of(direction):
    """(input language, output language) of a teacher direction such as `de-en`."""
    source, target = direction.split("-")
    return source, target


def teacher_data(wildcards):
    """A teacher's BPE training and validation files (the teacher architecture's size, base corpus); any member of
    an ensemble trains on the same."""
    source, target = langs_of(layout.parse_model(teacher_member(wildcards))["direction"])
    bpe = lambda split, lang: fill(P.bpe_text, size=TEACHER_SIZE, corpus="base", split=split, lang=lang)
    return {
        "source": bpe("train", source),
        "target": bpe("train", target),
        "validation_source": bpe("dev", source),
        "validation_target": bpe("dev", target),
        "checked": P.corpus_checked,
    }


def student_of(wildcards, dataset=None):
    """The student of a rule's wildcards (`dataset`: the same student on another dataset)."""
    return design.Student(
        wildcards.architecture,
        dataset or wildcards.dataset,
        design.parse_dropout(wildcards.dropout),
        int(wildcards.checkpoints),
        int(wildcards.trial),
    )


def student_data(wildcards):
    """A student's BPE training data (its dataset) and validation data (base dev), at its size."""
    size = design.architecture(config, wildcards.architecture)["num-words"]
    bpe = lambda corpus, split, lang: fill(P.bpe_text, size=size, corpus=corpus, split=split, lang=lang)
    return {
        "source": bpe(wildcards.dataset, "train", SRC),
        "target": bpe(wildcards.dataset, "train", TRG),
        "validation_source": bpe("base", "dev", SRC),
        "validation_target": bpe("base", "dev", TRG),
        "checked": P.corpus_checked,
    }


def model_folder(model):
    """The Sockeye folder of a model name (layout.TEACHER or layout.STUDENT filled in); never a declared output (see
    scripts/train_model.py)."""
    return fill(P.model_dir, model=model)


def model_folders(model):
    """The Sockeye folders of a model name, as a list: its own, or an ensemble's members' (translate.py's
    --model-dir takes them all)."""
    return [model_folder(m) for m in layout.decoding_members(config, model)]


def model_dir(wildcards):
    """The Sockeye folder(s) of a `{model}` (model_folders)."""
    return model_folders(wildcards.model)


def model_done(wildcards):
    """The completion file of a `{model}`'s training; an ensemble's: its members'."""
    return [fill(P.model_done, model=m) for m in layout.decoding_members(config, wildcards.model)]


def teacher_dir(wildcards):
    """The Sockeye folder of the `{direction}` teacher (member 1 of an ensemble)."""
    return model_folder(layout.teacher_model(wildcards.direction))


def distilling_dir(wildcards):
    """The Sockeye folder(s) that decode for the `{direction}` teacher: the teacher's, or its ensemble's members'
    (teacher.ensemble), as a list."""
    return model_folders(layout.distilling_model(config, wildcards.direction))


def teacher_members_done(wildcards):
    """The completion files of the `{direction}` teacher's members (one: the teacher's)."""
    return [fill(P.model_done, model=m) for m in layout.member_models(config, wildcards.direction)]


def distilling_hyp(pattern):
    """An input function: `pattern` (P.test_hyp, P.dev_hyp) of the model that decodes for `{direction}`."""
    return lambda wildcards: fill(pattern, model=layout.distilling_model(config, wildcards.direction))


def member_hyps(pattern):
    """An input function: `pattern` (P.test_hyp, P.dev_hyp) of each member of the `{direction}` teacher."""
    return lambda wildcards: [fill(pattern, model=m) for m in layout.member_models(config, wildcards.direction)]


def member_options(wildcards, input):
    """scripts/evaluate.py's options for an ensemble's members: the mode, then per member its name, folder, test
    and dev translations."""
    models = layout.member_models(config, wildcards.direction)
    options = ["--ensemble-mode", ENSEMBLE_MODE]
    for model, test, dev in zip(models, input.member_hyps, input.member_dev_hyps, strict=True):
        options += ["--member", model, model_folder(model), test, dev]
    return options


def teacher_member(wildcards):
    """The `{model}` name of train_teacher's `{teacher}`: `teacher/de-en` (member 1), `teacher/de-en.m2`."""
    return fill(layout.TEACHERS, teacher=wildcards.teacher)


def student_dir(wildcards):
    """The Sockeye folder of the student of these wildcards."""
    return model_folder(layout.student_model(student_of(wildcards)))


def bpe_source(model, split):
    """The BPE source of `split` that a `{model}` translates: its size, its input language."""
    info = layout.parse_model(model)
    if info["kind"] != "student":  # a teacher, a member of its ensemble, the ensemble
        return fill(P.bpe_text, size=TEACHER_SIZE, corpus="base", split=split, lang=langs_of(info["direction"])[0])
    size = design.architecture(config, info["architecture"])["num-words"]
    return fill(P.bpe_text, size=size, corpus="base", split=split, lang=SRC)


def test_source(wildcards):
    return bpe_source(wildcards.model, "test")


def dev_source(wildcards):
    return bpe_source(wildcards.model, "dev")


def part_files(part, lang):
    """One side of a dataset part: the real bitext (base) or a part of the table (config `parts`)."""
    if part == design.BASE:
        return fill(P.text, corpus="base", split="train", lang=lang)
    return fill(P.distill_part, direction=design.part_direction(config, PARTS[part]), part=part, lang=lang)


def gather_inputs(wildcards):
    """A part's teacher's shards (inputs and JSON outputs, in order), the word-level sentences it translated
    and, for an oracle part, the real other side."""
    part, direction = PARTS[wildcards.part], wildcards.direction
    if design.part_direction(config, part) != direction:
        raise WorkflowError(f"part {part.name} is written by the {part.teacher} teacher, not by {direction}")
    source, target = langs_of(direction)
    inputs = {
        "shards_in": expand(P.shard_in, direction=direction, shard=SHARDS),
        "shards_out": expand(P.shard_out, direction=direction, shard=SHARDS),
        "words": fill(P.text, corpus="base", split="train", lang=source),
    }
    if part.hypothesis == design.ORACLE:
        inputs["reference"] = fill(P.text, corpus="base", split="train", lang=target)
    return inputs


def gather_options(wildcards, input):
    """scripts/distill.py gather's options for one part: its shards, languages, hypothesis, reference."""
    source, target = langs_of(wildcards.direction)
    options = [arg for i, o in zip(input.shards_in, input.shards_out) for arg in ("--shard", i, o)]
    options += ["--input", input.words, "--input-lang", source, "--hyp-lang", target,
                "--part", f"{wildcards.part}:{PARTS[wildcards.part].hypothesis}"]
    if "reference" in input.keys():
        options += ["--reference", input.reference]
    return options


# Cross-entropy filtering (config `parts`: a part with `filter`): the filtered part's pairs, in the scoring
# teacher's BPE, scored by that teacher (the other direction's), less the worst share.
FILTERED = [name for name, part in PARTS.items() if part.filtered]
UNFILTERED = [name for name in PARTS if name not in FILTERED]


def filter_source(wildcards):
    """The part that a filtered part filters, as a Part."""
    return PARTS[PARTS[wildcards.part].filtered]


def score_inputs(wildcards):
    """What scores the pairs of a part that some filtered part filters: the teacher of the other direction
    (after its BLEU floor), reading the part's hypotheses and scoring the real sentences, both in its BPE."""
    part = PARTS[wildcards.part]
    real, hyp = langs_of(wildcards.direction)
    scorer = design.filter_scorer(config, part)
    return {
        "done": fill(P.teacher_done, direction=scorer),
        "score": ancient(fill(P.teacher_score, direction=scorer)),  # the floor's gate, as in rule distill
        "source": fill(P.part_bpe, lang=hyp),
        "target": fill(P.part_bpe, lang=real),
    }


def filter_inputs(wildcards):
    """A filtered part's source part (both sides) and the scores of its pairs."""
    source = filter_source(wildcards)
    part = PARTS[wildcards.part]
    return {
        "src": part_files(source.name, SRC),
        "trg": part_files(source.name, TRG),
        "scores": fill(P.part_scores, direction=wildcards.direction, part=source.name, normalize=part.normalize),
    }


def dataset_parts(wildcards):
    parts = config["datasets"][wildcards.dataset]
    return {"src": [part_files(p, SRC) for p in parts], "trg": [part_files(p, TRG) for p in parts]}


# The table, figure and significance scripts receive result files only: each run file (scripts/evaluate.py)
# and each paired bootstrap result (scripts/significance.py) names its model and the student's coordinates, so
# the scripts key them by what the files say, never by a spelling of the layout or by the order of arguments.
@functools.cache
def table_runs(table):
    """The run files of a table's students."""
    return [fill(P.run, **s.wildcards) for s in design.students(config, [table])]


@functools.cache
def grid_runs(section):
    """The run files of a grid section's students (`search`: Figure 2, `compare`: Figure 3)."""
    return [fill(P.run, **s.wildcards) for s in GRID_STUDENTS[section]]


def table_significance(table):
    """A table's paired bootstrap results (each compared student against the baseline dataset's)."""
    reference = config["evaluation"]["significance"]["baseline"]
    return [fill(P.significance, reference=reference, **s.wildcards) for s in design.compared_students(config, table)]


def table_spec(table):
    """What scripts/tables.py needs of a table beside its files, as JSON: rows (datasets, in order), columns
    (architecture, dropout), the significance level and the metrics shown (evaluation.metric, columns)."""
    spec = config["tables"][table]
    return json.dumps({
        "datasets": spec["datasets"],
        "columns": [{"architecture": c["architecture"], "dropout": design.dropout_label(c["dropout"])}
                    for c in spec["columns"]],
        "alpha": config["evaluation"]["significance"]["alpha"],
        "metric": METRIC,
        "metric_columns": METRIC_COLUMNS,
    })


# The claims (config `claims`): the students (their run files, and the test translations and reference that the
# verdicts' bootstrap scores, as the paired bootstrap does), the paired bootstrap results (against baseline,
# shared with the tables'; combined against kd, the claims' own) and the target-side statistics of baseline and kd.
CLAIM_STUDENTS, CLAIM_COMPARISONS = design.claim_students(config)
CLAIMS = config.get("claims") or {}


def claims_inputs():
    return {
        "runs": [fill(P.run, **s.wildcards) for s in CLAIM_STUDENTS],
        "hyps": [fill(BOOTSTRAP_HYP, **s.wildcards) for s in CLAIM_STUDENTS],
        "ref": BOOTSTRAP_REF,
        "significance": [fill(P.significance, reference=r, **s.wildcards) for s, r in CLAIM_COMPARISONS],
        "stats": [fill(P.stats, corpus=CLAIMS[key]) for key in ("baseline", "kd")],
    }


def claims_spec():
    """What scripts/claims.py needs beside its files, as JSON (config `claims` with its verdicts' settings, the
    level, the target side, the metric and its tokenization)."""
    spec = {key: CLAIMS[key] for key in ("architecture", "baseline", "kd", "combined", "augmented")}
    return json.dumps({**spec, **design.claim_settings(config), "alpha": config["evaluation"]["significance"]["alpha"],
                       "lang": TRG, "metric": METRIC, "tokenize": config["evaluation"]["bleu_tokenize"]})


def table_outputs(table):
    return expand(P.table, table=table, ext=["csv", "md", "tex"])


def figure_outputs(figure):
    return expand(P.figure, figure=figure, ext=["png", "pdf", "csv"])


def reported(paths, name, category):
    """Output paths, the first one shown in `snakemake --report` with the caption report/<name>.rst."""
    return [report(paths[0], caption=f"../report/{name}.rst", category=category), *paths[1:]]


# ---- Targets ---------------------------------------------------------------------------------------------
BPE_TARGETS = expand(
    P.bpe_text, size=design.bpe_sizes(config), corpus="base", split=SPLITS, lang=LANGS
)
STATS_TARGETS = expand(P.stats, corpus=["base"])  # the datasets' statistics come with table2
TABLES = [t for t in ("table1", "table2", "table3") if t == "table2" or t in config["tables"]]
CLAIMS_OUTPUTS = expand(P.table, table="claims", ext=["csv", "md"]) if CLAIMS else []
# The grid's students (A.1): `search` for Figure 2, `compare` for Figure 3 (a model in both is trained once)
GRID_STUDENTS = {section: design.grid_students(config, section) for section in ("search", "compare")}
GRID_RUNS = sorted({fill(P.run, **s.wildcards) for students in GRID_STUDENTS.values() for s in students})
# Figure 1 shows Table 3's students; Figures 2 and 3 the grid's, when the grid has architectures.
FIGURES = [
    figure
    for figure, wanted in (
        ("fig1", "table3" in config["tables"]),
        ("fig2", bool(GRID_STUDENTS["search"])),
        ("fig3", bool(GRID_STUDENTS["compare"])),
    )
    if wanted
]
