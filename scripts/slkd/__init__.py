"""slkd: the workflow's library. The scripts that rules call (scripts/*.py) parse their arguments and call it; it
never imports them. One concern per module:

- settings, checks: the configuration as loaded and what the schema cannot check
- design: the experiment (students, teachers, parts, datasets, grid, claims); layout: every path and model name
- training_flags: each training's flags, traced to their keys; backends/: one module per trainer backend
- sockeye_jobs, supervise, model_lock, disk_space, gpu_check, gpu_monitor, trainer_check, sockeye_flags,
  torch_portable: running the trainers; formats: the files and log lines that Sockeye writes
- corpus_check: corpora line by line; results, verdict: run files and the claims' statistics; cost/: the estimate
"""
