# Stage 3 — statistics: lines, tokens and vocabulary (types) per side of a corpus's training text (Table 2).


rule corpus_stats:
    """Tokens and distinct tokens of each side of a corpus's training text, as TSV."""
    input:
        src=fill(P.text, split="train", lang=SRC),
        trg=fill(P.text, split="train", lang=TRG),
    output:
        P.stats,
    log:
        log_path("corpus_stats", "corpus"),
    shell:
        "{PY} {SCRIPTS}/corpus_stats.py --corpus {wildcards.corpus} --file {SRC}={input.src}"
        " --file {TRG}={input.trg} --output {output} 2> {log}"
