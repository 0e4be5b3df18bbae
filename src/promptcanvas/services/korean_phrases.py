"""Noun phrases, roles and verbs of a Korean clause, and how each is said in English."""

from __future__ import annotations

from dataclasses import dataclass, field

from promptcanvas.services import korean_lexicon as lexicon

ADVERBIAL = frozenset("PTWYLCK")  # noun categories that say where/when/how, not who


@dataclass
class Phrase:
    """A noun phrase being built."""

    words: list[str] = field(default_factory=list)
    korean: list[str] = field(default_factory=list)
    head: lexicon.Noun | None = None
    pre: list[str] = field(default_factory=list)
    post: list[str] = field(default_factory=list)
    count: int | None = None
    many: bool = False
    position: str | None = None
    dummy: bool = False
    also: list[Phrase] = field(default_factory=list)  # coordinated: "A and B"
    clauses: list[tuple[Phrase, str]] = field(default_factory=list)  # "with a cat sleeping"

    def category(self) -> str:
        """The head noun's category ("" when unknown or English)."""
        return self.head.category if self.head else ""

    def render(self, article: bool = True) -> str:
        """English, with article and number, then what follows the noun."""
        text = " ".join(self.pre + self.words)
        head = self.head
        if self.words and head is not None and not head.plural:
            if self.count not in (None, 1) or self.many:
                text = lexicon.plural(text)
                if self.count not in (None, 1):
                    text = f"{lexicon.count_word(self.count or 0)} {text}"
            elif article and self.words[-1] == head.english:
                text = lexicon.with_article(head.article, text)
        parts = [text] if text else []
        for subject, action in self.clauses:
            said = f"{subject.render()} {action}".strip()
            if not self.words:
                parts.insert(0, said + ("," if parts else ""))
            else:
                parts.append(("of " if self.category() == "Y" else "with ") + said)
        parts += self.post
        out = " ".join(p for p in parts if p)
        if self.also:
            out = " and ".join(p for p in [out] + [p.render(article) for p in self.also] if p)
        return out

    def as_place(self, prep: str) -> str:
        """The phrase after its preposition ("on a bench", "at night")."""
        prep = self.position or prep or (self.head.place_prep if self.head else "")
        said = self.render()
        return f"{prep} {said}".strip() if said else ""


@dataclass
class Arg:
    """A noun phrase with its role in the clause."""

    role: str  # subj obj place toward with like bare
    phrase: Phrase
    particle: str = ""


@dataclass
class Verb:
    """A verb or adjective with what it governs."""

    english: lexicon.Predicate | None
    lemma: str
    args: list[Arg] = field(default_factory=list)
    adverbs: list[str] = field(default_factory=list)
    past: bool = False

    def subject(self) -> Arg | None:
        """The subject, or a bare noun in its place ("눈 덮인": snow-covered)."""
        for arg in self.args:
            if arg.role == "subj":
                return arg
        slot = self.english is not None and self.english.slot
        for arg in self.args:
            if arg.role == "bare" and (slot or arg.phrase.category() not in ADVERBIAL):
                return arg
        return None

    def say(self, with_subject: bool) -> str:
        """The verb's English with its objects and places; the subject too when asked."""
        pred = self.english
        subject = self.subject()
        words: list[str] = []
        rest = sorted((a for a in self.args if a is not subject), key=lambda a: a.role != "obj")
        if pred is not None:
            has_object = any(a.role == "obj" for a in rest)
            main = pred.past if self.past and pred.past and not has_object else pred.english
            if pred.slot:
                if subject and subject.phrase.head and subject.phrase.head.article == "a":
                    subject.phrase.many = not main.startswith("{}")  # "full of mushrooms"
                main = main.replace("{}", subject.phrase.render() if subject else "").strip()
                subject = None
            elif pred.adjective and subject is not None and not with_subject:
                main = f"{main} {subject.phrase.render(article=False)}"
                subject = None
            words.append(main)
            words += self.adverbs
        for arg in rest:
            words.append(say_arg(arg, pred))
        if with_subject and subject is not None:
            if pred is not None and pred.adjective and not pred.slot:
                subject.phrase.pre.insert(0, words.pop(0))
            words.insert(0, subject.phrase.render())
        return " ".join(w for w in words if w)


def say_arg(arg: Arg, pred: lexicon.Predicate | None) -> str:
    phrase = arg.phrase
    if phrase.position:
        return phrase.as_place("")
    if arg.role == "obj":
        prep = pred.object_prep if pred is not None and pred.object_prep else ""
        return f"{prep} {phrase.render()}".strip()
    if arg.role == "toward":
        return phrase.as_place("in" if phrase.category() in "YKC" and phrase.head else "toward")
    if arg.role == "with":
        return f"with {phrase.render()}"
    if arg.role == "like":
        return f"like {phrase.render()}"
    if arg.role in ("place", "bare"):
        return phrase.as_place("")
    return phrase.render()
