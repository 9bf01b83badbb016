"""The size of a model from its flags: Sockeye 1.18's RNNs and Sockeye 3.1.34's Transformers, their weights
per target token (what their time per token scales with) and the parameter count that each Sockeye logs.
"""

from __future__ import annotations

from typing import Any

GATES = {"lstm": 4, "lnlstm": 4, "lnglstm": 4, "gru": 3, "lngru": 3, "lnggru": 3}  # Sockeye 1.18's CELL_TYPES
SPECIALS = 4  # Sockeye's <pad>, <unk>, <s>, </s>

def rnn_weights_per_token(arch: dict[str, Any]) -> int:
    """Multiply-adds per target token of Sockeye 1.18's RNN model (`--encoder rnn --decoder rnn`, dot
    attention), with as many source as target tokens: the bidirectional first encoder layer (h/2 per direction),
    further encoder and decoder layers, the first decoder layer (input: embedding + previous attentional
    state), the attentional hidden layer (h x 2h) and the output layer (vocabulary x h). Embeddings are lookups,
    biases and the attention's dot products (S x h) are left out."""
    gates, embed, hidden = GATES[arch["rnn-cell-type"]], arch["num-embed"], arch["rnn-num-hidden"]
    layers, vocab, half = arch["num-layers"], arch["num-words"] + SPECIALS, arch["rnn-num-hidden"] // 2
    deeper = (layers - 1) * gates * hidden * 2 * hidden
    encoder = 2 * gates * half * (embed + half) + deeper
    decoder = gates * hidden * (embed + hidden) + gates * hidden * hidden + deeper + hidden * 2 * hidden
    return encoder + decoder + vocab * hidden


def rnn_parameters(arch: dict[str, Any], source_vocab: int | None = None, target_vocab: int | None = None) -> int:
    """Sockeye 1.18's `Total # of parameters` of that RNN model (vocabularies: num-words + 4 unless given)."""
    gates, embed, hidden = GATES[arch["rnn-cell-type"]], arch["num-embed"], arch["rnn-num-hidden"]
    layers, half = arch["num-layers"], arch["rnn-num-hidden"] // 2
    src = source_vocab if source_vocab is not None else arch["num-words"] + SPECIALS
    trg = target_vocab if target_vocab is not None else arch["num-words"] + SPECIALS

    def cell(inputs: int, size: int) -> int:
        return gates * size * (inputs + size) + 2 * gates * size

    encoder = 2 * cell(embed, half) + (layers - 1) * cell(hidden, hidden)
    decoder = cell(embed + hidden, hidden) + (layers - 1) * cell(hidden, hidden)
    states = 2 if GATES[arch["rnn-cell-type"]] == 4 else 1  # LSTMs initialise h and c from the encoder
    init = layers * states * (hidden * hidden + hidden)
    return (src + trg) * embed + encoder + decoder + init + hidden * 2 * hidden + hidden + trg * hidden + trg


# ---- Model size: Sockeye 3.1.34's Transformers (backend sockeye3) -----------------------------------------------
# Sockeye 3.1.34's defaults of the flags that shape a Transformer (sockeye/arguments.py); num-embed defaults to
# (and must equal) transformer-model-size.
TRANSFORMER_DEFAULTS: dict[str, Any] = {
    "num-layers": "6:6", "transformer-model-size": "512:512", "transformer-attention-heads": "8:8",
    "transformer-feed-forward-num-hidden": "2048:2048", "transformer-feed-forward-use-glu": False,
    "transformer-activation-type": "relu:relu", "transformer-positional-embedding-type": "fixed",
    "transformer-preprocess": "n:n", "transformer-postprocess": "dr:dr", "weight-tying-type": "src_trg_softmax",
    "pad-vocab-to-multiple-of": 8, "decoder": "transformer", "lhuc": "",
}
TRANSFORMER_PAIRS = ("num-layers", "transformer-model-size", "transformer-attention-heads",
                     "transformer-feed-forward-num-hidden", "transformer-activation-type", "transformer-preprocess",
                     "transformer-postprocess")  # "E:D" (or one value for both sides)
