# Stage 8 — translation: beam search (decoding.beam_size) with a model's best checkpoint, on the test set for
# every model (scored by rules/evaluate.smk and score_teacher) and on the dev set for teachers (their floor). A
# teacher ensemble (teacher.ensemble) translates as its `{model}` name, `teacher/<direction>.ensemble`, with all
# its members' folders; each member also translates on its own (scored beside it).


rule translate_test:
    """Beam search on the test set with a model's best checkpoint (teachers and students alike; an ensemble with
    every member's)."""
    input:
        done=model_done,
        source=test_source,
    output:
        P.test_hyp,
    params:
        model_dir=model_dir,
        beam=DECODING["beam_size"],
        batch=DECODING["batch_size"],
        **trainer_params(model_backend),
        **ENSEMBLE_PARAMS,
    threads: THREADS
    resources:
        **trainer_resources("translate_test", mem_mb=8000),
    group:
        model_group(lambda wildcards: wildcards.model)
    log:
        log_path("translate_test", "model"),
    benchmark:
        benchmark_path("translate_test", "model")
    conda:
        lambda wildcards: trainer_env(model_backend(wildcards))
    shell:
        sockeye_script(
            "translate.py",
            "--model-dir {params.model_dir:q} --input {input.source:q}"
            " --output {output:q} --beam-size {params.beam:q} --batch-size {params.batch:q}"
            f" --threads {{threads}}{ENSEMBLE_OPTION} 2> {{log:q}}",
        )


use rule translate_test as translate_dev with:
    input:
        done=model_done,
        source=dev_source,
        # after the model's test decoding, never beside it: on a cluster both run in the model's group job
        # (model_group), which holds one GPU, and a group's jobs side by side would ask for one each
        test=P.test_hyp,
    output:
        P.dev_hyp,
    wildcard_constraints:
        model=layout.model_regex(layout.TEACHER_KINDS),  # a teacher, a member of its ensemble, the ensemble
    resources:
        **trainer_resources("translate_dev", mem_mb=8000),
    log:
        log_path("translate_dev", "model"),
    benchmark:
        benchmark_path("translate_dev", "model")
