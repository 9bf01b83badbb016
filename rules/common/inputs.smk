# Input functions: what each job reads, derived from its wildcards and the configuration (paths: P).


def raw_pair(wildcards):
    """Both sides of one split as obtained from the configured source, before any check (but a local file
    that is missing, a directory or unreadable stops the planning, naming its key and path)."""
    source = CORPUS["source"]
    if source == "local":
        local = CORPUS["local"][wildcards.split]
        for side in ("src", "trg"):
            try:
                corpus_check.check_file(local[side])
            except corpus_check.CorpusError as err:
                raise WorkflowError(f"corpus.local.{wildcards.split}.{side}: {err}")
        return {"src": local["src"], "trg": local["trg"]}
    pattern = P.raw_synthetic if source == "synthetic" else P.raw_ted
    return {
        "src": fill(pattern, split=wildcards.split, lang=SRC),
        "trg": fill(pattern, split=wildcards.split, lang=TRG),
    }


def langs_of(direction):
    """(input language, output language) of a teacher direction such as `de-en`."""
    source, target = direction.split("-")
    return source, target


def teacher_data(wildcards):
    """A teacher's BPE training and validation files (the teacher architecture's size, base corpus); any member of
    an ensemble trains on the same."""
    source, target = langs_of(layout.parse_model(teacher_member(wildcards))["direction"])
    bpe = lambda split, lang: fill(P.bpe_text, size=TEACHER_SIZE, corpus="base", split=split, lang=lang)
    return {
        "source": bpe("train", source),
        "target": bpe("train", target),
        "validation_source": bpe("dev", source),
        "validation_target": bpe("dev", target),
        "checked": P.corpus_checked,
    }


def student_of(wildcards, dataset=None):
    """The student of a rule's wildcards (`dataset`: the same student on another dataset)."""
    return design.Student(
        wildcards.architecture,
        dataset or wildcards.dataset,
        design.parse_dropout(wildcards.dropout),
        int(wildcards.checkpoints),
        int(wildcards.trial),
    )


def student_data(wildcards):
    """A student's BPE training data (its dataset) and validation data (base dev), at its size."""
    size = design.architecture(config, wildcards.architecture)["num-words"]
    bpe = lambda corpus, split, lang: fill(P.bpe_text, size=size, corpus=corpus, split=split, lang=lang)
    return {
        "source": bpe(wildcards.dataset, "train", SRC),
        "target": bpe(wildcards.dataset, "train", TRG),
        "validation_source": bpe("base", "dev", SRC),
        "validation_target": bpe("base", "dev", TRG),
        "checked": P.corpus_checked,
    }


def model_folder(model):
    """The Sockeye folder of a model name (layout.TEACHER or layout.STUDENT filled in); never a declared output (see
    scripts/train_model.py)."""
    return fill(P.model_dir, model=model)


def model_folders(model):
    """The Sockeye folders of a model name, as a list: its own, or an ensemble's members' (translate.py's
    --model-dir takes them all)."""
    return [model_folder(m) for m in layout.decoding_members(config, model)]


def model_dir(wildcards):
    """The Sockeye folder(s) of a `{model}` (model_folders)."""
    return model_folders(wildcards.model)


def model_done(wildcards):
    """The completion file of a `{model}`'s training; an ensemble's: its members'."""
    return [fill(P.model_done, model=m) for m in layout.decoding_members(config, wildcards.model)]


def teacher_dir(wildcards):
    """The Sockeye folder of the `{direction}` teacher (member 1 of an ensemble)."""
    return model_folder(layout.teacher_model(wildcards.direction))


def distilling_dir(wildcards):
    """The Sockeye folder(s) that decode for the `{direction}` teacher: the teacher's, or its ensemble's members'
    (teacher.ensemble), as a list."""
    return model_folders(layout.distilling_model(config, wildcards.direction))


def teacher_members_done(wildcards):
    """The completion files of the `{direction}` teacher's members (one: the teacher's)."""
    return [fill(P.model_done, model=m) for m in layout.member_models(config, wildcards.direction)]


def distilling_hyp(pattern):
    """An input function: `pattern` (P.test_hyp, P.dev_hyp) of the model that decodes for `{direction}`."""
    return lambda wildcards: fill(pattern, model=layout.distilling_model(config, wildcards.direction))


def member_hyps(pattern):
    """An input function: `pattern` (P.test_hyp, P.dev_hyp) of each member of the `{direction}` teacher."""
    return lambda wildcards: [fill(pattern, model=m) for m in layout.member_models(config, wildcards.direction)]


