# Stage 3 — statistics: lines, tokens and vocabulary (types) per side of a corpus's training text (Table 2).


rule corpus_stats:
    """Tokens and distinct tokens of each side of a corpus's training text, as TSV."""
    input:
        src=fill(P.text, split="train", lang=SRC),
        trg=fill(P.text, split="train", lang=TRG),
    output:
        P.stats,
    params:
        src=lambda wildcards: SRC,
        trg=lambda wildcards: TRG,
    log:
        log_path("corpus_stats", "corpus"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "corpus_stats.py",
            "--corpus {wildcards.corpus:q} --file {params.src:q}={input.src:q} --file {params.trg:q}={input.trg:q}"
            " --output {output:q} 2> {log:q}",
        )
