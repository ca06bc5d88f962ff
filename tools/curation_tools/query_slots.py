"""When two short queries are the same query: the same content words, in the same order.

A short benchmark item (a query) is copied by a row that differs from it only in surface: case, punctuation,
spacing, contractions, filler and politeness words, and other function words (articles, pronouns, auxiliaries,
most prepositions), or a plural. A difference in a content slot makes a new query however many words match:
"is there a charge to use my card in japan" is not "... in france", "in 5 days" is not "15 days from today".
The slots a difference is named by: a number, a date (day, month, relative day), a negation, a unit or
currency, a name (a capitalised word inside a sentence: a place, person, organisation or product), a person
(whose: "change my name" / "change your name"), and any other content word. Question words, "to" and "from",
"and" and "or", tense and advice ("was", "did", "will", "should": "when were my tires changed" is not "when
should my tires be changed"), and directions (up/down, on/off, before/after) are content.

Word lists, not a model: the closed classes are short and fixed, and everything outside them counts as
content, so an unknown word can make a near match a new query but never a new query a copy.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from difflib import SequenceMatcher
from functools import lru_cache, wraps

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_NOT = re.compile(r"\b(can|won|shan)'t\b|n't\b")
_CONTRACTION = re.compile(r"'(s|re|m|ll|ve|d)\b")
_WORD = re.compile(r"\w+")
_US = re.compile(r"\bUS\b")
# contractions typed without the apostrophe, common in crowd-written queries
_BARE_CONTRACTIONS = {
    "dont": "do not", "doesnt": "does not", "didnt": "did not", "cant": "can not", "wont": "will not",
    "isnt": "is not", "arent": "are not", "wasnt": "was not", "werent": "were not", "havent": "have not",
    "hasnt": "has not", "couldnt": "could not", "shouldnt": "should not", "wouldnt": "would not",
    "im": "i am", "ive": "i have", "youre": "you are", "theyre": "they are", "whats": "what is",
    "wheres": "where is", "whos": "who is", "hows": "how is", "thats": "that is", "theres": "there is",
    "lets": "let us", "cannot": "can not",
}  # fmt: skip


def _words(*lines: str) -> frozenset[str]:
    return frozenset(" ".join(lines).split())


# politeness and interjections are filler at either end of a query ("please, ...", "... thanks"); inside it they
# can be what is asked ("how do you say please in french")
_EDGE_FILLER = _words("please pls plz kindly thanks thank thx hey hi hello um uh umm hmm oh ok okay so well")
_FILLER = _words("just now really actually basically")  # hedges: filler anywhere
_PLEASE = _words("please pls plz kindly")
_TAILS = [["thank", "you"]]
_FUNCTION = _words(
    "a an the this that these those some any each every both either neither such it its itself",  # determiners
    "is are be been being am do does done doing have has having",  # auxiliaries (tense ones are content below)
    "can could may might must s re m ll ve d",  # modals, what contractions leave
    "of in at for with by about into onto as than then but if because while",  # (to, from, and, or: content)
    "there here also too very",
)
# who and whose: "change my name" / "change your name", "what should i call you" / "what do you call me" are two
# requests; the pronouns of a request's frame ("can you ...", "i want to ...") are dropped with the frame. A
# "my" left out is surface ("my card" / "the card"); a pronoun or "your" left out is not ("what is today" /
# "what must i do today", "your car" / "this car")
_PRONOUNS = _words(
    "i me myself we us ourselves you yourself yourselves he him himself she herself they them themselves"
)
_POSSESSIVES = _words("my mine our ours your yours his her hers their theirs")
_PERSONS = _PRONOUNS | _POSSESSIVES
_OWN = _words("my mine our ours")  # the asker's own: often left out ("change PIN", "track package")
_FRAMES = [
    f.split()
    for f in (
        "can you", "could you", "will you", "would you", "can i", "could i", "may i", "i want to", "i need to",
        "i would like to", "i d like to", "i wanna", "i would like", "i d like", "i want", "i need",
    )
]  # fmt: skip

_NEGATION = _words("not no never nothing none nobody nor without neither except")
_NUMBER_WORDS = _words(
    "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen fifteen sixteen",
    "seventeen eighteen nineteen twenty thirty forty fifty sixty seventy eighty ninety hundred thousand",
    "million billion half quarter dozen first second third fourth fifth once twice double triple",
)
_DATE_WORDS = _words(
    "january february march april may june july august september october november december jan feb mar apr",
    "jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday mon tue tues",
    "wed thu thur thurs fri sat sun today tomorrow yesterday tonight weekend weekday morning afternoon",
    "evening night noon midnight week month year day hour minute",
)
_UNIT_WORDS = _words(
    "dollar dollars usd euro euros eur pound pounds gbp yen jpy yuan rmb peso pesos rupee rupees franc francs",
    "cent cents bitcoin btc mile miles km kilometer kilometers kilometre kilometres meter meters metre metres",
    "foot feet inch inches yard yards kg kilogram kilograms gram grams lb lbs ounce ounces oz liter liters",
    "litre litres gallon gallons cup cups tablespoon tablespoons teaspoon teaspoons celsius fahrenheit",
    "degree degrees percent mph calorie calories",
)
NUMBER = re.compile(r"^\d+(?:[.,]\d+)*(?:st|nd|rd|th|am|pm|k|m)?$")


CACHED_TEXT_CHARS = 2000


def _kept_for_short_texts(words_of: Callable[[str], tuple[str, ...]]) -> Callable[[str], list[str]]:
    """A word function whose answers for texts of up to CACHED_TEXT_CHARS are kept: a query or an item is read
    once per pair it is in."""
    cached = lru_cache(maxsize=8192)(words_of)

    @wraps(words_of)
    def words(text: str) -> list[str]:
        return list(cached(text) if len(text) <= CACHED_TEXT_CHARS else words_of(text))

    return words


@_kept_for_short_texts
def query_words(text: str) -> tuple[str, ...]:
    """Lower-case words with contractions spelled out ("what's" -> what s, "can't" -> can not)."""
    text = _US.sub("usa", text.translate(_APOSTROPHES)).lower()  # the country, not the pronoun
    text = _NOT.sub(lambda m: f"{m.group(1) or ''} not", text)
    text = _CONTRACTION.sub(lambda m: " will" if m.group(1) == "ll" else f" {m.group(1)}", text)
    words: list[str] = []
    for word in _WORD.findall(text):
        words.extend(_BARE_CONTRACTIONS.get(word, word).split())
    return tuple(words)


def _stem(word: str) -> str:
    """A plural is the same word ("cards" / "card"); nothing else is folded."""
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(("ss", "us", "is")):
        return word[:-1]
    return word


def _without_filler(words: list[str]) -> list[str]:
    """The words without politeness at either end, the frame a request opens with, and hedges anywhere."""
    start, end = 0, len(words)
    while start < end and (words[start] in _EDGE_FILLER or words[start] in _FILLER):
        start += 1
    for frame in _FRAMES:
        if words[start : start + len(frame)] == frame and end - start > len(frame):
            start += len(frame)
            break
    while start < end and words[start] in _PLEASE:  # "can you please ..."; not "i would like to thank you"
        start += 1
    while end > start and (
        words[end - 1] in _EDGE_FILLER or words[end - 1] in _FILLER or words[end - 2 : end] in _TAILS
    ):
        end -= 2 if words[end - 2 : end] in _TAILS else 1
    kept = [w for w in words[start:end] if w not in _FILLER]
    if kept[-2:] == ["for", "me"]:  # "set a timer for me": whose timer, like "my" ("change name for me")
        kept[-2:] = ["my"]
    return kept


def query_form(text: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(signature, person words): what a surface variant must match, in one pass over the text."""
    words = _without_filler(query_words(text))
    content = [w for w in words if w not in _FUNCTION]
    if len(content) < 2:  # "where am i": every word but filler, so that "where is it" differs
        return tuple(_stem(w) for w in words), ()
    return tuple(_stem(w) for w in content if w not in _PERSONS), tuple(w for w in content if w in _PERSONS)


