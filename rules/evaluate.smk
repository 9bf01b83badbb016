# Stage 9 — evaluation: test BLEU (tokenized, beam 5) and chrF with their sacrebleu signatures, and the BPE
# train perplexity at the best checkpoint with the validation curve, one JSON per student.


rule evaluate:
    """Score one student's test translations; read its curve from Sockeye's metrics file."""
    input:
        done=P.student_done,
        hyp=P.student_test_hyp,
        ref=fill(P.text, corpus="base", split="test", lang=TRG),
    output:
        P.run,
    params:
        model_dir=student_dir,
        model=lambda wildcards: sc.student_model(student_of(wildcards)),
        tokenize=config["evaluation"]["bleu_tokenize"],
        format=evaluate.FORMAT,  # a new format of the run files writes them again
    log:
        log_path("evaluate", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "evaluate.py",
            "--hyp {input.hyp} --ref {input.ref} --model-dir {params.model_dir} --output {output}"
            " --tokenize {params.tokenize} --model {params.model} 2> {log}",
        )


rule paired_bootstrap:
    """sacrebleu's paired bootstrap of one student against the {reference} dataset's student with the same
    architecture, dropout, budget and trial (evaluation.significance): BLEU of both and the p-value."""
    input:
        hyp=P.student_test_hyp,
        baseline=fill(P.student_test_hyp, dataset="{reference}"),
        ref=fill(P.text, corpus="base", split="test", lang=TRG),
    output:
        P.significance,
    params:
        tokenize=config["evaluation"]["bleu_tokenize"],
        samples=config["evaluation"]["significance"]["samples"],
        seed=config["evaluation"]["significance"]["seed"],
        model=lambda wildcards: sc.student_model(student_of(wildcards)),
        baseline=lambda wildcards: sc.student_model(student_of(wildcards, dataset=wildcards.reference)),
        format=significance.FORMAT,  # a new format of the results writes them again
    log:
        log_path("paired_bootstrap", "reference", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "significance.py",
            "--hyp {input.hyp} --baseline-hyp {input.baseline} --ref {input.ref} --output {output}"
            " --tokenize {params.tokenize} --samples {params.samples} --seed {params.seed}"
            " --model {params.model} --baseline-model {params.baseline} 2> {log}",
        )
