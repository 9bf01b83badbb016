# Stage 4 — teachers: LARGE models on the base bitext, de→en (kd, best-2) and en→de (bt). Each is scored before
# it distils: below teacher.min_bleu on the dev set the run stops (a weak teacher fails silently); its test
# BLEU is reported, never used to decide.


rule train_teacher:
    """A teacher with the paper's flags (A.2, A.4) and the configured epoch budget; resumes if killed."""
    input:
        unpack(teacher_data),
    output:
        P.teacher_done,
    params:
        model_dir=lambda wildcards: f"{P.models}/teacher/{wildcards.direction}",
        flags=json.dumps(sc.teacher_flags(config)),
        backend=TEACHER_BACKEND,
        device=DEVICE,
    threads: THREADS
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME.get("train_teacher", 2880),
        mem_mb=16000,
    log:
        log_path("train_teacher", "direction"),
    benchmark:
        benchmark_path("train_teacher", "direction")
    conda:
        WORKFLOW_ENV
    shell:
        TRAIN_MODEL


rule translate_test:
    """Beam search on the test set with a model's best checkpoint (teachers and students alike)."""
    input:
        done=P.model_done,
        source=test_source,
    output:
        P.test_hyp,
    params:
        model_dir=model_dir,
        beam=DECODING["beam_size"],
        batch=DECODING["batch_size"],
        backend=model_backend,
        device=DEVICE,
    threads: THREADS
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME.get("translate_test", 60),
        mem_mb=8000,
    log:
        f"{P.logs}/translate_test/{{model}}.log",
    benchmark:
        f"{P.benchmarks}/translate_test/{{model}}.tsv"
    conda:
        WORKFLOW_ENV
    shell:
        sockeye_script(
            "translate.py",
            "--model-dir {params.model_dir} --input {input.source}"
            " --output {output} --beam-size {params.beam} --batch-size {params.batch}"
            " --threads {threads} 2> {log}",
        )


use rule translate_test as translate_dev with:
    input:
        done=P.model_done,
        source=dev_source,
    output:
        P.dev_hyp,
    wildcard_constraints:
        model="teacher/[^/]+",
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME.get("translate_dev", 60),
        mem_mb=8000,
    log:
        f"{P.logs}/translate_dev/{{model}}.log",
    benchmark:
        f"{P.benchmarks}/translate_dev/{{model}}.tsv"


rule score_teacher:
    """A teacher's tokenized BLEU: on dev, its floor (below teacher.min_bleu the run stops); on test, reported."""
    input:
        done=P.teacher_done,
        hyp=fill(P.test_hyp, model="teacher/{direction}"),
        ref=lambda wildcards: fill(P.text, corpus="base", split="test", lang=langs_of(wildcards.direction)[1]),
        dev_hyp=fill(P.dev_hyp, model="teacher/{direction}"),
        dev_ref=lambda wildcards: fill(P.text, corpus="base", split="dev", lang=langs_of(wildcards.direction)[1]),
    output:
        P.teacher_score,
    params:
        model_dir=lambda wildcards: f"{P.models}/teacher/{wildcards.direction}",
        tokenize=config["evaluation"]["bleu_tokenize"],
        min_bleu=config["teacher"]["min_bleu"],
    log:
        log_path("score_teacher", "direction"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "evaluate.py",
            "--hyp {input.hyp} --ref {input.ref} --model-dir {params.model_dir} --output {output}"
            " --tokenize {params.tokenize} --min-bleu {params.min_bleu} --floor-hyp {input.dev_hyp}"
            " --floor-ref {input.dev_ref} --name teacher/{wildcards.direction}"
            " 2> {log}",
        )
