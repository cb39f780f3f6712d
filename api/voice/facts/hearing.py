"""Science words heard correctly: the transcript corrected against the fact store's lexicon.

Whisper tiny hears "Celsius" as "salsa this" and "Avogadro" as "Avigatro". Each run of one to
three heard words is compared, by spelling and by a sound key (a simplified phonetic code:
voiced and unvoiced consonants fold together, vowels after the first letter drop), with the
science terms the facts are named by: element names, units, particles, the names on
constants, planets. A close match replaces the heard words when the utterance (or the
previous one) holds a word that goes with the term ("temperature" for "Celsius", an element
for "protons"); a very close single word ("Avigatro") is replaced without one. Costs well
under a millisecond per utterance; no model, no hotwords pass.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from api.voice.facts.model import Fact
from api.voice.facts.quantities import UNITS
from api.voice.facts.retrieve import FILLERS


def _words(text: str) -> list[str]:
    return text.split()


_WORD = re.compile(r"[A-Za-z][A-Za-z'’]*")
_DIMENSION_CUES = {
    "temperature": "temperature degree degrees hot cold warm boil boils boiling freeze freezes "
    "freezing melt melts melting fahrenheit celsius kelvin convert thermometer",
    "length": "far distance long tall high wide convert metre meter mile feet inch",
    "mass": "heavy weigh weighs weight mass convert",
    "energy": "energy convert joule joules calorie",
    "pressure": "pressure atmosphere convert",
    "speed": "fast speed convert",
    "time": "long time convert",
}
_PARTICLES = "proton protons neutron neutrons electron electrons photon photons nucleus atom atoms"
_PARTICLE_CUES = "how many number atom atomic charge mass nucleus element"
# One word spelt this close (and sounding close) is corrected without a cue ("avigatro").
STRONG_SPELLING, STRONG_SOUND = 84.0, 75.0
# With a cue in context, sounding this close is enough ("salsa this" near "temperature").
CUED_SOUND, CUED_SPELLING = 80.0, 45.0


def sound_key(text: str) -> str:
    """A coarse phonetic code: "celsius" -> "slss", "salsa this" -> "sls0s"."""
    s = re.sub(r"[^a-z]", "", text.lower())
    for old, new in (("ph", "f"), ("th", "0"), ("sh", "x"), ("ch", "x"), ("ck", "k")):
        s = s.replace(old, new)
    s = s.replace("gh", "").replace("qu", "kw").replace("x", "ks").replace("wh", "w")
    s = re.sub(r"c(?=[eiy])", "s", s).replace("c", "k").replace("q", "k").replace("z", "s")
    s = re.sub(r"g(?=[eiy])", "j", s)
    s = s.translate(str.maketrans("bdgv", "ptkf"))
    return s[:1] + re.sub(r"[aeiouyhw]", "", s[1:])


@dataclass(frozen=True)
class Correction:
    """One replacement made in a transcript."""

    heard: str
    term: str
    score: float
    cued: bool


def _terms_of(facts: list[Fact]) -> dict[str, set[str]]:
    """Science terms (lower case) and the words that go with each."""
    cues: dict[str, set[str]] = defaultdict(set)
    for fact in facts:
        kind = fact.id.partition(":")[0]
        words = [w.lower() for w in _WORD.findall(fact.name)]
        if kind == "element" or kind == "isotope":
            element = fact.name.rsplit(" of ", 1)[-1].split("-")[0].lower()
            cues[element] |= {"atomic", "number", "mass", "element", "protons", "atom"}
        capitalized = [w for w in _WORD.findall(fact.name) if w[0].isupper() and len(w) > 3]
        said = {w for a in fact.aliases for w in a.split()} | set(words)
        for word in capitalized:
            cues[word.lower()] |= {w for w in said if w not in FILLERS and len(w) > 3}
        for alias in fact.aliases:
            alias_words = alias.split()
            for word in alias_words:
                if word in _PARTICLES.split():
                    cues[word] |= {w for w in alias_words if w != word and w not in FILLERS}
    for unit in UNITS.values():
        if unit.dimension in _DIMENSION_CUES:
            for word in (unit.singular, unit.plural, *unit.words):
                word = word.lower()
                if " " not in word and len(word) > 3:
                    cues[word] |= set(_DIMENSION_CUES[unit.dimension].split())
    for particle in _PARTICLES.split():
        cues[particle] |= set(_PARTICLE_CUES.split())
    return {term: words - {term} for term, words in cues.items() if len(term) > 3}


class TranscriptFixer:
    """Corrects misheard science terms in one utterance, given the previous one as context."""

    def __init__(self, facts: list[Fact]) -> None:
        self.cues = _terms_of(facts)
        self.terms = sorted(self.cues)
        self.keys = [sound_key(t) for t in self.terms]
        self.known = set(self.terms) | {
            w for fact in facts for alias in fact.aliases for w in alias.split()
        }

    def correct(self, text: str, context: str = "") -> tuple[str, list[Correction]]:
        """The transcript with misheard terms replaced, and what was replaced."""
        words = list(_WORD.finditer(text))
        around = {w.lower() for w in _WORD.findall(f"{text} {context}")}
        changes: list[tuple[int, int, str, Correction]] = []
        used: set[int] = set()
        for size in (3, 2, 1):
            for first in range(len(words) - size + 1):
                span = range(first, first + size)
                if used & set(span):
                    continue
                found = self._match(text, words, first, size, around)
                if found is None:
                    continue
                start, end = words[first].start(), words[first + size - 1].end()
                said = text[start:end]
                suffix = "'s" if re.search(r"['’]s$", said) else ""
                changes.append((start, end, _cased(found.term, said) + suffix, found))
                used |= set(span)
        for start, end, term, _ in sorted(changes, reverse=True):
            text = text[:start] + term + text[end:]
        return text, [c for *_, c in sorted(changes)]

    def _match(
        self, text: str, words: list[re.Match[str]], first: int, size: int, around: set[str]
    ) -> Correction | None:
        heard_words = [
            re.sub(r"'s$", "", w.group(0).lower().replace("’", "'"))
            for w in words[first : first + size]
        ]
        fillers = sum(w in FILLERS for w in heard_words)
        if heard_words[0] in FILLERS or fillers > 1 or any(w in self.known for w in heard_words):
            return None  # a science word already, or mostly words that are not misheard
        heard = "".join(heard_words).replace("'", "")
        if len(heard) < 4:
            return None
        last = words[first + size - 1]
        hyphenated = size == 1 or text[words[first].start() : last.end()].count(" ") == 0
        key = sound_key(heard)
        candidates = {
            self.terms[index]
            for found in (
                process.extract(heard, self.terms, scorer=fuzz.ratio, limit=4),
                process.extract(key, self.keys, scorer=fuzz.ratio, limit=4),
            )
            for _, _, index in found
        }
        best: Correction | None = None
        for term in candidates:
            if abs(len(term) - len(heard)) > max(3, len(term) // 2):
                continue
            spelling = fuzz.ratio(heard, term)
            sound = fuzz.ratio(key, sound_key(term))
            score = round((spelling + sound) / 2, 1)
            cued = bool(self.cues.get(term, set()) & around)
            strong = hyphenated and spelling >= STRONG_SPELLING and sound >= STRONG_SOUND
            close = (sound >= CUED_SOUND and spelling >= CUED_SPELLING) or (
                sound >= 70 and spelling >= 75
            )
            if (strong or (cued and close)) and (best is None or score > best.score):
                best = Correction(" ".join(heard_words), term, score, cued)
        return best
        return None


def _cased(term: str, heard: str) -> str:
    """Proper names keep their capital ("Celsius", "Avogadro"); others follow the heard word."""
    proper = {u.singular.split()[-1].lower() for u in UNITS.values() if u.singular[-1:].isupper()}
    if term in proper or term in _EPONYMS:
        return term.capitalize()
    return term.capitalize() if heard[:1].isupper() else term


_EPONYMS = frozenset(
    _words(
        "avogadro planck boltzmann rydberg bohr faraday josephson klitzing stefan wien hartree "
        "compton loschmidt newtonian celsius fahrenheit kelvin"
    )
)
