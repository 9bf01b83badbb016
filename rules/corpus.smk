# Stage 1 — corpora. Each source writes raw text; `prepare_corpus` checks it strictly (file and line named
# on any problem), tokenizes raw text, and cleans training pairs longer than corpus.max_len (and, with
# corpus.drop_eval_overlap, drops the training pairs that are dev or test pairs); `check_corpus`, the gate of
# every training, reports the evaluation pairs that occur in training.
#
# Every placeholder of a command is quoted (`:q`; a list's elements one by one) and options are lists of
# arguments, so that outdir and local corpus paths may hold spaces and non-ASCII letters.

# The prepared (checked, tokenized, cleaned) text of every split, {split: [source, target]}
BASE_TEXTS = {split: [fill(P.text, corpus="base", split=split, lang=lang) for lang in LANGS] for split in SPLITS}
# prepare_corpus.py's options for every split: Moses tokenization, lowercasing
PREPARE_FLAGS = [flag for flag, on in (("--tokenize", CORPUS["tokenize"]), ("--lowercase", CORPUS["lowercase"])) if on]


rule synthesize:
    """The embedded offline default: a synthetic German-like → English-like corpus (scripts/synth.py)."""
    output:
        expand(P.raw_synthetic, split=SPLITS, lang=["de", "en"]),
    params:
        outdir=lambda wildcards, output: str(Path(output[0]).parent),
        options=[
            arg
            for key, value in CORPUS.get("synthetic", {}).items()
            for arg in (f"--{key.replace('_', '-')}", str(value))
        ],
    log:
        log_path("synthesize"),
    conda:
        WORKFLOW_ENV
    shell:
        script("synth.py", "--outdir {params.outdir:q} {params.options:q} 2> {log:q}")


# corpus.ted.sha256 is a check, not a parameter: the job reads it from $SLKD_TED_SHA256 (common.smk), so adding
# or changing it reruns nothing; an archive that exists already is checked in common.smk's onstart.
rule download_ted:
    """TED multitarget (the paper's data), downloaded once from corpus.ted.url and checked against its sha256."""
    output:
        P.ted_archive,
    params:
        url=CORPUS.get("ted", {}).get("url", ""),
    log:
        log_path("download_ted"),
    resources:
        runtime=60,
    conda:
        WORKFLOW_ENV
    shell:
        script("ted.py", "download --url {params.url:q} --out {output:q} 2> {log:q}")


rule extract_ted:
    """The pair's tokenized (tok/, train tok.clean) or raw (raw/, when corpus.tokenize) train, dev and test1."""
    input:
        P.ted_archive,
    output:
        expand(P.raw_ted, split=SPLITS, lang=LANGS),
    params:
        outdir=lambda wildcards, output: str(Path(output[0]).parent),
        src=lambda wildcards: SRC,
        trg=lambda wildcards: TRG,
        kind="raw" if CORPUS["tokenize"] else "tok",
        splits=[
            arg
            for ours, theirs in {
                "train": "train",
                "dev": "dev",
                "test": "test1",
                **CORPUS.get("ted", {}).get("splits", {}),
            }.items()
            for arg in ("--split", f"{ours}={theirs}")
        ],
    log:
        log_path("extract_ted"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "ted.py",
            "extract --archive {input:q} --src {params.src:q} --trg {params.trg:q} --kind {params.kind:q}"
            " {params.splits:q} --outdir {params.outdir:q} 2> {log:q}",
        )


# corpus.max_line_chars reaches the job as $SLKD_MAX_LINE_CHARS (common.smk): a check that changes no output,
# so changing it reruns nothing. With corpus.drop_eval_overlap the train split also reads the prepared dev and
# test texts, whose pairs it drops (layout.drop_eval_texts): an option that depends on the wildcards alone, so that
# changing the key reruns train only; without it the inputs and the command are those of before.
rule prepare_corpus:
    """Check both sides (UTF-8, no control character, no empty or invisible line, equal counts, line length in
    tokens and characters), tokenize, clean train pairs (and drop those that are evaluation pairs, with
    corpus.drop_eval_overlap)."""
    input:
        unpack(
            lambda wildcards: {
                **raw_pair(wildcards),
                "evals": [path for pair in layout.drop_eval_texts(config, wildcards.split).values() for path in pair],
            }
        ),
    output:
        src=fill(P.text, corpus="base", lang=SRC),
        trg=fill(P.text, corpus="base", lang=TRG),
        report=P.prepare_report,
    params:
        src=lambda wildcards: SRC,
        trg=lambda wildcards: TRG,
        max_len=lambda wildcards: CORPUS["max_len"] if wildcards.split == "train" else 0,
        max_line_len=CORPUS["max_line_len"],
        options=lambda wildcards: PREPARE_FLAGS + layout.drop_eval_options(config, wildcards.split),
    log:
        log_path("prepare_corpus", "split"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "prepare_corpus.py",
            "--src-in {input.src:q} --trg-in {input.trg:q} --src-out {output.src:q} --trg-out {output.trg:q}"
            " --src-lang {params.src:q} --trg-lang {params.trg:q} --report {output.report:q}"
            " --max-len {params.max_len:q} --max-line-len {params.max_line_len:q} {params.options:q} 2> {log:q}",
        )


# The gate's word on evaluation pairs in training goes to its log and to the console (tee: the shell's pipefail
# keeps a failing gate a failure)
rule check_corpus:
    """The gate of every training: all splits checked (a failed split stops the trainings, keep-going or not);
    evaluation pairs that occur in training counted, named and warned about."""
    input:
        reports=expand(P.prepare_report, split=SPLITS),
        texts=[path for split in SPLITS for path in BASE_TEXTS[split]],
    output:
        P.corpus_checked,
    params:
        texts=[arg for split in SPLITS for arg in ("--text", split, *BASE_TEXTS[split])],
    log:
        log_path("check_corpus"),
    conda:
        WORKFLOW_ENV
    shell:
        script("corpus_gate.py", "--output {output:q} {params.texts:q} {input.reports:q} 2>&1 | tee {log:q} >&2")
