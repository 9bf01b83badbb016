# Stage 7 — students: one Sockeye training per (architecture, dataset, dropout, checkpoint budget, trial).
# Trial t trains with --seed t; the budget is --max-checkpoints; "nodropout" applies A.5.


rule train_student:
    """One student of the matrix (config: trials, tables); resumes from its last checkpoint if killed."""
    input:
        unpack(student_data),
    output:
        P.student_done,
    params:
        sockeye=SOCKEYE_PY,
        model_dir=lambda wildcards, output: output[0].removesuffix(".done.json"),
        flags=lambda wildcards: json.dumps(sc.student_flags(config, student_of(wildcards))),
        device=device,
    threads: THREADS
    resources:
        runtime=RUNTIME.get("train_student", 1440),
        mem_mb=16000,
    log:
        log_path("train_student", "architecture", "dataset", "dropout", "checkpoints", "trial"),
    benchmark:
        benchmark_path("train_student", "architecture", "dataset", "dropout", "checkpoints", "trial")
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "train_model.py",
            "--sockeye-python {params.sockeye} --model-dir {params.model_dir} --done {output}"
            " --source {input.source} --target {input.target} --validation-source {input.validation_source}"
            " --validation-target {input.validation_target} --flags {params.flags:q} --device {params.device}"
            " --threads {threads} 2> {log}",
        )
