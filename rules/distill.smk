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
        model_dir=lambda wildcards: f"{P.models}/teacher/{wildcards.direction}",
        beam=DECODING["beam_size"],
        batch=DECODING["batch_size"],
        nbest=lambda wildcards: DECODING["nbest"] if wildcards.direction == DIRECTIONS["forward"] else 1,
        backend=TEACHER_BACKEND,
        device=DEVICE,
    threads: THREADS
    resources:
        gpu=0,  # profiles/slurm: 1
        runtime=RUNTIME.get("distill", 240),
        mem_mb=8000,
    log:
        log_path("distill", "direction", "shard"),
    benchmark:
        benchmark_path("distill", "direction", "shard")
    conda:
        WORKFLOW_ENV
    shell:
        sockeye_script(
            "translate.py",
            "--model-dir {params.model_dir} --input {input.shard}"
            " --output {output} --beam-size {params.beam} --batch-size {params.batch} --nbest-size {params.nbest}"
            " --output-type json --threads {threads} 2> {log}",
        )


rule gather_distilled:
    """The de→en teacher's n-best lists, de-BPE'd, paired with the real sources: kd (best) and best2 (2nd best)."""
    input:
        unpack(lambda wildcards: gather_inputs(DIRECTIONS["forward"])),
    output:
        parts=[fill(P.distill_part, direction=DIRECTIONS["forward"], part=p, lang=l) for p in ("kd", "best2") for l in LANGS],
        report=fill(P.distill_report, direction=DIRECTIONS["forward"]),
    params:
        shards=lambda wildcards, input: shard_options(input),
        langs=f"--input-lang {SRC} --hyp-lang {TRG}",
        outdir=lambda wildcards, output: str(Path(output.report).parent),
    log:
        log_path("gather_distilled"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "distill.py",
            "gather {params.shards} --input {input.words} {params.langs} --part kd:1 --part best2:2"
            " --outdir {params.outdir} --report {output.report} 2> {log}",
        )


rule gather_seqinterp:
    """Sequence-level interpolation (Kim & Rush 2016; the paper's footnote 1): per training sentence, the de→en
    teacher's n-best hypothesis (decoding.nbest) with the highest sentence BLEU against the real target."""
    input:
        unpack(lambda wildcards: gather_inputs(DIRECTIONS["forward"])),
        reference=fill(P.text, corpus="base", split="train", lang=TRG),
    output:
        parts=[fill(P.distill_part, direction=DIRECTIONS["forward"], part="seqinterp", lang=l) for l in LANGS],
        report=fill(P.seqinterp_report, direction=DIRECTIONS["forward"]),
    params:
        shards=lambda wildcards, input: shard_options(input),
        langs=f"--input-lang {SRC} --hyp-lang {TRG}",
        outdir=lambda wildcards, output: str(Path(output.report).parent.parent),
    log:
        log_path("gather_seqinterp"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "distill.py",
            "gather {params.shards} --input {input.words} {params.langs} --part seqinterp:oracle"
            " --reference {input.reference} --outdir {params.outdir} --report {output.report} 2> {log}",
        )


rule gather_backtranslated:
    """The en→de teacher's translations of the real English targets, paired with them: bt."""
    input:
        unpack(lambda wildcards: gather_inputs(DIRECTIONS["backward"])),
    output:
        parts=[fill(P.distill_part, direction=DIRECTIONS["backward"], part="bt", lang=l) for l in LANGS],
        report=fill(P.distill_report, direction=DIRECTIONS["backward"]),
    params:
        shards=lambda wildcards, input: shard_options(input),
        langs=f"--input-lang {TRG} --hyp-lang {SRC}",
        outdir=lambda wildcards, output: str(Path(output.report).parent),
    log:
        log_path("gather_backtranslated"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "distill.py",
            "gather {params.shards} --input {input.words} {params.langs} --part bt:1"
            " --outdir {params.outdir} --report {output.report} 2> {log}",
        )
