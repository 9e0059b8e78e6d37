#!/usr/bin/env python3
"""Real word lists for the search benchmark: the 20,000 most frequent English and Chinese words, in
order of frequency, from wordfreq's tables (PyPI; word frequencies measured over real text: web,
subtitles, news, books, Wikipedia…). The built-in vocabulary of tests/support/history.rs makes its
rarer English words out of 30 syllables, so every trigram of every word is common and a rare word
costs the trigram index as much as a common one; real words do not.

Usage: vocab.py OUT_DIR   (writes OUT_DIR/en.txt and OUT_DIR/zh.txt, one word a line)
Needs pip and PyPI (the wheel, ~57 MB, and msgpack are fetched into OUT_DIR/.pip once)."""
import gzip
import os
import re
import subprocess
import sys
import zipfile

WORDS = 20_000
WORDFREQ = "wordfreq==3.1.1"
MSGPACK = "msgpack==1.2.4"


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    out = sys.argv[1]
    if all(os.path.exists(os.path.join(out, f"{lang}.txt")) for lang in ("en", "zh")):
        return
    pip = os.path.join(out, ".pip")
    os.makedirs(pip, exist_ok=True)
    run = lambda *args: subprocess.run([sys.executable, "-m", "pip", "-q", *args], check=True)
    if not any(f.startswith("wordfreq-") for f in os.listdir(pip)):
        run("download", "--no-deps", "-d", pip, WORDFREQ)
    if not os.path.isdir(os.path.join(pip, "msgpack")):
        run("install", "--no-deps", "--target", pip, MSGPACK)
    sys.path.insert(0, pip)
    import msgpack

    wheel = next(os.path.join(pip, f) for f in os.listdir(pip) if f.startswith("wordfreq-"))
    keep = {"en": re.compile(r"[a-z]+"), "zh": re.compile(r"[\u4e00-\u9fff]+")}
    with zipfile.ZipFile(wheel) as z:
        for lang, pattern in keep.items():
            # cBpack: a header, then buckets of words, most frequent first.
            table = msgpack.unpackb(gzip.decompress(z.read(f"wordfreq/data/large_{lang}.msgpack.gz")), raw=False)
            words = [w for bucket in table[1:] for w in bucket if pattern.fullmatch(w)][:WORDS]
            if len(words) < WORDS:
                sys.exit(f"vocab.py: only {len(words)} {lang} words")
            with open(os.path.join(out, f"{lang}.txt.part"), "w", encoding="utf-8") as f:
                f.write("\n".join(words) + "\n")
            os.replace(os.path.join(out, f"{lang}.txt.part"), os.path.join(out, f"{lang}.txt"))


if __name__ == "__main__":
    main()
