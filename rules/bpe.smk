# Stage 2 — BPE (subword-nmt). Codes per (language, size) are learned on the base training text; every
# corpus a model reads is encoded with its size's codes. De-BPE (scripts/bpe.py) is the exact inverse.


rule learn_bpe:
    """`size` merge operations on the base training text of one language."""
    input:
        fill(P.text, corpus="base", split="train"),
    output:
        P.bpe_codes,
    log:
        log_path("learn_bpe", "lang", "size"),
    benchmark:
        benchmark_path("learn_bpe", "lang", "size")
    resources:
        runtime=120,
    conda:
        WORKFLOW_ENV
    shell:
        script("bpe.py", "learn --size {wildcards.size:q} --input {input:q} --codes {output:q} 2> {log:q}")


rule apply_bpe:
    """One corpus split, one language, segmented with the codes of one size."""
    input:
        text=P.text,
        codes=P.bpe_codes,
    output:
        P.bpe_text,
    log:
        log_path("apply_bpe", "size", "corpus", "split", "lang"),
    conda:
        WORKFLOW_ENV
    shell:
        script("bpe.py", "apply --codes {input.codes:q} --input {input.text:q} --output {output:q} 2> {log:q}")
