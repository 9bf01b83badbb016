# Stage 10 — the paper's figures under results/figures/, from result files only (no retraining): each as PNG,
# PDF and the CSV of exactly the plotted series (scripts/figures.py).


rule figure1:
    """Figure 1: validation perplexity per checkpoint of Table 3's students, one panel per size/dropout
    setting, one line per dataset (mean over trials, band from min to max)."""
    input:
        lambda wildcards: runs_of_table("table3").values(),
    output:
        reported(figure_outputs("fig1"), "fig1", "Figures"),
    params:
        runs=lambda wildcards: run_options(runs_of_table("table3")),
        datasets=" ".join(f"--dataset {name}" for name in config["tables"]["table3"]["datasets"]),
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure1"),
    conda:
        WORKFLOW_ENV
    shell:
        script("figures.py", "figure1 {params.runs} {params.datasets} --prefix {params.prefix} 2> {log}")


rule figure2:
    """Figure 2: the grid search (A.1), test BLEU against the number of parameters (from each model's Sockeye
    log), one marker per architecture trained on grid.dataset."""
    input:
        lambda wildcards: runs_of_grid("search").values(),
    output:
        reported(figure_outputs("fig2"), "fig2", "Figures"),
    params:
        runs=lambda wildcards: run_options(runs_of_grid("search")),
        dataset=config["grid"]["dataset"],
        prefix=lambda wildcards, output: output[0].removesuffix(".png"),
    log:
        log_path("figure2"),
    conda:
        WORKFLOW_ENV
    shell:
        script("figures.py", "figure2 {params.runs} --dataset {params.dataset} --prefix {params.prefix} 2> {log}")


rule figure3:
    """Figure 3: per grid.compare architecture, test BLEU on compare.dataset (base+kd) against grid.dataset
    (base), with the diagonal."""
    input:
        lambda wildcards: runs_of_grid("compare").values(),
    output:
        reported(figure_outputs("fig3"), "fig3", "Figures"),
    params:
        runs=lambda wildcards: run_options(runs_of_grid("compare")),
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
            "figure3 {params.runs} --base {params.base} --other {params.other} --prefix {params.prefix} 2> {log}",
        )
