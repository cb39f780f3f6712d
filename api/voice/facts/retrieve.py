"""Finding the fact a question asks for: exact aliases first, then weighted token matching.

A question and each alias become sets of content words (fillers dropped, plurals and
spellings folded). An alias scores by how much of it the question says (recall, weighted by
how rare each word is among the facts) times the square root of how much of the question it
explains (precision); misspelt words match the store's vocabulary fuzzily (rapidfuzz), at a
discount. Below ``threshold`` there is no fact: "weather and climate" finds nothing.
"""

from __future__ import annotations

import math
import re
from collections import defaultdict
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from api.voice.facts.model import Fact, Statement, normalize, state
from api.voice.facts.quantities import UNITS, FactUnit, requested_unit, unit_named


def _words(text: str) -> list[str]:
    return text.split()


FILLERS = frozenset(
    _words(
        """a an the of in on at to for from by with and or is are was were be been being do does
    did what whats which who how many much tell me please you your can could would will i we
    my our us there their its it this that these those have has had value exactly approximately
    about roughly around say give know need want explain mean one some any as than into
    expressed measured number average typical usual normal mean roughly nearly close
    hey okay ok so well just actually really travel travels move moves go goes get gets strong"""
    )
) - {"number", "normal", "mean", "average", "typical", "one"}
PRECISION_EXPONENT = 0.75
_NUMBER_WORDS = frozenset(_words("zero one two three four five six seven eight nine ten"))
SYNONYMS = {
    "feet": "foot",
    "teeth": "tooth",
    "meter": "metre",
    "kilometer": "kilometre",
    "centimeter": "centimetre",
    "millimeter": "millimetre",
    "nanometer": "nanometre",
    "liter": "litre",
    "milliliter": "millilitre",
    "aluminum": "aluminium",
    "sulfur": "sulphur",
    "cesium": "caesium",
    "weight": "mass",
    "weigh": "mass",
    "velocity": "speed",
    "quick": "speed",
    "fast": "speed",
    "quickly": "speed",
    "hot": "temperature",
    "cold": "temperature",
    "warm": "temperature",
    "heavy": "mass",
    "massive": "mass",
    "far": "distance",
    "tall": "height",
    "high": "height",
    "deep": "depth",
    "old": "age",
    "big": "size",
    "large": "size",
    "wide": "size",
    "boil": "boiling",
    "boils": "boiling",
    "freezes": "freezing",
    "freeze": "freezing",
    "melts": "melting",
    "melt": "melting",
    "ionisation": "ionization",
    "centigrade": "celsius",
    "children": "child",
    "people": "human",
    "person": "human",
    "humans": "human",
    "mankind": "human",
    "km": "kilometre",
    "kilometres": "kilometre",
}
_KEEP_S = ("ss", "us", "is", "as", "os", "ys")
VALUE_QUESTION = re.compile(
    r"\bhow (?:many|much|far|long|big|large|fast|hot|cold|heavy|old|tall|deep|high|dense|wide"
    r"|massive|quickly|warm|small|strong)\b|\bat what (?:temperature|speed|height|depth)\b"
    r"|\bwhat (?:percentage|percent|fraction|temperature|year)\b"
    r"|\b(?:value|mass|weight|speed|velocity|temperature|distance|radius|diameter|density|charge"
    r"|number|boiling point|melting point|freezing point|atomic number|atomic mass|atomic weight"
    r"|height|depth|age|length|pressure|wavelength|frequency|energy|half[- ]life|percentage"
    r"|circumference|period|constant|gravity|acceleration|magnetic moment|permittivity"
    r"|permeability|molar mass|ph)\s+(?:of|on|in|for|at)\b"
    r"|\bconstant\b|\bhow long (?:does|do|is)\b",
    re.IGNORECASE,
)


