# Stage 9 — the paper's tables under results/: CSV (every number and the per-trial values), Markdown, LaTeX.


rule table1:
    """Table 1: test BLEU per trial and average (rows: datasets)."""
    input:
        runs=lambda wildcards: runs_of_table("table1").values(),
        significance=lambda wildcards: significance_of_table("table1").values(),
    output:
        reported(table_outputs("table1"), "table1", "Tables"),
    params:
        args=lambda wildcards: table_args("table1"),
        prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
    log:
        log_path("table1"),
    conda:
        WORKFLOW_ENV
    shell:
        script("tables.py", "table1 {params.args} --prefix {params.prefix} 2> {log}")


rule table2:
    """Table 2: tokens and vocabulary of each dataset's target side."""
    input:
        lambda wildcards: expand(P.stats, corpus=sc.datasets_used(config)),
    output:
        reported(table_outputs("table2"), "table2", "Tables"),
    params:
        stats=lambda wildcards, input: " ".join(
            f"--stats {d}={s}" for d, s in zip(sc.datasets_used(config), input)
        ),
        lang=TRG,
        prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
    log:
        log_path("table2"),
    conda:
        WORKFLOW_ENV
    shell:
        script("tables.py", "table2 {params.stats} --lang {params.lang} --prefix {params.prefix} 2> {log}")


rule table3:
    """Table 3: mean ± sd of BLEU and BPE train perplexity per dataset and (architecture, dropout)."""
    input:
        runs=lambda wildcards: runs_of_table("table3").values(),
        significance=lambda wildcards: significance_of_table("table3").values(),
    output:
        reported(table_outputs("table3"), "table3", "Tables"),
    params:
        args=lambda wildcards: table_args("table3"),
        prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
    log:
        log_path("table3"),
    conda:
        WORKFLOW_ENV
    shell:
        script("tables.py", "table3 {params.args} --prefix {params.prefix} 2> {log}")
