# Stage 9 — evaluation: test BLEU (tokenized, beam 5) and chrF with their sacrebleu signatures, and the BPE
# train perplexity at the best checkpoint with the validation curve, one JSON per student. Detokenized BLEU
# (sacrebleu's default 13a) only when a table shows it (evaluation.metric/columns bleu_detok, DETOK): then the
# reference is detokenized once (rule detok_reference) and each student's translations with its evaluation.



if DETOK:

    rule detok_reference:
        """The detokenized reference: the raw text where the workflow tokenized it (corpus.tokenize), else the
        tokenized text Moses-detokenized (scripts/detok.py)."""
        localrule: True
        input:
            tokenized=fill(P.text, corpus="base", lang=TRG),
            raw=lambda wildcards: raw_pair(wildcards)["trg"] if CORPUS["tokenize"] else [],
        output:
            fill(P.detok_text, corpus="base", lang=TRG),
        params:
            lang=TRG,
            raw=lambda wildcards, input: ["--raw", input.raw] if CORPUS["tokenize"] else [],
            lowercase=["--lowercase"] if CORPUS["tokenize"] and CORPUS["lowercase"] else [],
        log:
            log_path("detok_reference", "split"),
        conda:
            WORKFLOW_ENV
        shell:
            script(
                "detok.py",
                "reference --tokenized {input.tokenized:q} --lang {params.lang:q} --output {output:q}"
                " {params.raw:q} {params.lowercase:q} 2> {log:q}",
            )


rule evaluate:
    """Score one student's test translations; read its curve from Sockeye's metrics file."""
    input:
        done=P.student_done,
        hyp=P.student_test_hyp,
        ref=fill(P.text, corpus="base", split="test", lang=TRG),
        **({"detok_ref": DETOK_REFERENCE} if DETOK else {}),
    output:
        run=P.run,
        **({"detok": P.student_test_detok} if DETOK else {}),
    params:
        model_dir=student_dir,
        model=lambda wildcards: layout.student_model(student_of(wildcards)),
        tokenize=config["evaluation"]["bleu_tokenize"],
        detok=(lambda wildcards, input, output: ["--detok-ref", input.detok_ref, "--detok-output", output.detok,
                                                 "--lang", TRG]) if DETOK else [],
        format=evaluate.FORMAT,  # a new format of the run files writes them again
    log:
        log_path("evaluate", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "evaluate.py",
            "--hyp {input.hyp:q} --ref {input.ref:q} --model-dir {params.model_dir:q} --output {output.run:q}"
            " --tokenize {params.tokenize:q} --model {params.model:q} {params.detok:q} 2> {log:q}",
        )


# The paired bootstrap compares the metric that the tables show: on the BPE translations against the tokenized
# reference (bleu, chrf), or on the detokenized ones against the detokenized reference (bleu_detok): BOOTSTRAP_HYP
# and BOOTSTRAP_REF (rules/common.smk; the claims score the same files)
rule paired_bootstrap:
    """sacrebleu's paired bootstrap of one student against the {reference} dataset's student with the same
    architecture, dropout, budget and trial (evaluation.significance): the metric (evaluation.metric) of both
    and the p-value."""
    input:
        hyp=BOOTSTRAP_HYP,
        baseline=fill(BOOTSTRAP_HYP, dataset="{reference}"),
        ref=BOOTSTRAP_REF,
    output:
        P.significance,
    params:
        metric=METRIC,
        tokenize=config["evaluation"]["bleu_tokenize"],
        samples=config["evaluation"]["significance"]["samples"],
        seed=config["evaluation"]["significance"]["seed"],
        model=lambda wildcards: layout.student_model(student_of(wildcards)),
        baseline=lambda wildcards: layout.student_model(student_of(wildcards, dataset=wildcards.reference)),
        format=significance.FORMAT,  # a new format of the results writes them again
    log:
        log_path("paired_bootstrap", "reference", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "significance.py",
            "--hyp {input.hyp:q} --baseline-hyp {input.baseline:q} --ref {input.ref:q} --output {output:q}"
            " --metric {params.metric:q} --tokenize {params.tokenize:q} --samples {params.samples:q} --seed {params.seed:q}"
            " --model {params.model:q} --baseline-model {params.baseline:q} 2> {log:q}",
        )
