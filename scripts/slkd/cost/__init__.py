"""The cost estimate of `snakemake cost` (scripts/cost.py; the model is described there), one concern per
module: sizes (of models), plan (the jobs and the corpus), rates (throughputs), estimate (each job costed),
usage (what a run used), report (CSV and Markdown)."""
