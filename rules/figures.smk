# Stage 11 — the paper's figures under results/figures/, from result files only (no retraining): each as PNG,
# PDF and the CSV of exactly the plotted series (scripts/figures.py).


rule figure1:
    """Figure 1: validation perplexity per checkpoint of Table 3's students, one panel per size/dropout
    setting, one line per dataset (mean over trials, band from min to max)."""
    input:
        lambda wildcards: table_runs("table3"),
    output:
        reported(figure_outputs("fig1"), "fig1", "Figures"),
    params:
        datasets=[arg for name in config["tables"]["table3"]["datasets"] for arg in ("--dataset", name)],
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure1"),
    conda:
        WORKFLOW_ENV
    shell:
        script("figures.py", "figure1 --run {input:q} {params.datasets:q} --prefix {params.prefix:q} 2> {log:q}")


rule figure2:
    """Figure 2: the grid search (A.1), test BLEU against the number of parameters (from each model's Sockeye
    log), one marker per architecture trained on grid.dataset."""
    input:
        lambda wildcards: grid_runs("search"),
    output:
        reported(figure_outputs("fig2"), "fig2", "Figures"),
    params:
        dataset=config["grid"]["dataset"],
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure2"),
    conda:
        WORKFLOW_ENV
    shell:
        script("figures.py", "figure2 --run {input:q} --dataset {params.dataset:q} --prefix {params.prefix:q} 2> {log:q}")


rule figure3:
    """Figure 3: per grid.compare architecture, test BLEU on compare.dataset (base+kd) against grid.dataset
    (base), with the diagonal."""
    input:
        lambda wildcards: grid_runs("compare"),
    output:
        reported(figure_outputs("fig3"), "fig3", "Figures"),
    params:
        base=config["grid"]["dataset"],
        other=config["grid"].get("compare", {}).get("dataset", ""),
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure3"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "figures.py",
            "figure3 --run {input:q} --base {params.base:q} --other {params.other:q} --prefix {params.prefix:q} 2> {log:q}",
        )
