# Stage 5 — distillation: each teacher translates the training side it reads (de→en: the German sources with
# an n-best list, giving kd and best-2; en→de: the English targets, giving bt), in `decoding.shards`
# parallel jobs. Line counts are checked at every step; empty hypotheses are counted in the report.


rule split_for_distillation:
    """The teacher's BPE training input, in contiguous shards."""
    input:
        lambda wildcards: fill(
            P.bpe_text, size=TEACHER_SIZE, corpus="base", split="train", lang=langs_of(wildcards.direction)[0]
        ),
    output:
        expand(P.shard_in, shard=SHARDS, allow_missing=True),
    params:
        outdir=lambda wildcards, output: str(Path(output[0]).parent),
        shards=len(SHARDS),
    log:
        log_path("split_for_distillation", "direction"),
    conda:
        WORKFLOW_ENV
    shell:
        script("distill.py", "split --input {input} --shards {params.shards} --outdir {params.outdir} 2> {log}")


rule distill:
    """Beam search (n-best JSON) on one shard, once the teacher has cleared its BLEU floor."""
    input:
        done=P.teacher_done,
        score=P.teacher_score,
        shard=P.shard_in,
    output:
        P.shard_out,
    params:
        model_dir=teacher_dir,
        beam=DECODING["beam_size"],
        batch=DECODING["batch_size"],
        nbest=lambda wildcards: sc.nbest(config, TEACHER_OF[wildcards.direction]),
        backend=TEACHER_BACKEND,
        device=DEVICE,
    threads: THREADS
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME["distill"],
        mem_mb=8000,
    log:
        log_path("distill", "direction", "shard"),
    benchmark:
        benchmark_path("distill", "direction", "shard")
    conda:
        trainer_env(TEACHER_BACKEND)
    shell:
        sockeye_script(
            "translate.py",
            "--model-dir {params.model_dir} --input {input.shard}"
            " --output {output} --beam-size {params.beam} --batch-size {params.batch} --nbest-size {params.nbest}"
            " --output-type json --threads {threads} 2> {log}",
        )


rule gather_part:
    """One part of the table (config `parts`): its teacher's n-best lists de-BPE'd, the part's hypothesis (a rank,
    or the oracle: the closest to the real other side) paired with the real sentence the teacher read."""
    input:
        unpack(gather_inputs),
    output:
        src=fill(P.distill_part, lang=SRC),
        trg=fill(P.distill_part, lang=TRG),
        report=P.distill_report,
    params:
        options=gather_options,
        outdir=lambda wildcards: fill(P.distill_dir, direction=wildcards.direction),
    log:
        log_path("gather_part", "direction", "part"),
    conda:
        WORKFLOW_ENV
    shell:
        script("distill.py", "gather {params.options} --outdir {params.outdir} --report {output.report} 2> {log}")
