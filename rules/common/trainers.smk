# The trainers: each backend's interpreter and environment, the trainer rules' common block, the start-up checks.

# ---- Interpreters and environment ----------------------------------------------------------------------------
# Each trainer backend (scripts/slkd/backends/) runs in its own environment, reached through its interpreter key
# (its PYTHON_KEY: a relative path is taken from the workflow's folder, where `make setup` puts it), passed to the
# jobs in its environment variable (its PYTHON_ENV).
# With --sdm conda instead, every rule's environment is activated in front: envs/workflow.yaml for the
# workflow's scripts, and for the rules that run a trainer the environment of the model's backend
# (backends.env_files()), whose own `python` runs both the job's script and Sockeye (the interpreter keys are not
# read). Neither the clone's location nor the interpreter is part of a command or a parameter, so moving the
# clone or switching profiles (local CPU, SLURM GPU) reruns nothing that is finished; nor is the device, which
# the jobs decide from compute.device and their `gpu` resource (scripts/train_model.py).
CONDA = DeploymentMethod.CONDA in workflow.deployment_settings.deployment_method


def trainer_env(backend):
    """The conda environment file of a trainer backend (a rule's `conda:`, relative to rules/)."""
    return f"../{backends.env_files()[backend]}"


def _sockeye_python(value):
    if "/" not in value:
        return shutil.which(value) or value
    path = Path(value)
    return str(path if path.is_absolute() else Path(workflow.basedir) / path)


# One interpreter per trainer backend that the configuration names one for (checks: every backend in use does).
# Under conda, "python": the job's PATH, where its backend's environment comes first.
TRAINER_PY = {
    backend: "python" if CONDA else _sockeye_python(config[module.PYTHON_KEY])
    for backend, module in backends.BACKENDS.items() if module.PYTHON_KEY in config
}
if CONDA:
    # the workflow's scripts reach their library through PYTHONPATH, which Snakemake drops in conda jobs; under
    # conda it holds nothing else
    snakemake_api.keep_search_path_under_conda(workflow)
os.environ.update(
    PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]),
    PYTHONPATH=os.pathsep.join([str(SCRIPTS), *filter(None, [None if CONDA else os.environ.get("PYTHONPATH")])]),
    **{backends.get(backend).PYTHON_ENV: python for backend, python in TRAINER_PY.items()},
    # the not_learning guard of every training (scripts/train_model.py): a stopping rule, not part of the
    # command, so that changing it reruns nothing that finished
    SLKD_NOT_LEARNING=f"{config['not_learning']['checkpoints']}:{config['not_learning']['share']}",
    # seconds between the GPU samples of every trainer job on a GPU (scripts/slkd/gpu_monitor.py; 0: none): the same
    SLKD_GPU_MONITOR=str(config["compute"].get("gpu_monitor_interval", gpu_monitor.DEFAULT_INTERVAL)),
)
# Checks that change no output reach their jobs as environment variables, not as parameters, so that setting
# them reruns nothing: the archive's checksum (scripts/ted.py) and the character limit of a corpus line
# (scripts/prepare_corpus.py)
TED_SHA256 = CORPUS.get("ted", {}).get("sha256", "")
os.environ.update(SLKD_TED_SHA256=TED_SHA256, SLKD_MAX_LINE_CHARS=str(CORPUS["max_line_chars"]))
# compute.device (auto|cpu|gpu); with `auto` a job runs Sockeye on the GPU exactly when it holds the `gpu`
# resource (0 in the rules, 1 from profiles/slurm) or SLURM's shards of one (the profile's GPU sharing, `gres:
# "shard:1"`; the job finds them in its environment): see backends.sockeye_device
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


def gpus_requested():
    """Whether this run gives the trainer jobs a GPU: compute.device gpu, or auto with a `gpu` resource on a
    trainer rule or a `gres` that asks for shards of one (profiles/slurm, --set-resources)."""
    if DEVICE != "auto":
        return DEVICE == "gpu"
    return any(snakemake_api.rule_gpus(getattr(rules, name).rule) > 0
               or snakemake_api.rule_gpu_shards(getattr(rules, name).rule) > 0 for name in backends.TRAINER_RULES)


# ---- The trainer rules' common block (backends.TRAINER_RULES) ---------------------------------------------------
# On a cluster (an executor other than local; a local run ignores groups), a model's training and its own
# decodings (its test set; a teacher's dev set) are one group job, so that a model waits for a GPU once: the group
# is the model (an ensemble's decoding, which reads every member, is one of its own). Snakemake runs the group's
# jobs one after the other in that cluster job, whose time limit is the sum of theirs.
def model_group(model_of):
    """A rule's `group:`: the model whose job this is (`model_of(wildcards)`, layout.job_group)."""
    return lambda wildcards: layout.job_group(model_of(wildcards))


def trainer_params(backend):
    """The parameters of every job that runs a trainer: its backend (a name, or a function of the wildcards) and
    the device setting (the job decides from it and its `gpu` resource)."""
    return {"backend": backend, "device": DEVICE}


def trainer_resources(rule, mem_mb):
    """The resources of every job that runs a trainer: no GPU here (profiles/slurm gives each trainer rule one),
    the rule's time limit (compute.runtime) and its memory."""
    return {"gpu": 0, "runtime": RUNTIME[rule], "mem_mb": mem_mb}


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
    for job in snakemake_api.planned_jobs(workflow):
        if job.rule.name in backends.TRAINER_RULES and job.conda_env is not None:  # each has params.backend
            pythons.setdefault(job.params.backend, os.path.join(job.conda_env.address, "bin", "python"))
    return {backend: pythons[backend] for backend in backends.BACKENDS if backend in pythons}


def download_planned():
    """Whether this run downloads the TED archive (then the download checks what it fetches)."""
    return any(job.rule.name == "download_ted" for job in snakemake_api.planned_jobs(workflow))


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
    # so would a backend on a GPU that it has no kernels for (its gpu_refusal). A clean answer is remembered in
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
    if local and gpus_requested():
        for backend in BACKENDS_USED:
            refusal = backends.get(backend).gpu_refusal()
            if refusal:
                raise WorkflowError(f"compute.device/gpu resource: {refusal}")
    if local:  # local jobs watch this process and stop their Sockeye when it dies (scripts/slkd/supervise.py)
        from slkd import supervise

        os.environ[supervise.WATCH_ENV] = supervise.watch_value()


onerror:
    # a failed run on a full disk: the jobs' logs are on that disk and may not say it, so the console does,
    # naming the outdir and its free space (scripts/slkd/disk_space.py)
    from slkd import disk_space
    from snakemake.logging import logger

    notice = disk_space.workflow_notice(config["outdir"])
    if notice:
        logger.error(notice)


