# Stage 10 — the paper's figures under results/figures/, from result files only (no retraining): each as PNG,
# PDF and the CSV of exactly the plotted series (scripts/figures.py).


rule figure1:
    """Figure 1: validation perplexity per checkpoint of Table 3's students, one panel per size/dropout
    setting, one line per dataset (mean over trials, band from min to max)."""
    input:
        lambda wildcards: runs_of_table("table3").values(),
    output:
        figure_outputs("fig1"),
    params:
        runs=lambda wildcards: " ".join(f"--run {key}={path}" for key, path in runs_of_table("table3").items()),
        datasets=" ".join(f"--dataset {name}" for name in config["tables"]["table3"]["datasets"]),
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure1"),
    conda:
        WORKFLOW_ENV
    shell:
        script("figures.py", "figure1 {params.runs} {params.datasets} --prefix {params.prefix} 2> {log}")
