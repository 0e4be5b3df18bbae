"""Korean clause structure to an English prompt phrase.

Korean puts modifiers before the noun and the verb last, and marks roles with particles;
English prompts want "a cute puppy running across a sunny field". This reads one clause
(no commas) left to right: nouns collect into noun phrases, particles give each its role,
a verb or adjective takes the roles gathered since the last one, and its ending decides
what it becomes: a modifier of the next noun (-는, -ㄴ), a link to the next verb (-고, -아),
or the clause's own predicate (-다, -요). Words the tables do not know are dropped, except
proper names, which are romanised ("제주" -> "Jeju"); they are reported as unknown.
"""

from __future__ import annotations

from promptcanvas.services import korean_lexicon as lexicon
from promptcanvas.services.korean_morph import Morpheme, romanise
from promptcanvas.services.korean_phrases import ADVERBIAL, Arg, Phrase, Verb, say_arg

_ROLES = {"JKS": "subj", "JX": "subj", "JKO": "obj", "JKG": "gen", "JC": "and", "JKC": "subj"}
_PLACE = frozenset(["에", "에서", "에게", "한테", "까지", "부터", "께", "위에"])
_TOWARD = frozenset(["로", "으로"])
_WITH = frozenset(["와", "과", "랑", "이랑", "하고"])
_LIKE = frozenset(["처럼", "같이", "만큼"])