def fold(word: str) -> str:
    """One spelling per word: synonyms, then a light plural strip ("protons" -> "proton")."""
    word = SYNONYMS.get(word, word)
    if len(word) > 3 and word.endswith("ies"):
        return word[:-3] + "y"
    if len(word) > 3 and word.endswith("s") and not word.endswith(_KEEP_S):
        return SYNONYMS.get(word[:-1], word[:-1])
    return word


def content_words(text: str) -> list[str]:
    """The words of ``text`` that can tell facts apart, folded."""
    return [fold(w) for w in normalize(text).split() if w not in FILLERS and w not in _NUMBER_WORDS]


def asks_for_value(question: str) -> bool:
    """Whether the question wants a number ("how many...", "what is the mass of...")."""
    return bool(VALUE_QUESTION.search(question))


@dataclass(frozen=True)
class Match:
    """A fact found for a question, how sure the match is, and the value in the unit asked."""

    fact: Fact
    confidence: float
    alias: str
    statement: Statement


@dataclass(frozen=True)
class _Alias:
    fact: int
    words: frozenset[str]
    text: str


_SHORTLIST = 60  # aliases scored in full, of those sharing the most weight with the question
_PRIORITY = {"curated": 3, "element": 2, "codata": 1, "unit": 1}


class FactIndex:
    """Inverted index over every alias of every fact, with word weights by rarity."""

    def __init__(self, facts: list[Fact]) -> None:
        self.facts = facts
        self.aliases: list[_Alias] = []
        self.exact: dict[str, list[tuple[int, str]]] = defaultdict(list)
        self.postings: dict[str, list[int]] = defaultdict(list)
        facts_with: dict[str, set[int]] = defaultdict(set)
        for number, fact in enumerate(facts):
            for alias in fact.aliases:
                words = content_words(alias)
                if not words:
                    continue
                key = " ".join(sorted(set(words)))
                self.exact[key].append((number, alias))
                index = len(self.aliases)
                self.aliases.append(_Alias(number, frozenset(words), alias))
                for word in set(words):
                    self.postings[word].append(index)
                    facts_with[word].add(number)
        total = len(facts) + 1
        self.weight = {w: math.log(total / len(f)) + 0.5 for w, f in facts_with.items()}
        self.unknown_weight = math.log(total) + 0.5
        self.vocabulary = sorted(self.weight)
        self.alias_weight = [sum(self.weight[w] for w in a.words) for a in self.aliases]

    def _resolve(self, word: str) -> list[tuple[str, float]]:
        """Vocabulary words ``word`` may stand for, each with a similarity in 0..1."""
        if word in self.weight:
            return [(word, 1.0)]
        if len(word) < 5:
            return []
        found = process.extract(word, self.vocabulary, scorer=fuzz.ratio, score_cutoff=82, limit=2)
        return [(candidate, score / 100 * 0.9) for candidate, score, _ in found]

    def lookup(self, question: str, *, domain: str | None = None, limit: int = 3) -> list[Match]:
        """The best facts for ``question``, most confident first (possibly none)."""
        target, _ = requested_unit(question)
        words = list(dict.fromkeys(content_words(question)))
        if not words:
            return []
        unit_words = _unit_words(words, target)
        key = " ".join(sorted(set(words)))
        keys = {key: 1.0}
        if unit_words:
            keys[" ".join(sorted(set(words) - unit_words))] = 1.0
        scores: dict[int, tuple[float, str]] = {}
        plain = normalize(question)
        counting = _counting(plain)
        for candidate_key in keys:
            for number, alias_text in self.exact.get(candidate_key, []):
                self._keep(scores, number, 1.0, alias_text, plain)
        resolved = {w: self._resolve(w) for w in words}
        said: dict[int, float] = defaultdict(float)  # alias -> weight of it the question says
        for options in resolved.values():
            for vocabulary_word, similarity in options:
                weight = self.weight[vocabulary_word] * similarity
                for index in self.postings.get(vocabulary_word, ()):
                    said[index] += weight
        shortlist = sorted(said, key=lambda i: said[i] / self.alias_weight[i], reverse=True)
        for index in shortlist[:_SHORTLIST]:
            alias = self.aliases[index]
            score = self._score(alias, words, resolved, unit_words) * self._kind(alias, counting)
            self._keep(scores, alias.fact, score, alias.text, plain)
        ranked = sorted(
            scores.items(),
            key=lambda item: (
                -round(item[1][0], 3),
                -(0.01 if domain and self.facts[item[0]].domain == domain else 0),
                -fuzz.partial_ratio(item[1][1], plain),  # word order: "pounds in a kilogram"
                -_PRIORITY.get(self.facts[item[0]].id.partition(":")[0], 0),
                len(self.facts[item[0]].name),
            ),
        )
        return [
            Match(self.facts[n], round(score, 3), alias, state(self.facts[n], target))
            for n, (score, alias) in ranked[:limit]
        ]

    @staticmethod
    def _keep(
        scores: dict[int, tuple[float, str]], fact: int, score: float, alias: str, plain: str
    ) -> None:
        """Keep the best alias of a fact; on a tie, the one closer to the question's wording."""
        old = scores.get(fact)
        if (
            old is None
            or score > old[0] + 1e-9
            or (
                abs(score - old[0]) <= 1e-9
                and fuzz.partial_ratio(alias, plain) > fuzz.partial_ratio(old[1], plain)
            )
        ):
            scores[fact] = (score, alias)

    def _kind(self, alias: _Alias, counting: bool) -> float:
        """A count for "how many moons", not a distance: other facts lose a little."""
        return 0.9 if counting and self.facts[alias.fact].unit else 1.0

    def _score(
        self,
        alias: _Alias,
        words: list[str],
        resolved: dict[str, list[tuple[str, float]]],
        unit_words: set[str],
    ) -> float:
        said = 0.0  # alias weight the question covers
        explained = 0.0  # question weight the alias covers
        question_weight = 0.0
        covered: set[str] = set()
        fact = self.facts[alias.fact]
        convertible = bool(unit_words) and unit_named(next(iter(unit_words))) is not None
        for word in words:
            weight = self.weight.get(word, self.unknown_weight)
            best = 0.0
            for vocabulary_word, similarity in resolved[word]:
                if vocabulary_word in alias.words and vocabulary_word not in covered:
                    best = max(best, similarity)
                    if similarity == best:
                        chosen = vocabulary_word
            if best > 0:
                covered.add(chosen)
                said += self.weight[chosen] * best
                explained += weight * best
                question_weight += weight
            elif word in unit_words and convertible and fact.unit:
                continue  # "in Fahrenheit": the unit asked for, not part of the name
            elif _DIMENSION_WORDS.get(word, "-") == _dimension(fact.unit):
                continue  # "at what temperature" is said by any temperature
            else:
                question_weight += weight
        alias_weight = sum(self.weight[w] for w in alias.words)
        if alias_weight == 0 or question_weight == 0:
            return 0.0
        recall = said / alias_weight
        precision = explained / question_weight
        return recall * precision**PRECISION_EXPONENT


_DIMENSION_WORDS = {
    "temperature": "temperature",
    "distance": "length",
    "size": "length",
    "height": "length",
    "depth": "length",
    "mass": "mass",
    "age": "time",
    "speed": "speed",
}
_COUNTING = re.compile(r"\bhow many (?P<what>[a-z]+)")


def _dimension(symbol: str) -> str:
    unit = UNITS.get(symbol) or unit_named(symbol)
    return unit.dimension if unit is not None else ""


def _counting(plain: str) -> bool:
    match = _COUNTING.search(plain)
    return match is not None and unit_named(match.group("what")) is None


def _unit_words(words: list[str], target: FactUnit | None) -> set[str]:
    if target is None:
        return set()
    return {w for w in words if unit_named(w) is target or fold(w) in _folded(target)}


def _folded(unit: FactUnit) -> set[str]:
    return {fold(part) for word in unit.words for part in normalize(word).split()}
