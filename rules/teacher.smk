# Stage 4 — teachers: LARGE models on the base bitext, de→en (kd, best-2) and en→de (bt). Each is scored before
# it distils: below teacher.min_bleu on the dev set the run stops (a weak teacher fails silently); its test
# BLEU is reported, never used to decide. With teacher.ensemble: N, each direction's teacher is N members
# (seeds teacher.seed ... teacher.seed + N - 1) and their ensemble is what is scored, held to the floor and
# distils; each member is scored too (results/teachers/<direction>.json: `members`).


rule train_teacher:
    """A teacher (a member of an ensemble: its own seed) with the paper's flags (A.2, A.4) and the configured
    epoch budget; resumes if killed."""
    input:
        unpack(teacher_data),
    output:
        fill(P.model_done, model=layout.TEACHERS),
    wildcard_constraints:
        teacher=layout.name_regex(MEMBER_LABELS),  # the teachers (member 1: `de-en`) and members 2..N (`de-en.m2`)
    params:
        model_dir=lambda wildcards: model_folder(teacher_member(wildcards)),
        flags=lambda wildcards: json.dumps(
            training_flags.teacher_flags(config, layout.member_number(teacher_member(wildcards)))
        ),
        **trainer_params(TEACHER_BACKEND),
    threads: THREADS
    resources:
        **trainer_resources("train_teacher", mem_mb=16000),
    group:
        model_group(teacher_member)
    log:
        log_path("train_teacher", "teacher"),
    benchmark:
        benchmark_path("train_teacher", "teacher")
    conda:
        trainer_env(TEACHER_BACKEND)
    shell:
        TRAIN_MODEL


rule score_teacher:
    """A teacher's tokenized BLEU: on dev, its floor (below teacher.min_bleu the run stops); on test, reported. With
    an ensemble (teacher.ensemble), the ensemble's, which the floor applies to, and each member's (`members`)."""
    input:
        done=teacher_members_done,
        hyp=distilling_hyp(P.test_hyp),
        ref=lambda wildcards: fill(P.text, corpus="base", split="test", lang=langs_of(wildcards.direction)[1]),
        dev_hyp=distilling_hyp(P.dev_hyp),
        dev_ref=lambda wildcards: fill(P.text, corpus="base", split="dev", lang=langs_of(wildcards.direction)[1]),
        **({"member_hyps": member_hyps(P.test_hyp), "member_dev_hyps": member_hyps(P.dev_hyp)} if ENSEMBLES else {}),
    output:
        P.teacher_score,
    params:
        # one teacher: its folder (its curve and size); an ensemble: each member's name, folder and translations
        **({"members": member_options} if ENSEMBLES else {"model_dir": teacher_dir}),
        tokenize=config["evaluation"]["bleu_tokenize"],
        min_bleu=config["teacher"]["min_bleu"],
        model=lambda wildcards: layout.distilling_model(config, wildcards.direction),
        format=evaluate.FORMAT,  # a new format of the score files writes them again
    log:
        log_path("score_teacher", "direction"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "evaluate.py",
            "--hyp {input.hyp:q} --ref {input.ref:q}"
            + (" {params.members:q}" if ENSEMBLES else " --model-dir {params.model_dir:q}")
            + " --output {output:q}"
            " --tokenize {params.tokenize:q} --min-bleu {params.min_bleu:q} --floor-hyp {input.dev_hyp:q}"
            " --floor-ref {input.dev_ref:q} --model {params.model:q}"
            " 2> {log:q}",
        )