class Clause:
    """Reads the morphemes of one clause and says it in English."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.open: Phrase | None = None
        self.args: list[Arg] = []
        self.chain: list[Verb] = []
        self.verb: Verb | None = None
        self.mods: list[str] = []
        self.after: list[str] = []
        self.clauses: list[tuple[Phrase, str]] = []
        self.joined: list[Phrase] = []
        self.count: int | None = None
        self.adverbs: list[str] = []
        self.unknown: list[str] = []
        self.later_verb = False  # whether a verb comes later in the clause

    # Nouns ------------------------------------------------------------------------------
    def _phrase(self) -> Phrase:
        if self.open is None:
            self.open = Phrase(pre=self.mods, post=self.after, clauses=self.clauses)
            self.open.count, self.count = self.count, None
            self.mods, self.after, self.clauses = [], [], []
        return self.open

    def noun(self, m: Morpheme) -> None:
        """A noun, an English word or a name joins the open noun phrase."""
        prep = lexicon.position(m.form)
        if prep and self.open is not None and self.open.korean:
            self.open.position = prep
            return
        if lexicon.is_dummy(m.form):
            self._phrase().dummy = True
            return
        entry = lexicon.noun(m.form)
        if self.open is not None and self.open.korean and m.tag != "SL":
            joined = lexicon.noun(self.open.korean[-1] + m.form)
            if joined is not None and self.open.words:  # "아기 고양이": a kitten
                self.open.words.pop()
                self.open.korean.pop()
                entry = joined
        if m.form == "눈" and any(lexicon.is_colour(w) for w in self._colours() if w != "white"):
            entry = lexicon.EYES  # "파란 눈": blue eyes, not blue snow
        phrase = self._phrase()
        if m.tag == "SL":
            phrase.words.append(m.form)
            phrase.head = None
        elif entry is not None:
            phrase.words.append(entry.english)
            phrase.head = entry
        elif m.tag == "NNP":
            phrase.words.append(romanise(m.form).capitalize())
            phrase.head = None
            self.unknown.append(m.form)
        else:
            self.unknown.append(m.form)
        phrase.korean.append(m.form)
        phrase.position = None

    def _colours(self) -> list[str]:
        words = list(self.mods)
        if self.open is not None and self.open.head is not None:
            words.append(self.open.head.english)
        return words

    def plural(self) -> None:
        """-들 after a noun."""
        if self.open is not None:
            self.open.many = True

    def determiner(self, english: str) -> None:
        """다른, 모든: a word before the next noun."""
        self.mods.append(english)

    def counted(self, value: int) -> None:
        """A number before or after its noun ("두 마리", "고양이 세 마리")."""
        if self.open is not None and self.open.words:
            self.open.count = value
        else:
            self.count = value

    def particle(self, m: Morpheme) -> None:
        """A particle closes the open noun phrase and gives it its role."""
        if self.open is None:
            return
        phrase, self.open = self.open, None
        role = _ROLES.get(m.tag, "bare")
        if m.tag == "JKB":
            role = (
                "place" if m.form in _PLACE else "toward" if m.form in _TOWARD
                else "with" if m.form in _WITH else "like" if m.form in _LIKE else "bare"
            )  # fmt: skip
        if role == "and" or (role == "with" and m.form != "하고"):
            self.joined.append(phrase)
            return
        if self.joined:
            first, *rest = self.joined + [phrase]
            first.also, self.joined, phrase = rest, [], first
        if role == "gen":
            entry = phrase.head
            if entry is not None and not phrase.position and entry.of_prep == "-":
                self.after, self.clauses = phrase.post + self.after, phrase.clauses + self.clauses
                phrase.post, phrase.clauses = [], []
                self.mods.append(phrase.render(article=False))  # "마법의 숲": a magic forest
            elif phrase.position or (entry is not None and entry.category != "S"):
                self.after.append(phrase.as_place(entry.of_prep if entry else ""))
            elif entry is not None and entry.category == "S":
                self.after.append(f"of {phrase.render()}")
            else:
                self.mods.append(phrase.render(article=False))
            return
        self.args.append(Arg(role, phrase, m.form))

    def together(self) -> None:
        """함께/같이 after "A와": A goes along ("with A")."""
        if self.joined:
            self.args.append(Arg("with", self.joined.pop()))

    # Verbs ------------------------------------------------------------------------------
    def verb_stem(self, lemma: str) -> None:
        """A verb or adjective: it takes the roles gathered since the last one."""
        if self.verb is not None:  # no ending came (fallback analysis): a link
            self.chain.append(self.verb)
        if self.open is not None:
            self.args.append(Arg("bare", self.open))
            self.open = None
        pred = lexicon.predicate(lemma)
        if self.joined and pred is not None and not pred.adjective:
            self.args += [Arg("with", p) for p in self.joined]  # "친구와 노는": playing with
            self.joined = []
        verb = Verb(pred, lemma, self.args, self.adverbs)
        self.args, self.adverbs = [], []
        for arg in reversed(verb.args):
            said = arg.phrase.korean
            found = lexicon.idiom(said[0], lemma) if len(said) == 1 else None
            if found is not None and arg.role in ("subj", "obj", "bare"):
                verb.english = found
                verb.args.remove(arg)
                self._hand_back(arg.phrase)
                if said[0] in self.unknown:
                    self.unknown.remove(said[0])
                break
        if verb.english is None and not lexicon.is_meta(lemma):
            self.unknown.append(lemma)
        marked = [a for a in verb.args if a.role == "subj"]
        if self.later_verb and marked and verb.english is not None and verb.args:
            last = verb.args[-1]
            own = last.role == "bare" and last.phrase.category() not in ADVERBIAL - {"W", "L"}
            plain = verb.english.adjective and not verb.english.slot and last is marked[-1]
            if own or plain:
                # "강아지가 햇살 가득한 들판을 달리는", "왕자가 작은 행성 위에 서 있다":
                # the marked subject belongs to the verb at the end.
                verb.args.remove(marked[-1])
                self.args.append(marked[-1])
        self.verb = verb

    def _hand_back(self, phrase: Phrase) -> None:
        """What modified a noun that a verb took in goes on to the next noun."""
        self.mods = phrase.pre + self.mods
        self.after = phrase.post + self.after
        self.clauses = phrase.clauses + self.clauses

    def adverb(self, english: str) -> None:
        """An adverb for the next verb."""
        self.adverbs.append(english)

    def link(self, form: str) -> None:
        """A connective ending (-고, -아, -며): the next verb continues this one."""
        if self.verb is None:
            return
        pred = self.verb.english
        if form == "게" and pred is not None and pred.adjective and not self.verb.args:
            self.adverbs.append(lexicon.adverb_of(pred.english))
        else:
            self.chain.append(self.verb)
        self.verb = None

    def auxiliary(self) -> None:
        """있다, 주다 after a connective carry on the verb before them."""
        if self.verb is None and self.chain:
            self.verb = self.chain.pop()

    def modifier(self, form: str) -> None:
        """-는/-ㄴ/-던: the verbs so far describe the next noun."""
        if self.verb is None:
            return
        if form in ("ᆫ", "은", "던", "ㄴ"):
            self.verb.past = True
        verbs, self.chain, self.verb = self.chain + [self.verb], [], None
        for verb in verbs:
            if verb.english is None:  # an unknown verb: its nouns still count
                self.args += verb.args
        verbs = [v for v in verbs if v.english is not None]
        if not verbs:
            return
        subject = next((s for v in verbs if (s := v.subject()) is not None), None)
        preds = [v.english for v in verbs if v.english is not None]
        if len(preds) == 1 and preds[0].english.startswith("{}") and subject is not None:
            self._hand_back(subject.phrase)  # "동화 같은": fairy tale-like, for the next noun
            subject.phrase.pre, subject.phrase.post, subject.phrase.clauses = [], [], []
            self.mods.append(verbs[0].say(False))
            return
        said = " and ".join(v.say(False) for v in verbs)
        if all(not v.args and " " not in v.say(False) for v in verbs):
            self.mods.append(said)  # "귀여운 강아지": a cute puppy
        elif subject is not None and all(p.adjective and not p.slot for p in preds):
            noun = subject.phrase.render(article=False)
            self.after.append(f"with {said.replace(noun, '').strip()} {noun}")
        elif subject is not None and not any(p.slot for p in preds):
            for verb in verbs:
                verb.args = [a for a in verb.args if a is not subject]
            said = " and ".join(v.say(False) for v in verbs)
            self.clauses.append((subject.phrase, said))
        else:
            self.after.append(said)

    def finish(self) -> str:
        """The clause in English."""
        verbs = self.chain + ([self.verb] if self.verb else [])
        self.chain, self.verb = [], None
        pieces: list[str] = []
        if verbs and all(lexicon.is_meta(v.lemma) or v.english is None for v in verbs):
            for verb in verbs:  # "강아지를 그려줘": only what is asked for
                self.args = verb.args + self.args
        elif verbs:
            said = [v.say(with_subject=i == 0) for i, v in enumerate(verbs)]
            pieces.append(" and ".join(s for s in said if s))
        head = self.open
        if self.joined:
            first, *rest = self.joined + ([head] if head else [])
            first.also, head = rest, first
        if head is None and (self.mods or self.clauses or self.after):
            head = Phrase(pre=self.mods, post=self.after, clauses=self.clauses)
        main = [head.render()] if head is not None else []
        for arg in sorted(self.args, key=lambda a: a.role not in ("subj", "obj")):
            main.append(
                say_arg(arg, None) if arg.role not in ("subj", "obj") else arg.phrase.render()
            )
        pieces.append(" ".join(p for p in main if p))
        return ", ".join(p for p in pieces if p)