def signature(text: str) -> tuple[str, ...]:
    """What must match for a row to copy this query: its content words in order (plurals folded), the person
    words aside (`same_query` checks those); for a query with fewer than two content words, every word but
    filler."""
    return query_form(text)[0]


def persons_agree(a: tuple[str, ...], b: tuple[str, ...]) -> bool:
    """The same pronouns and the same "your"/"his"/"their" in the same order, and a "my" or "our" that may be left
    out: "change my PIN" / "change the PIN" agree; "change my name" / "change your name", "what gas does your car
    use" / "... this car" and "what do you call me" / "what should i call you" do not."""
    if [w for w in a if w not in _OWN] != [w for w in b if w not in _OWN]:
        return False
    shorter, longer = sorted(([w for w in a if w in _OWN], [w for w in b if w in _OWN]), key=len)
    rest = iter(longer)
    return all(word in rest for word in shorter)  # the shorter one is the longer with words left out


def same_query(row: str, item: str) -> bool:
    """Whether the row is a surface variant of the item."""
    (row_key, row_persons), (item_key, item_persons) = query_form(row), query_form(item)
    return row_key == item_key and persons_agree(row_persons, item_persons)


@dataclass(frozen=True)
class SlotDifference:
    """A near match that is a new query: which slot differs, and the words on each side."""

    slot: str
    row_words: tuple[str, ...]
    item_words: tuple[str, ...]
    kept: float = 0.0
    """share of the item's content words the row keeps in order."""

    def describe(self) -> str:
        row = " ".join(self.row_words) or "(nothing)"
        item = " ".join(self.item_words) or "(nothing)"
        return f"{self.slot}: '{row}' where the item has '{item}'"


