# Stage 5 — distillation: each teacher translates the training side it reads (de→en: the German sources with
# an n-best list, giving kd and best-2; en→de: the English targets, giving bt), in `decoding.shards`
# parallel jobs. Line counts are checked at every step; empty hypotheses are counted in the report. A filtered
# part (cross-entropy filtering) scores another part's pairs with the teacher of the other direction and drops
# the worst share.


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
        script("distill.py", "split --input {input:q} --shards {params.shards:q} --outdir {params.outdir:q} 2> {log:q}")


rule distill:
    """Beam search (n-best JSON) on one shard, once the teacher has cleared its BLEU floor (an ensemble of teachers,
    teacher.ensemble: with every member's folder)."""
    input:
        done=teacher_members_done,
        # the floor's gate: the score file's existence (score_teacher writes none below it), not its age, so
        # that scoring again (a new evaluate.FORMAT) distils nothing again; a retrained teacher does (`done`)
        score=ancient(P.teacher_score),
        shard=P.shard_in,
    output:
        P.shard_out,
    params:
        model_dir=distilling_dir,
        beam=DECODING["beam_size"],
        batch=DECODING["batch_size"],
        nbest=lambda wildcards: design.nbest(config, TEACHER_OF[wildcards.direction]),
        **trainer_params(TEACHER_BACKEND),
        **ENSEMBLE_PARAMS,
    threads: THREADS
    resources:
        **trainer_resources("distill", mem_mb=8000),
    log:
        log_path("distill", "direction", "shard"),
    benchmark:
        benchmark_path("distill", "direction", "shard")
    conda:
        trainer_env(TEACHER_BACKEND)
    shell:
        sockeye_script(
            "translate.py",
            "--model-dir {params.model_dir:q} --input {input.shard:q}"
            " --output {output:q} --beam-size {params.beam:q} --batch-size {params.batch:q} --nbest-size {params.nbest:q}"
            f" --output-type json --threads {{threads}}{ENSEMBLE_OPTION} 2> {{log:q}}",
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
    wildcard_constraints:
        part=layout.name_regex(UNFILTERED),  # a filtered part comes from filter_part
    params:
        options=gather_options,
        outdir=lambda wildcards: fill(P.distill_dir, direction=wildcards.direction),
    log:
        log_path("gather_part", "direction", "part"),
    conda:
        WORKFLOW_ENV
    shell:
        script("distill.py", "gather {params.options:q} --outdir {params.outdir:q} --report {output.report:q} 2> {log:q}")


rule bpe_part:
    """One side of a part, in the BPE of the teachers (for scoring)."""
    input:
        text=P.distill_part,
        codes=fill(P.bpe_codes, size=TEACHER_SIZE),
    output:
        temp(P.part_bpe),
    log:
        log_path("bpe_part", "direction", "part", "lang"),
    conda:
        WORKFLOW_ENV
    shell:
        script("bpe.py", "apply --codes {input.codes:q} --input {input.text:q} --output {output:q} 2> {log:q}")


rule score_part:
    """The cost of each pair of a part: the negative log-probability of its real sentence given its hypothesis,
    by the teacher of the other direction (per token, or per sentence: config `normalize`). sockeye.score takes
    one model: of an ensemble (teacher.ensemble), member 1 scores (the ensemble cleared the floor)."""
    input:
        unpack(score_inputs),
    output:
        P.part_scores,
    params:
        model_dir=lambda wildcards: model_folder(
            layout.teacher_model(design.filter_scorer(config, PARTS[wildcards.part]))
        ),
        batch=DECODING["batch_size"],
        **trainer_params(TEACHER_BACKEND),
    threads: THREADS
    resources:
        **trainer_resources("score_part", mem_mb=8000),
    log:
        log_path("score_part", "direction", "part", "normalize"),
    benchmark:
        benchmark_path("score_part", "direction", "part", "normalize")
    conda:
        trainer_env(TEACHER_BACKEND)
    shell:
        sockeye_script(
            "score.py",
            "--model-dir {params.model_dir:q} --source {input.source:q} --target {input.target:q} --output {output:q}"
            " --normalize {wildcards.normalize:q} --batch-size {params.batch:q} --threads {threads} 2> {log:q}",
        )


rule filter_part:
    """A filtered part (config `parts`: `filter`, `drop`, `normalize`): the pairs of the part it filters less
    the `drop` share with the highest costs; its report counts them and gives the distribution of the costs."""
    input:
        unpack(filter_inputs),
    output:
        src=fill(P.distill_part, lang=SRC),
        trg=fill(P.distill_part, lang=TRG),
        report=P.distill_report,
    wildcard_constraints:
        part=layout.name_regex(FILTERED),
    params:
        outdir=lambda wildcards, output: str(Path(output.src).parent),
        drop=lambda wildcards: PARTS[wildcards.part].drop,
        source=lambda wildcards: PARTS[wildcards.part].filtered,
        normalize=lambda wildcards: PARTS[wildcards.part].normalize,
        langs=[SRC, TRG],
    log:
        log_path("filter_part", "direction", "part"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "distill.py",
            "filter --src {input.src:q} --trg {input.trg:q} --langs {params.langs:q} --scores {input.scores:q}"
            " --drop {params.drop:q} --source-part {params.source:q} --normalize {params.normalize:q}"
            " --outdir {params.outdir:q} --report {output.report:q} 2> {log:q}",
        )