def member_options(wildcards, input):
    """scripts/evaluate.py's options for an ensemble's members: the mode, then per member its name, folder, test
    and dev translations."""
    models = layout.member_models(config, wildcards.direction)
    options = ["--ensemble-mode", ENSEMBLE_MODE]
    for model, test, dev in zip(models, input.member_hyps, input.member_dev_hyps, strict=True):
        options += ["--member", model, model_folder(model), test, dev]
    return options


def teacher_member(wildcards):
    """The `{model}` name of train_teacher's `{teacher}`: `teacher/de-en` (member 1), `teacher/de-en.m2`."""
    return fill(layout.TEACHERS, teacher=wildcards.teacher)


def student_dir(wildcards):
    """The Sockeye folder of the student of these wildcards."""
    return model_folder(layout.student_model(student_of(wildcards)))


def bpe_source(model, split):
    """The BPE source of `split` that a `{model}` translates: its size, its input language."""
    info = layout.parse_model(model)
    if info["kind"] != "student":  # a teacher, a member of its ensemble, the ensemble
        return fill(P.bpe_text, size=TEACHER_SIZE, corpus="base", split=split, lang=langs_of(info["direction"])[0])
    size = design.architecture(config, info["architecture"])["num-words"]
    return fill(P.bpe_text, size=size, corpus="base", split=split, lang=SRC)


def test_source(wildcards):
    return bpe_source(wildcards.model, "test")


def dev_source(wildcards):
    return bpe_source(wildcards.model, "dev")


def part_files(part, lang):
    """One side of a dataset part: the real bitext (base) or a part of the table (config `parts`)."""
    if part == design.BASE:
        return fill(P.text, corpus="base", split="train", lang=lang)
    return fill(P.distill_part, direction=design.part_direction(config, PARTS[part]), part=part, lang=lang)


def gather_inputs(wildcards):
    """A part's teacher's shards (inputs and JSON outputs, in order), the word-level sentences it translated
    and, for an oracle part, the real other side."""
    part, direction = PARTS[wildcards.part], wildcards.direction
    if design.part_direction(config, part) != direction:
        raise WorkflowError(f"part {part.name} is written by the {part.teacher} teacher, not by {direction}")
    source, target = langs_of(direction)
    inputs = {
        "shards_in": expand(P.shard_in, direction=direction, shard=SHARDS),
        "shards_out": expand(P.shard_out, direction=direction, shard=SHARDS),
        "words": fill(P.text, corpus="base", split="train", lang=source),
    }
    if part.hypothesis == design.ORACLE:
        inputs["reference"] = fill(P.text, corpus="base", split="train", lang=target)
    return inputs


def gather_options(wildcards, input):
    """scripts/distill.py gather's options for one part: its shards, languages, hypothesis, reference."""
    source, target = langs_of(wildcards.direction)
    options = [arg for i, o in zip(input.shards_in, input.shards_out) for arg in ("--shard", i, o)]
    options += ["--input", input.words, "--input-lang", source, "--hyp-lang", target,
                "--part", f"{wildcards.part}:{PARTS[wildcards.part].hypothesis}"]
    if "reference" in input.keys():
        options += ["--reference", input.reference]
    return options


# Cross-entropy filtering (config `parts`: a part with `filter`): the filtered part's pairs, in the scoring
# teacher's BPE, scored by that teacher (the other direction's), less the worst share.
FILTERED = [name for name, part in PARTS.items() if part.filtered]
UNFILTERED = [name for name in PARTS if name not in FILTERED]


def filter_source(wildcards):
    """The part that a filtered part filters, as a Part."""
    return PARTS[PARTS[wildcards.part].filtered]


def score_inputs(wildcards):
    """What scores the pairs of a part that some filtered part filters: the teacher of the other direction
    (after its BLEU floor), reading the part's hypotheses and scoring the real sentences, both in its BPE."""
    part = PARTS[wildcards.part]
    real, hyp = langs_of(wildcards.direction)
    scorer = design.filter_scorer(config, part)
    return {
        "done": fill(P.teacher_done, direction=scorer),
        "score": ancient(fill(P.teacher_score, direction=scorer)),  # the floor's gate, as in rule distill
        "source": fill(P.part_bpe, lang=hyp),
        "target": fill(P.part_bpe, lang=real),
    }


def filter_inputs(wildcards):
    """A filtered part's source part (both sides) and the scores of its pairs."""
    source = filter_source(wildcards)
    part = PARTS[wildcards.part]
    return {
        "src": part_files(source.name, SRC),
        "trg": part_files(source.name, TRG),
        "scores": fill(P.part_scores, direction=wildcards.direction, part=source.name, normalize=part.normalize),
    }


def dataset_parts(wildcards):
    parts = config["datasets"][wildcards.dataset]
    return {"src": [part_files(p, SRC) for p in parts], "trg": [part_files(p, TRG) for p in parts]}
