# Stage 10 — the paper's tables under results/: CSV (every number and the per-trial values), Markdown, LaTeX;
# and its claims (results/claims.{csv,md}), answered from the same files.
# Tables 1 and 3 are one definition (a rule each): the script keys the run and significance files by the
# coordinates each file names.


for paper_table in ("table1", "table3"):  # one definition, a rule each (`snakemake table3`)

    rule:
        """Table 1 or 3 (config `tables`): mean ± sd of BLEU and BPE train perplexity per dataset and
        (architecture, dropout), with each column's paired bootstrap against the baseline dataset."""
        name:
            paper_table
        input:
            runs=lambda wildcards, table=paper_table: table_runs(table),
            significance=lambda wildcards, table=paper_table: table_significance(table),
        output:
            reported(table_outputs(paper_table), paper_table, "Tables"),
        params:
            table=paper_table,
            spec=lambda wildcards, table=paper_table: table_spec(table),
            prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
        log:
            log_path(paper_table),
        conda:
            WORKFLOW_ENV
        shell:
            script(
                "tables.py",
                "{params.table:q} --run {input.runs:q} --significance {input.significance:q} --spec {params.spec:q}"
                " --prefix {params.prefix:q} 2> {log:q}",
            )


rule table2:
    """Table 2: tokens and vocabulary of each dataset's target side."""
    input:
        lambda wildcards: expand(P.stats, corpus=design.datasets_used(config)),
    output:
        reported(table_outputs("table2"), "table2", "Tables"),
    params:
        lang=TRG,
        prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
    log:
        log_path("table2"),
    conda:
        WORKFLOW_ENV
    shell:
        script("tables.py", "table2 --stats {input:q} --lang {params.lang:q} --prefix {params.prefix:q} 2> {log:q}")


if CLAIMS:  # (config `claims`)

    rule claims:
        """The paper's claims (config `claims`), each with its verdict over all its trials (supported,
        contradicted, undecided: a pooled paired bootstrap of the students' test translations), its effect and
        confidence interval, its numbers, the trials in which it holds and the paired bootstrap p-values."""
        localrule: True
        input:
            **claims_inputs(),
        output:
            reported(CLAIMS_OUTPUTS, "claims", "Tables"),
        params:
            spec=claims_spec(),
            prefix=lambda wildcards, output: output[0].removesuffix(".csv"),
            format=claims.FORMAT,  # a new format of the claims writes them again
        log:
            log_path("claims"),
        conda:
            WORKFLOW_ENV
        shell:
            script(
                "claims.py",
                "--run {input.runs:q} --hyp {input.hyps:q} --ref {input.ref:q} --significance {input.significance:q}"
                " --stats {input.stats:q} --spec {params.spec:q} --prefix {params.prefix:q} 2> {log:q}",
            )
