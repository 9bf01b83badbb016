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
        model_dir=teacher_dir,
        flags=json.dumps(sc.teacher_flags(config)),
        backend=TEACHER_BACKEND,
        device=DEVICE,
    threads: THREADS
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME["train_teacher"],
        mem_mb=16000,
    log:
        log_path("train_teacher", "direction"),
    benchmark:
        benchmark_path("train_teacher", "direction")
    conda:
        trainer_env(TEACHER_BACKEND)
    shell:
        TRAIN_MODEL


rule score_teacher:
    """A teacher's tokenized BLEU: on dev, its floor (below teacher.min_bleu the run stops); on test, reported."""
    input:
        done=P.teacher_done,
        hyp=fill(P.test_hyp, model=sc.TEACHER),
        ref=lambda wildcards: fill(P.text, corpus="base", split="test", lang=langs_of(wildcards.direction)[1]),
        dev_hyp=fill(P.dev_hyp, model=sc.TEACHER),
        dev_ref=lambda wildcards: fill(P.text, corpus="base", split="dev", lang=langs_of(wildcards.direction)[1]),
    output:
        P.teacher_score,
    params:
        model_dir=teacher_dir,
        tokenize=config["evaluation"]["bleu_tokenize"],
        min_bleu=config["teacher"]["min_bleu"],
        model=lambda wildcards: sc.teacher_model(wildcards.direction),
        format=evaluate.FORMAT,  # a new format of the score files writes them again
    log:
        log_path("score_teacher", "direction"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "evaluate.py",
            "--hyp {input.hyp} --ref {input.ref} --model-dir {params.model_dir} --output {output}"
            " --tokenize {params.tokenize} --min-bleu {params.min_bleu} --floor-hyp {input.dev_hyp}"
            " --floor-ref {input.dev_ref} --model {params.model}"
            " 2> {log}",
        )
