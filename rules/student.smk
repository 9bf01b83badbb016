# Stage 7 — students: one Sockeye training per (architecture, dataset, dropout, checkpoint budget, trial).
# Trial t trains with --seed t; the budget is checkpoints x checkpoint-frequency updates (--max-updates);
# "nodropout" applies A.5.


rule train_student:
    """One student of the matrix (config: trials, tables); resumes from its last checkpoint if killed."""
    input:
        unpack(student_data),
    output:
        P.student_done,
    params:
        model_dir=student_dir,
        flags=lambda wildcards: json.dumps(training_flags.student_flags(config, student_of(wildcards))),
        **trainer_params(lambda wildcards: design.backend_of(config, wildcards.architecture)),
    threads: THREADS
    resources:
        **trainer_resources("train_student", mem_mb=16000),
    group:
        model_group(lambda wildcards: layout.student_model(student_of(wildcards)))
    log:
        log_path("train_student", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    benchmark:
        benchmark_path("train_student", "architecture", "dataset", "dropout", "checkpoints", "trial")
    conda:
        lambda wildcards: trainer_env(design.backend_of(config, wildcards.architecture))
    shell:
        TRAIN_MODEL