TRANSFORMER_KEYS = ("num-words", *TRANSFORMER_DEFAULTS)  # the flags that make a Transformer's speed and size
DEFAULT_MAX_SEQ_LEN = "95:95"  # Sockeye 3's --max-seq-len; its positional embeddings have one row more

def sides(value: Any, kind: type = int) -> tuple[Any, Any]:
    """(encoder, decoder) of a Sockeye 3 "E:D" flag value; one value stands for both."""
    text = str(value)
    first, _, second = text.partition(":")
    return kind(first), kind(second or first)


def transformer(flags: dict[str, Any]) -> dict[str, Any]:
    """A Transformer's shape: its flags among TRANSFORMER_KEYS with Sockeye 3's defaults filled in, pairs as
    (encoder, decoder) tuples, and `max-seq-len` (used for the positional embeddings only)."""
    shape = {**TRANSFORMER_DEFAULTS, **{k: v for k, v in flags.items() if k in TRANSFORMER_KEYS}}
    for key in TRANSFORMER_PAIRS:
        shape[key] = sides(shape[key], int if key in TRANSFORMER_PAIRS[:4] else str)
    shape["num-words"] = int(flags["num-words"])
    shape["transformer-feed-forward-use-glu"] = shape["transformer-feed-forward-use-glu"] in (True, "true", "True")
    shape["pad-vocab-to-multiple-of"] = int(shape["pad-vocab-to-multiple-of"] or 1)
    shape["max-seq-len"] = sides(flags.get("max-seq-len", DEFAULT_MAX_SEQ_LEN))
    embed = flags.get("num-embed")
    if embed is not None and sides(embed) != shape["transformer-model-size"]:
        raise ValueError(f"num-embed {embed} differs from transformer-model-size: Sockeye 3 refuses that")
    return shape


def padded_vocabulary(words: int, multiple: int) -> int:
    """Sockeye 3's vocabulary of a side: num-words types (BPE gives at least that many) + 4 specials, padded to
    a multiple of pad-vocab-to-multiple-of."""
    size = words + SPECIALS
    return size + (-size) % multiple


def transformer_layers(shape: dict[str, Any]) -> tuple[int, int]:
    """Weights (multiply-adds per token) of one encoder and one decoder layer: attention projections and the
    feed-forward block (with GLU a second input projection)."""
    (d_enc, d_dec), (ff_enc, ff_dec) = shape["transformer-model-size"], shape["transformer-feed-forward-num-hidden"]
    inputs = 2 if shape["transformer-feed-forward-use-glu"] else 1
    self_attention = 4 * d_dec * d_dec if shape["decoder"] == "transformer" else 2 * d_dec * d_dec  # SSRU: 2 d^2
    encoder = 4 * d_enc * d_enc + (inputs + 1) * d_enc * ff_enc
    decoder = self_attention + 2 * d_dec * d_dec + 2 * d_dec * d_enc + (inputs + 1) * d_dec * ff_dec
    return encoder, decoder


def transformer_weights_per_token(flags: dict[str, Any]) -> int:
    """Multiply-adds per target token of a Sockeye 3 Transformer, with as many source as target tokens: every
    encoder and decoder layer's projections (self-attention, encoder attention: queries, keys/values of the
    source, output; feed-forward) and the output layer (padded vocabulary x model size). Embeddings are lookups;
    biases, layer norms and the attention's dot products are left out."""
    shape = transformer(flags)
    (enc_layers, dec_layers), (_, d_dec) = shape["num-layers"], shape["transformer-model-size"]
    encoder, decoder = transformer_layers(shape)
    vocab = padded_vocabulary(shape["num-words"], shape["pad-vocab-to-multiple-of"])
    return enc_layers * encoder + dec_layers * decoder + vocab * d_dec


