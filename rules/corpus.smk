# Stage 1 — corpora. Each source writes raw text; `prepare_corpus` checks it strictly (file and line named
# on any problem), tokenizes raw text, and cleans training pairs longer than corpus.max_len.


rule synthesize:
    """The embedded offline default: a synthetic German-like → English-like corpus (scripts/synth.py)."""
    output:
        expand(P.raw_synthetic, split=SPLITS, lang=["de", "en"]),
    params:
        outdir=lambda wildcards, output: str(Path(output[0]).parent),
        options=" ".join(
            f"--{key.replace('_', '-')} {value}"
            for key, value in CORPUS.get("synthetic", {}).items()
        ),
    log:
        log_path("synthesize"),
    conda:
        WORKFLOW_ENV
    shell:
        script("synth.py", "--outdir {params.outdir} {params.options} 2> {log}")


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
        script("ted.py", "download --url {params.url:q} --out {output} 2> {log}")


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
        splits=" ".join(
            f"--split {ours}={theirs}"
            for ours, theirs in {
                "train": "train",
                "dev": "dev",
                "test": "test1",
                **CORPUS.get("ted", {}).get("splits", {}),
            }.items()
        ),
    log:
        log_path("extract_ted"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "ted.py",
            "extract --archive {input} --src {params.src} --trg {params.trg} --kind {params.kind}"
            " {params.splits} --outdir {params.outdir} 2> {log}",
        )


# corpus.max_line_chars reaches the job as $SLKD_MAX_LINE_CHARS (common.smk): a check that changes no output,
# so changing it reruns nothing
rule prepare_corpus:
    """Check both sides (UTF-8, no empty or invisible line, equal counts, line length in tokens and characters),
    tokenize, clean train pairs."""
    input:
        unpack(raw_pair),
    output:
        src=fill(P.text, corpus="base", lang=SRC),
        trg=fill(P.text, corpus="base", lang=TRG),
        report=P.prepare_report,
    params:
        src=lambda wildcards: SRC,
        trg=lambda wildcards: TRG,
        max_len=lambda wildcards: CORPUS["max_len"] if wildcards.split == "train" else 0,
        max_line_len=CORPUS["max_line_len"],
        options=" ".join(
            flag
            for flag, on in (
                ("--tokenize", CORPUS["tokenize"]),
                ("--lowercase", CORPUS["lowercase"]),
            )
            if on
        ),
    log:
        log_path("prepare_corpus", "split"),
    conda:
        WORKFLOW_ENV
    shell:
        script(
            "prepare_corpus.py",
            "--src-in {input.src:q} --trg-in {input.trg:q} --src-out {output.src} --trg-out {output.trg}"
            " --src-lang {params.src} --trg-lang {params.trg} --report {output.report}"
            " --max-len {params.max_len} --max-line-len {params.max_line_len} {params.options} 2> {log}",
        )


rule check_corpus:
    """The gate of every training: all splits checked (a failed split stops the trainings, keep-going or not)."""
    input:
        expand(P.prepare_report, split=SPLITS),
    output:
        P.corpus_checked,
    log:
        log_path("check_corpus"),
    conda:
        WORKFLOW_ENV
    shell:
        script("corpus_gate.py", "--output {output} {input} 2> {log}")
