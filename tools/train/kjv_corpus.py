"""King James Bible corpus for the demo model: extraction, fixed split, character vocabulary.

Source: the Debian package `bible-kjv-text` (public-domain KJV text). It stores the text
compressed in /usr/lib/bible.data, a format only its reader `bible` (package `bible-kjv`,
which `bible-kjv-text` recommends) decodes; we call the reader once for the whole Bible
and re-layout its output:

    <Book> <chapter>\\n
    \\n
    <verse> <verse text>\\n          (one line per verse)
    ...
    \\n                              (blank line before the next chapter heading)

The layout is ASCII only (verified: 66 books, 1189 chapters, 31102 verses).

Split (fixed, by whole books): the held-out part is the last 16 books of the New
Testament (Colossians .. Revelation, about 5% of the characters); everything before it is
the training part. The held-out part is never trained on.
"""

import re
import subprocess

# The last books of the New Testament, held out in this order (the tail of the text).
HELDOUT_BOOKS = ["Colossians", "1 Thessalonians", "2 Thessalonians", "1 Timothy",
                 "2 Timothy", "Titus", "Philemon", "Hebrews", "James", "1 Peter",
                 "2 Peter", "1 John", "2 John", "3 John", "Jude", "Revelation"]

EXPECTED_BOOKS, EXPECTED_CHAPTERS, EXPECTED_VERSES = 66, 1189, 31102

HEADING = re.compile(r"^(\S.*) (\d+)$")
_VERSE = re.compile(r"^ *(\d+) (.*)$")


def read_reader_output(bible_cmd="bible"):
    """Run the `bible` reader for Gen 1:1 .. Rev 22:21, unwrapped (-l0); return its stdout."""
    try:
        out = subprocess.run([bible_cmd, "-l0", "gen1:1-rev22:21"], check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    except FileNotFoundError:
        raise SystemExit("error: the KJV reader `%s` is missing: apt-get install -y "
                         "bible-kjv-text bible-kjv" % bible_cmd)
    return out.stdout.decode("ascii")


def parse_books(reader_text):
    """Reader output -> [(book, [(chapter, [(verse, text), ...]), ...]), ...] (checked)."""
    books = []
    for lineno, line in enumerate(reader_text.split("\n"), 1):
        if not line.strip():
            continue
        m = HEADING.match(line)
        if m and not line.startswith(" "):
            book, chapter = m.group(1), int(m.group(2))
            if not books or books[-1][0] != book:
                books.append((book, []))
            books[-1][1].append((chapter, []))
            continue
        m = _VERSE.match(line)
        if not m or not books:
            raise ValueError("bible reader output, line %d: unexpected %r" % (lineno, line))
        books[-1][1][-1][1].append((int(m.group(1)), m.group(2).strip()))
    n_ch = sum(len(chs) for _, chs in books)
    n_v = sum(len(vs) for _, chs in books for _, vs in chs)
    if (len(books), n_ch, n_v) != (EXPECTED_BOOKS, EXPECTED_CHAPTERS, EXPECTED_VERSES):
        raise ValueError("bible reader output: %d books, %d chapters, %d verses; expected "
                         "%d, %d, %d" % (len(books), n_ch, n_v, EXPECTED_BOOKS,
                                         EXPECTED_CHAPTERS, EXPECTED_VERSES))
    return books


def format_book(book, chapters):
    """One book in the corpus layout (see module docstring)."""
    parts = []
    for chapter, verses in chapters:
        parts.append("%s %d\n\n" % (book, chapter))
        parts.extend("%d %s\n" % (v, text) for v, text in verses)
        parts.append("\n")
    return "".join(parts)


def load_split(bible_cmd="bible"):
    """Return (train_text, heldout_text): the fixed split by whole books."""
    books = parse_books(read_reader_output(bible_cmd))
    names = [b for b, _ in books]
    k = len(names) - len(HELDOUT_BOOKS)
    if names[k:] != HELDOUT_BOOKS:
        raise ValueError("bible reader output: last books are %s, expected %s"
                         % (names[k:], HELDOUT_BOOKS))
    train = "".join(format_book(b, chs) for b, chs in books[:k])
    heldout = "".join(format_book(b, chs) for b, chs in books[k:])
    return train, heldout


# --------------------------------------------------------------------------- vocabulary

_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r", " ": "\\s", "\\": "\\\\"}
_UNESCAPES = {v: k for k, v in _ESCAPES.items()}


def escape_symbol(ch):
    """vocab.txt spelling of one character: \\n \\t \\r \\s \\\\ or \\u{HEX} for other
    whitespace/control characters; every other character stands for itself."""
    if ch in _ESCAPES:
        return _ESCAPES[ch]
    if ch.isspace() or not ch.isprintable():
        return "\\u{%X}" % ord(ch)
    return ch


def unescape_symbol(s):
    if s in _UNESCAPES:
        return _UNESCAPES[s]
    if s.startswith("\\u{") and s.endswith("}"):
        return chr(int(s[3:-1], 16))
    if len(s) != 1 or s == "\\":
        raise ValueError("vocab.txt: bad symbol line %r" % s)
    return s


def build_vocab(text):
    """Sorted list of the distinct characters of `text` (id = index)."""
    return sorted(set(text))


def write_vocab(path, symbols):
    with open(path, "w", encoding="utf-8", newline="\n") as f:
        for ch in symbols:
            f.write(escape_symbol(ch) + "\n")


def read_vocab(path):
    with open(path, encoding="utf-8", newline="\n") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    symbols = [unescape_symbol(s) for s in lines]
    if len(set(symbols)) != len(symbols):
        raise ValueError("%s: duplicate symbols" % path)
    return symbols


def encode(text, symbols):
    index = {ch: i for i, ch in enumerate(symbols)}
    try:
        return [index[ch] for ch in text]
    except KeyError as e:
        raise ValueError("character %r is not in the vocabulary" % e.args[0])