def slot_of(word: str, names: set[str]) -> str:
    """The kind of content slot a word fills (`names`: the words written capitalised inside a sentence)."""
    if NUMBER.match(word) or word in _NUMBER_WORDS:
        return "number"
    if word in _DATE_WORDS:
        return "date"
    if word in _NEGATION:
        return "negation"
    if word in _UNIT_WORDS:
        return "unit or currency"
    if word in names:
        return "name"
    if word in _PERSONS:
        return "person"
    return "content word"


_SLOT_ORDER = ["number", "date", "negation", "unit or currency", "name", "person", "content word"]


def _names(text: str) -> set[str]:
    """Words written with a capital inside a sentence (not the first word): likely names."""
    found: set[str] = set()
    for sentence in re.split(r"[.?!\n]+", text):
        words = _WORD.findall(sentence.translate(_APOSTROPHES))
        found.update(w.lower() for w in words[1:] if w[:1].isupper() and not w.isupper())
    return found


def difference(row: str, item: str) -> SlotDifference | None:
    """How a row's content words differ from a short item's (None when they match: a surface variant)."""
    if same_query(row, item):
        return None
    a, b = (tuple(content_words(t)) for t in (row, item))
    if a == b:  # queries of fewer than two content words: their function words differ
        a, b = (tuple(_without_filler(query_words(t))) for t in (row, item))
    # the longest common prefix and suffix are shared; the rest is what differs
    start = 0
    while start < min(len(a), len(b)) and a[start] == b[start]:
        start += 1
    end = 0
    while end < min(len(a), len(b)) - start and a[-1 - end] == b[-1 - end]:
        end += 1
    row_words, item_words = a[start : len(a) - end], b[start : len(b) - end]
    names = _names(row) | _names(item)
    # the signatures hold no filler at the edges: "please" inside ("say please in french") is what is asked
    slots = {slot_of(w, names) for w in (*row_words, *item_words) if w not in _FUNCTION} or {"function word"}
    slot = min(slots, key=lambda s: _SLOT_ORDER.index(s) if s in _SLOT_ORDER else len(_SLOT_ORDER))
    return SlotDifference(slot, row_words, item_words)


@_kept_for_short_texts
def content_words(text: str) -> tuple[str, ...]:
    """The content words of a text, in order, plurals folded (filler, frames and function words out)."""
    return tuple(_stem(w) for w in _without_filler(query_words(text)) if w not in _FUNCTION)


def differs_within(row: str, item: str) -> SlotDifference | None:
    """How the item's content words differ where the row holds the item among other words (a question with its
    choices, a query inside a message): words the row adds before or after the item are allowed, a content
    word changed, left out or put inside the item is not (None: the row holds the item's content words)."""
    wanted, found = content_words(item), content_words(row)
    if not wanted:
        return None
    blocks = SequenceMatcher(None, wanted, found, autojunk=False).get_matching_blocks()[:-1]
    if not blocks:
        return SlotDifference("content word", (), tuple(wanted))
    kept = sum(block.size for block in blocks) / len(wanted)
    # the item's span in the row: from where its first matched word sits to where its last one does
    first, last = blocks[0], blocks[-1]
    lo, hi = first.b - first.a, last.b + last.size + (len(wanted) - last.a - last.size)
    span = found[max(lo, 0) : hi]
    if span == wanted:
        return None
    ops = [op for op in SequenceMatcher(None, wanted, span, autojunk=False).get_opcodes() if op[0] != "equal"]
    item_words = tuple(w for _, i1, i2, _, _ in ops for w in wanted[i1:i2])
    row_words = tuple(w for _, _, _, j1, j2 in ops for w in span[j1:j2])
    names = _names(row) | _names(item)
    slots = {slot_of(w, names) for w in (*row_words, *item_words)}
    return SlotDifference(min(slots, key=_SLOT_ORDER.index), row_words, item_words, kept)


def negated(text: str) -> bool:
    """Whether a question or query is negated ("Which is NOT ...", "All of the following EXCEPT")."""
    return not _NEGATION.isdisjoint(query_words(text))