def transformer_parameters(flags: dict[str, Any], source_vocab: int | None = None,
                           target_vocab: int | None = None) -> int:
    """Sockeye 3.1.34's `# of parameters` (the total: fixed positional embeddings included, tied weights once) of
    a Transformer given its sockeye.train flags (architecture and training flags: max-seq-len sizes the
    positional embeddings). Vocabularies: num-words + 4, padded (pad-vocab-to-multiple-of), unless given."""
    shape = transformer(flags)
    (enc_layers, dec_layers), (d_enc, d_dec) = shape["num-layers"], shape["transformer-model-size"]
    (ff_enc, ff_dec) = shape["transformer-feed-forward-num-hidden"]
    (pre_enc, pre_dec), (post_enc, post_dec) = shape["transformer-preprocess"], shape["transformer-postprocess"]
    glu = shape["transformer-feed-forward-use-glu"]
    padded = padded_vocabulary(shape["num-words"], shape["pad-vocab-to-multiple-of"])
    src = source_vocab if source_vocab is not None else padded
    trg = target_vocab if target_vocab is not None else padded
    lhuc = set(str(shape["lhuc"] or "").split())

    def norm(sequence: str, size: int) -> int:  # a pre/post-process block: a layer norm where it has `n`
        return 2 * size if "n" in sequence else 0

    def feed_forward(size: int, hidden: int) -> int:  # ff1 (+ the GLU's linear) and ff2, with biases
        return (2 if glu else 1) * (size * hidden + hidden) + hidden * size + size

    if shape["decoder"] == "transformer":  # ff_in (queries, keys, values) and ff_out
        self_attention = 4 * d_dec * d_dec
    else:  # ssru_transformer: the SSRU's forget gate (with bias) and linear map
        self_attention = 2 * d_dec * d_dec + d_dec
    encoder_layer = (4 * d_enc * d_enc + feed_forward(d_enc, ff_enc)
                     + 2 * (norm(pre_enc, d_enc) + norm(post_enc, d_enc)) + (d_enc if lhuc & {"encoder", "all"} else 0))
    decoder_layer = (self_attention + 2 * d_dec * d_dec + 2 * d_dec * d_enc + feed_forward(d_dec, ff_dec)
                     + 3 * (norm(pre_dec, d_dec) + norm(post_dec, d_dec)) + (d_dec if lhuc & {"decoder", "all"} else 0))
    tying = shape["weight-tying-type"]
    embeddings = src * d_enc + (0 if "src" in tying and "trg" in tying else trg * d_dec)
    output = (0 if "softmax" in tying else trg * d_dec) + trg
    positions = 0
    if shape["transformer-positional-embedding-type"] in ("fixed", "learned"):
        (len_src, len_trg) = shape["max-seq-len"]
        positions = (len_src + 1) * d_enc + (len_trg + 1) * d_dec
    return (embeddings + positions + enc_layers * encoder_layer + norm(pre_enc, d_enc)
            + dec_layers * decoder_layer + norm(pre_dec, d_dec) + output)


def transformer_name(flags: dict[str, Any]) -> str:
    """A readable key of a Transformer's shape, e.g. `s3-bpe300-l1-m32-a2-ff64`: BPE size, layers, model size,
    heads, feed-forward size ("E:D" where the sides differ), then every other TRANSFORMER_KEYS flag that is not
    Sockeye 3's default."""
    shape = transformer(flags)

    def text(key: str) -> str:
        value = shape[key]
        if not isinstance(value, tuple):
            return str(value).lower() if isinstance(value, bool) else str(value)
        return str(value[0]) if value[0] == value[1] else ":".join(map(str, value))

    name = (f"s3-bpe{shape['num-words']}-l{text('num-layers')}-m{text('transformer-model-size')}"
            f"-a{text('transformer-attention-heads')}-ff{text('transformer-feed-forward-num-hidden')}")
    defaults = transformer({"num-words": 1})
    extras = [f"{key.removeprefix('transformer-')}={text(key)}" for key in TRANSFORMER_DEFAULTS
              if key not in TRANSFORMER_PAIRS[:4] and shape[key] != defaults[key]]
    return "-".join([name, *extras])


