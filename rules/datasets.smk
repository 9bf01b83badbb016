# Stage 6 — datasets (§5, §6): each is the concatenation of its parts, both sides aligned. The student's BPE
# (rules/bpe.smk: its size's codes, learned on base data) is then applied to the de-BPE'd teacher output.


rule concat_dataset:
    """A dataset's training text: its parts (base, kd, best2, bt) one after the other, checked for alignment."""
    input:
        unpack(dataset_parts),
    output:
        src=fill(P.text, corpus="{dataset}", split="train", lang=SRC),
        trg=fill(P.text, corpus="{dataset}", split="train", lang=TRG),
    params:
        parts=lambda wildcards, input: [arg for s, t in zip(input.src, input.trg) for arg in ("--part", s, t)],
    log:
        log_path("concat_dataset", "dataset"),
    conda:
        WORKFLOW_ENV
    shell:
        script("concat.py", "{params.parts:q} --src-out {output.src:q} --trg-out {output.trg:q} 2> {log:q}")
