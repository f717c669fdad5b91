"""Sentiment polarity (-1..1) for English and French posts: TextBlob plus a domain layer.

TextBlob's pattern analyzers (`textblob.en` and textblob-fr) know dictionary adjectives but not
how people talk to a brand on social media: complaints with no sentiment word ("charged twice",
"ne sert à rien"), emoji, slang ("sucks", "de la camelote"), sarcasm ("merci pour rien", "Bravo,
encore la mauvaise taille 🙄"), and questions whose adjectives describe rather than judge ("is
the large model available in white?"). The domain layer here fills that gap:

- `_LEXICON`: words, phrases and emoji with a weight, matched on folded text, longest first;
  a negator a few words before a hit turns it around ("pas génial"), an intensifier right
  before it strengthens it ("grave déçu"), letters typed three times count once ("nuuuul").
- Questions: a sentence that asks is read for complaints only (`cues.split_questions`).
- Sarcasm: an eye-roll emoji or a praise word opening a sentence about something happening
  again ("super, encore un retard") turns the score negative.
- Shouting (capitals, "!!") amplifies.
- TextBlob's own scores for a few words are set aside where social media use them otherwise
  (`_TEXTBLOB_OVERRIDES`: "lol" is not praise, "large" is a size).

The lexicon's polarity and TextBlob's are mixed, the lexicon weighing more. On the hand-written
set in tests/fixtures/sentiment_labelled.tsv, bench/sentiment.py prints how often the sign is
right against plain TextBlob, per language and on the held-out half.

`SentimentAnalyzer.score` is the fast path (a float, cached); `SentimentAnalyzer.explain` also
says why (`Reason`s) and what the message wants (`intent.intent_of`). A text whose language is
unknown is scored in both languages and keeps the stronger signal, so every text with words gets
a score. `rolling_sentiment` sums up a conversation's customer messages.

TextBlob's polarity is computed by `_Pattern`, a port of pattern's scorer that reads TextBlob's
own word lists and gives the same floats several times faster. TextBlob costs ~0.2 s to import
(it pulls in NLTK), so it is imported on the first scoring, never at import time. Scores are
cached by (text, language): echoes and retweets repeat texts.
"""

from __future__ import annotations

import copy
import re
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from itertools import compress, count
from typing import Any, NamedTuple

from cmtui.analysis.cues import Cue, split_questions
from cmtui.analysis.intent import NEUTRAL_BAND as NEUTRAL_BAND
from cmtui.analysis.intent import Intent, intent_from, intent_of, recommends
from cmtui.analysis.language import (
    FRENCH_ELISIONS,
    detect_language,
    fold,
    primary_subtag,
    recent_fold,
    social_key,
)
from cmtui.i18n import N_, _
from cmtui.text import recent_match_key

SCORED_LANGUAGES = ("en", "fr")

# Hostile or pasted walls of text: the opening is enough to judge the tone, and the cost of
# TextBlob grows with length.
_MAX_CHARS = 2000
_CACHE_SIZE = 8192

# The lexicon's hits are domain evidence TextBlob lacks, so they get the larger share of the mix.
_TEXTBLOB_WEIGHT = 0.4
# Pattern's own rule for a negated opinion word: "not good" is slightly bad, "not bad" slightly
# good.
_NEGATED = -0.5
# A negator reaches this many words ahead ("not a great idea", "ce n'est pas vraiment top").
_NEGATION_REACH = 3
# "grave déçu", "so disappointed": an intensifier right before a hit.
_INTENSIFIED = 1.5
# Sarcasm turns the score negative, at least this much: the praise in it is not meant.
_SARCASM_FLOOR = 0.3
# Shouting: enough capitals making most of the letters, or a run of "!!".
_SHOUT_MIN_CAPITALS = 8
_SHOUT_UPPER_SHARE = 0.7
_SHOUT_BOOST = 1.3
_BANGS = re.compile(r"!\s*!")
_BANGS_BOOST = 1.2
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞŒ]")
_LETTER = re.compile(r"[^\W\d_]")

_TOKEN = re.compile(r"\w+(?:'\w+)*|[^\w\s]")
_CLAUSE_BREAKS = frozenset(".,;:!?()")

_NEGATORS = {
    "en": frozenset({
        "not", "no", "never", "nothing", "without", "hardly", "neither", "nor", "cannot",
        "dont", "doesnt", "didnt", "isnt", "wasnt", "arent", "werent", "cant", "wont", "aint",
    }),
    "fr": frozenset({"pas", "jamais", "ni", "aucun", "aucune", "rien", "sans", "non", "guere"}),
}  # fmt: skip
_INTENSIFIERS = {
    "en": frozenset({
        "so", "very", "really", "soo", "super", "extremely", "totally", "absolutely", "truly",
        "incredibly", "seriously", "utterly", "way", "sooo", "mega", "proper",
    }),
    "fr": frozenset({
        "trop", "tres", "vraiment", "grave", "tellement", "hyper", "super", "ultra", "vachement",
        "archi", "completement", "totalement", "franchement", "mega", "carrement", "si",
    }),
}  # fmt: skip

# Emoji, by how people use them in replies to brands. 😂 and 💀 are deliberately absent: they
# laugh with the brand as often as at it. 🔥 is praise in social slang, even for a candle maker.
# 🙄 😒 🙃 also mark sarcasm (`_SARCASM_MARKS`).
_EMOJI: dict[str, float] = {
    "😡": -0.8, "🤬": -0.9, "👎": -0.7, "💔": -0.6, "😭": -0.5, "😠": -0.7, "😤": -0.5,
    "🤮": -0.8, "🤢": -0.6, "🙄": -0.4, "😒": -0.4, "😞": -0.5, "😢": -0.5, "☹": -0.5,
    "🙁": -0.4, "😩": -0.4, "💩": -0.6, "🙃": -0.3, "🤡": -0.6, "😑": -0.3, "🤦": -0.5,
    "😫": -0.5, "😖": -0.5, "😔": -0.4, "😣": -0.4, "❌": -0.4,
    "❤": 0.7, "😍": 0.8, "🙏": 0.5, "👍": 0.5, "🔥": 0.5, "✨": 0.4, "🥰": 0.8, "😊": 0.6,
    "☺": 0.5, "🤩": 0.8, "💯": 0.6, "👌": 0.5, "👏": 0.5, "💕": 0.6, "💖": 0.7, "💗": 0.6,
    "💜": 0.6, "💙": 0.6, "💚": 0.6, "🧡": 0.6, "🤍": 0.6, "😀": 0.5, "😃": 0.5, "😁": 0.5,
    "🙂": 0.3, "😘": 0.6, "🤗": 0.5, "🎉": 0.5, "🥳": 0.6, "😄": 0.5, "🚀": 0.4, "🙌": 0.6,
    "💪": 0.4, "⭐": 0.4, "🌟": 0.5, "😻": 0.7, "😋": 0.6, "✅": 0.3,
}  # fmt: skip

# Both languages: ratings and slang borrowed across the Channel.
_SHARED: dict[str, float] = {
    "wtf": -0.6, "10/10": 0.8, "0/10": -0.8, "bug": -0.4, "bugs": -0.4,
}  # fmt: skip

# Words and phrases as `fold()` writes them (no accents, lower case). Money and trust, product
# defects, service failures (the complaints that carry no sentiment word: "charged twice",
# "toujours pas reçu"), slang and common typos, and praise TextBlob scores low or wrongly
# ("cheap" is +0.4 there, "inadmissible" +0.3, "cozy" -0.2, "obsessed" -0.5).
_LANGUAGE_WORDS: dict[str, dict[str, float]] = {
    "en": {
        # money and trust
        "scam": -0.9, "scammed": -0.9, "fraud": -0.9, "rip off": -0.8, "rip-off": -0.8,
        "ripoff": -0.8, "refund": -0.3, "refund me": -0.6, "refund please": -0.6,
        "want a refund": -0.6, "my refund": -0.4, "waste of money": -0.8,
        "waste of time": -0.7, "never again": -0.8, "fake": -0.5, "misleading": -0.6,
        "lied": -0.7, "cheap": -0.4, "overpriced": -0.6, "unacceptable": -0.8,
        "not acceptable": -0.8, "complaint": -0.4, "charged twice": -0.7,
        "double charged": -0.7, "charged me twice": -0.7, "overcharged": -0.7,
        "charged again": -0.6, "still charged": -0.6, "hidden fees": -0.6,
        "money back": -0.5, "took my money": -0.8, "1 star": -0.6, "one star": -0.6,
        "2 stars": -0.4, "two stars": -0.4, "zero stars": -0.8, "0 stars": -0.8,
        "5 stars": 0.7, "five stars": 0.7,
        # product defects
        "broken": -0.6, "broke": -0.5, "cracked": -0.6, "shattered": -0.7, "smashed": -0.7,
        "chipped": -0.5, "damaged": -0.6, "defective": -0.7, "faulty": -0.7, "leaked": -0.5,
        "leaking": -0.5, "tunneling": -0.4, "tunnelling": -0.4, "tunneled": -0.4,
        "tunnelled": -0.4, "soot": -0.4, "burn mark": -0.6, "dangerous": -0.7,
        "no scent": -0.5, "no smell": -0.5, "can't smell": -0.5, "headache": -0.5,
        "allergic": -0.5, "melted": -0.5, "fell off": -0.5, "came off": -0.5,
        "snapped": -0.5, "ripped": -0.5, "torn": -0.5, "stained": -0.5, "shrunk": -0.5,
        "shrank": -0.5, "mouldy": -0.7, "moldy": -0.7, "expired": -0.5, "is flat": -0.5,
        "went flat": -0.5,
        "doesn't work": -0.6, "does not work": -0.6, "didn't work": -0.6, "not working": -0.6,
        "stopped working": -0.7, "won't turn on": -0.6, "won't charge": -0.6,
        "doesn't charge": -0.6, "wrong item": -0.6, "wrong size": -0.6, "wrong colour": -0.6,
        "wrong color": -0.6, "wrong order": -0.6, "not what i ordered": -0.7,
        "missing": -0.5, "poor quality": -0.7, "gone downhill": -0.6, "downhill": -0.5,
        # service failures, ignored customers, anger
        "no reply": -0.5, "no response": -0.5, "no answer": -0.5, "nobody": -0.4,
        "no one": -0.4, "still waiting": -0.5, "still no": -0.5, "still not": -0.5,
        "still hasn't": -0.5, "still haven't": -0.5, "hasn't arrived": -0.6,
        "haven't received": -0.6, "not received": -0.6, "never arrived": -0.6,
        "never received": -0.6, "never came": -0.6, "never showed up": -0.6,
        "where is my": -0.5, "where's my": -0.5, "wheres my": -0.5, "lost my": -0.5,
        "stuck": -0.4, "delayed": -0.4, "on hold": -0.4, "hung up": -0.6, "ignored": -0.6,
        "ignoring": -0.6, "refused": -0.5, "unhelpful": -0.6, "not anymore": -0.5,
        "used to be": -0.3, "no update": -0.5, "no apology": -0.5, "no compensation": -0.5,
        "says delivered": -0.5, "shows delivered": -0.5, "marked as delivered": -0.5,
        "without telling": -0.5, "without warning": -0.5, "how you treat": -0.6,
        "can't cancel": -0.5, "cannot cancel": -0.5, "stop sending": -0.5,
        "never asked for": -0.5, "didn't ask for": -0.5, "never agreed to": -0.5,
        "keeps charging": -0.6, "after one wash": -0.4, "been waiting": -0.5, "fix this": -0.5,
        "fix it": -0.4, "sort this out": -0.5, "sort it out": -0.5,
        "speak to a manager": -0.5, "switching provider": -0.5, "done with you": -0.7,
        "cancel my": -0.4, "can't log in": -0.5, "cant log in": -0.5, "logs me out": -0.5,
        "locked out": -0.5, "crashed": -0.5, "crashes": -0.5, "crashing": -0.5,
        "keeps crashing": -0.6, "down again": -0.6, "outage": -0.6, "no signal": -0.5,
        "no internet": -0.6, "useless": -0.7, "unusable": -0.7, "a joke": -0.6,
        "nightmare": -0.7, "pathetic": -0.8, "disgrace": -0.8, "disgraceful": -0.8,
        "appalling": -0.8, "rude": -0.6, "unprofessional": -0.7, "incompetent": -0.8,
        "what's the point": -0.5, "whats the point": -0.5, "not cool": -0.5,
        "meh": -0.4, "ugh": -0.4, "smh": -0.4, "yikes": -0.4, "furious": -0.8,
        "fed up": -0.7, "frustrating": -0.6, "disappoints": -0.5, "disappointed": -0.7,
        "disappointing": -0.7, "disapointed": -0.7, "dissapointed": -0.7,
        "thanks for nothing": -0.8,
        "yeah right": -0.5, "sucks": -0.7, "suck": -0.6, "sucked": -0.6, "trash": -0.7,
        "garbage": -0.8, "rubbish": -0.7, "crap": -0.7, "junk": -0.7, "lame": -0.5,
        "terible": -0.8, "horible": -0.8, "hurt": -0.5,
        # praise and recommendation
        "love": 0.6, "loved": 0.6, "loving": 0.6, "obsessed": 0.7, "in love": 0.7,
        "thanks": 0.5, "thank you": 0.6, "thank u": 0.5, "thx": 0.5, "tysm": 0.6,
        "cheers": 0.4, "fave": 0.6, "fav": 0.6, "favourite": 0.6, "favorite": 0.6, "fab": 0.6,
        "cozy": 0.5, "cosy": 0.5, "comfy": 0.6, "calming": 0.5, "relaxing": 0.5,
        "soothing": 0.5, "dreamy": 0.6, "heavenly": 0.7, "divine": 0.6, "no regrets": 0.6,
        "never disappoints": 0.7, "never miss": 0.6, "hands down": 0.4, "happy place": 0.6,
        "worth it": 0.6, "worth the wait": 0.6, "worth every penny": 0.8, "buy again": 0.6,
        "recommend": 0.6, "recommended": 0.5, "recommending": 0.6, "highly recommend": 0.7,
        "must have": 0.6, "game changer": 0.6, "can't wait": 0.5, "slay": 0.5, "slaps": 0.6,
        "banger": 0.6, "yay": 0.5, "chef's kiss": 0.7, "legend": 0.7, "absolute star": 0.7,
        "lifesaver": 0.7, "life saver": 0.7, "saved my": 0.6, "above and beyond": 0.8,
        "shoutout": 0.5, "shout out": 0.5, "kudos": 0.6, "fair play": 0.5, "spot on": 0.6,
        "top notch": 0.7, "no notes": 0.6, "no complaints": 0.5, "customer for life": 0.8,
        "hooked": 0.5, "feels expensive": 0.5, "looks expensive": 0.5, "sorted": 0.4,
        "problem solved": 0.6, "not bad": 0.4,
        "amazng": 0.6, "amzing": 0.6, "awsome": 0.7, "recomend": 0.6,
    },
    "fr": {
        # argent et confiance
        "arnaque": -0.9, "arnaqueur": -0.9, "escroquerie": -0.9, "escrocs": -0.9,
        "remboursez": -0.6, "remboursement": -0.3, "du vol": -0.7, "plus jamais": -0.8,
        "jamais plus": -0.8, "a fuir": -0.8, "bas de gamme": -0.6, "trop cher": -0.6,
        "hors de prix": -0.6, "honteux": -0.8, "honteuse": -0.8, "honte": -0.7,
        "inadmissible": -0.8, "inacceptable": -0.8, "scandale": -0.8, "scandaleux": -0.8,
        "mensonge": -0.6, "mensongere": -0.7, "n'importe quoi": -0.6,
        "foutage de gueule": -0.9, "plainte": -0.5, "pas normal": -0.5,
        "debite deux fois": -0.7, "preleve deux fois": -0.7, "facture deux fois": -0.7,
        "double prelevement": -0.7, "frais caches": -0.6, "sans mon accord": -0.6,
        "sans prevenir": -0.5, "indique livre": -0.5, "j'ai resilie": -0.4,
        "impossible de resilier": -0.6, "impossible d'annuler": -0.6, "jamais demande": -0.5,
        "arretez de": -0.5, "au premier lavage": -0.4, "apres un lavage": -0.4,
        # défauts
        "eclate": -0.6, "eclatee": -0.6, "fissure": -0.6, "fissuree": -0.6, "casse": -0.5,
        "cassee": -0.5, "ebreche": -0.5, "abime": -0.6, "abimee": -0.6, "endommage": -0.6,
        "endommagee": -0.6, "defectueux": -0.7, "defectueuse": -0.7, "dangereux": -0.7,
        "dangereuse": -0.7, "fuit": -0.4, "fuite": -0.4, "creuse": -0.3, "suie": -0.4,
        "aucune odeur": -0.5, "sent rien": -0.5, "mal de tete": -0.5, "pourri": -0.7,
        "pourrie": -0.7, "nul": -0.7, "nulle": -0.7, "nuls": -0.7, "nulles": -0.7,
        "bof": -0.4, "pire": -0.7, "camelote": -0.8, "de la merde": -0.9, "merde": -0.7,
        "merdique": -0.8, "daube": -0.7, "bidon": -0.5, "naze": -0.6, "nase": -0.6,
        "a plat": -0.5, "ne sert a rien": -0.7, "sert a rien": -0.7, "ne marche pas": -0.6,
        "marche pas": -0.6, "marche plus": -0.6, "ne fonctionne pas": -0.6,
        "fonctionne pas": -0.6, "fonctionne plus": -0.6, "s'allume plus": -0.6,
        "s'allume pas": -0.6, "charge pas": -0.5, "charge plus": -0.5, "en panne": -0.6,
        "panne": -0.5, "plante": -0.4, "bugue": -0.5, "beug": -0.4, "inutilisable": -0.7,
        "inutile": -0.6, "coupure": -0.5, "dechire": -0.5, "dechiree": -0.5,
        "retreci": -0.5, "a lache": -0.5, "a grille": -0.5, "mauvaise taille": -0.6,
        "mauvaise couleur": -0.6, "mauvais article": -0.6, "mauvaise qualite": -0.7,
        "ne correspond pas": -0.5, "correspond pas": -0.5, "rien a voir avec": -0.5,
        "incomplete": -0.5, "il manque": -0.5, "manquant": -0.5, "tro nul": -0.8,
        # clients ignorés, déception, colère
        "aucune reponse": -0.6, "pas de reponse": -0.6, "personne ne": -0.5,
        "toujours pas": -0.5, "toujours rien": -0.5, "toujours aucune": -0.5,
        "toujours en attente": -0.5, "attends toujours": -0.5, "attend toujours": -0.5,
        "que j'attends": -0.5, "aucune nouvelle": -0.5, "pas de nouvelles": -0.5,
        "jamais recu": -0.6, "jamais recue": -0.6, "refusez": -0.5, "plus maintenant": -0.4,
        "en retard": -0.5, "retard": -0.5, "colis perdu": -0.6, "egare": -0.5,
        "bloque": -0.4, "injoignable": -0.6, "impossible de joindre": -0.6,
        "aux abonnes absents": -0.7, "raccroche": -0.6, "inexistant": -0.5,
        "je veux resilier": -0.6, "resilier": -0.3, "decu": -0.7, "decue": -0.7,
        "decus": -0.7, "decues": -0.7, "decevant": -0.7, "decevante": -0.7, "decoit": -0.5,
        "degoute": -0.7, "degoutee": -0.7, "colere": -0.6, "enerve": -0.6, "enervee": -0.6,
        "furieux": -0.8, "marre": -0.6, "ras le bol": -0.7, "relou": -0.5, "chiant": -0.5,
        "galere": -0.5, "abuse": -0.5, "abusez": -0.6, "vous foutez": -0.8,
        "se fout": -0.7, "se foutent": -0.7, "lamentable": -0.8, "catastrophe": -0.7,
        "catastrophique": -0.8, "cata": -0.7, "c'est une blague": -0.6, "la blague": -0.5,
        "c'est quoi ce": -0.5, "mieux avant": -0.6, "ca devient lourd": -0.5,
        "pas terrible": -0.5, "pas ouf": -0.5, "pas fou": -0.4, "merci pour rien": -0.8,
        "merci du respect": -0.6, "merci hein": -0.5, "pour rien": -0.5,
        # éloges et recommandation
        "au top": 0.8, "genial": 0.8, "geniale": 0.8, "geniaux": 0.8, "merci": 0.5,
        "trop bien": 0.7, "trop bon": 0.7, "trop beau": 0.7, "trop belle": 0.7,
        "trop cool": 0.7, "trop top": 0.8, "adore": 0.7, "adoree": 0.7, "jador": 0.7,
        "jadore": 0.7, "kiffe": 0.6, "coup de coeur": 0.8, "merveille": 0.8, "conquis": 0.7,
        "conquise": 0.7, "aucun regret": 0.6, "sans hesiter": 0.6, "les yeux fermes": 0.5,
        "nickel": 0.6, "impec": 0.6, "impeccable": 0.7, "bravo": 0.6, "pepite": 0.7,
        "ravi": 0.7, "ravie": 0.7, "je suis fan": 0.6, "je recommande": 0.6,
        "recommande": 0.5, "je conseille": 0.6, "je valide": 0.6, "vaut le coup": 0.6,
        "valait le coup": 0.6, "decoit jamais": 0.7, "apaisant": 0.5, "apaisante": 0.5,
        "relaxant": 0.5, "relaxante": 0.5, "reconfortant": 0.5, "cocooning": 0.5,
        "youpi": 0.5, "ouf": 0.6, "de ouf": 0.7, "style": 0.5, "tuerie": 0.8,
        "canon": 0.5, "canons": 0.5, "rien a dire": 0.5, "rien a redire": 0.6,
        "bluffe": 0.6, "bluffee": 0.6, "content": 0.5, "contente": 0.6, "satisfait": 0.6,
        "satisfaite": 0.6, "adorable": 0.6, "adorables": 0.6, "reactif": 0.5,
        "reactive": 0.5, "reactivite": 0.5, "sublime": 0.7, "belle decouverte": 0.6,
        "accro": 0.6, "bon conseil": 0.5, "bons conseils": 0.5, "merci infiniment": 0.7,
        "un grand merci": 0.7, "conforme": 0.4, "bien emballe": 0.5, "bien recu": 0.4,
        "toujours aussi bien": 0.6, "toujours aussi bon": 0.6, "au taquet": 0.5, "apprecie": 0.5,
        "pas mal": 0.4, "top": 0.6,
    },
}  # fmt: skip

# TextBlob's word scores set aside where social media use the word otherwise: "lol" laughs
# (+0.8 in TextBlob), French "grave" intensifies ("grave déçu", +0.4 there as "serious"),
# sizes, ages, colours and ranks describe ("the new update broke everything", "rétréci au
# premier lavage"), "sure" is as often sarcastic as not.
_TEXTBLOB_OVERRIDES: dict[str, frozenset[str]] = {
    "en": frozenset({
        "lol", "sure", "large", "small", "medium", "little", "big", "new", "old", "first",
        "second", "third", "last", "open", "white", "black",
    }),
    "fr": frozenset({
        "grave", "large", "petit", "petite", "grand", "grande", "nouveau", "nouvelle",
        "premier", "première", "deuxième", "dernier", "ouvert", "ouverte",
    }),
}  # fmt: skip


@dataclass(frozen=True, slots=True)
class Reason:
    """One word, phrase or rule that moved a score, for "why this score".

    `rule` is a stable code (the keys of `_REASON_TEXT`), `words` what the text said, `effect`
    the weight it brought (before the mix; for "shouting" the factor).
    """

    rule: str
    words: str
    effect: float

    def describe(self) -> str:
        """A line for the user, in their language."""
        return _(_REASON_TEXT[self.rule]).format(words=self.words, effect=self.effect)


_REASON_TEXT = {
    "word": N_("“{words}” {effect:+.2f}"),
    "negated": N_("“{words}” negated {effect:+.2f}"),
    "intensified": N_("“{words}” intensified {effect:+.2f}"),
    "textblob": N_("“{words}” (TextBlob) {effect:+.2f}"),
    "question": N_("question, read for complaints only: “{words}”"),
    "sarcasm": N_("sarcasm (“{words}”): praise read as negative"),
    "shouting": N_("shouting or “!!”: ×{effect:.2f}"),
    "language": N_("language unknown, scored as {words}"),
}


def _tokens(folded: str) -> list[str]:
    """Words, emoji and punctuation of folded text; French elisions split ("j'adore")."""
    folded = folded.replace("’", "'")
    tokens: list[str] = _TOKEN.findall(folded)
    if "'" not in folded:
        return tokens
    split: list[str] = []
    for token in tokens:
        head, apostrophe, tail = token.partition("'")
        if apostrophe and head in FRENCH_ELISIONS:
            split += [head + "'", tail]
        else:
            split.append(token)
    return split


def _phrase_table(entries: dict[str, float]) -> dict[tuple[str, ...], float]:
    return {tuple(_tokens(fold(entry))): weight for entry, weight in entries.items()}


_LEXICON: dict[str, dict[tuple[str, ...], float]] = {
    lang: _phrase_table(_EMOJI | _SHARED | words) for lang, words in _LANGUAGE_WORDS.items()
}
# For each word that starts an entry, the longest entry it starts: one lookup skips most words.
_STARTS: dict[str, dict[str, int]] = {
    lang: {
        first: max(len(phrase) for phrase in table if phrase[0] == first)
        for first in {phrase[0] for phrase in table}
    }
    for lang, table in _LEXICON.items()
}
# The tokens `_lexicon_score` acts on: the others (most) only sit between them.
_ACTIVE: dict[str, frozenset[str]] = {
    lang: frozenset(starts) | _CLAUSE_BREAKS | _NEGATORS[lang] for lang, starts in _STARTS.items()
}


def _lexicon_score(
    key: str, lang: str, trace: list[Reason] | None, *, complaints_only: bool = False
) -> tuple[float, int]:
    """The domain lexicon's polarity for a text's `match_key` (sum of hits, clipped) and its
    number of hits; each hit is added to `trace` when one is given.

    Longest phrases match first; a hit with a negator up to `_NEGATION_REACH` words before it,
    in the same clause, is reversed and softened as pattern does ("pas génial" -> negative),
    one right after an intensifier is strengthened ("grave déçu"). Emoji are never negated:
    "the lid doesn't fit 🤬" is angry, not the opposite. With `complaints_only` (a question)
    only negative hits count.
    """
    table, starts, negators = _LEXICON[lang], _STARTS[lang], _NEGATORS[lang]
    folded = recent_fold(key)  # the whole text's, already folded, unless it asks something
    tokens = _tokens(folded)
    # English negates with any "n't" too ("shouldn't"), which no word list can hold.
    contracted = lang == "en" and ("n't" in folded or "n’t" in folded)
    # The tokens to visit: those that start an entry, end a clause or negate (the others only
    # sit between them), all of them when an "n't" is about.
    visit: Iterable[int] = range(len(tokens))
    if not contracted:
        visit = compress(count(), map(_ACTIVE[lang].__contains__, tokens))
    total, hits, negated_until, resume = 0.0, 0, -1, 0
    for i in visit:
        if i < resume:  # inside the last hit
            continue
        token = tokens[i]
        if token in starts:
            for size in range(min(starts[token], len(tokens) - i), 0, -1):
                phrase = tuple(tokens[i : i + size])
                weight = table.get(phrase)
                if weight is not None:
                    rule, weight = _weigh(weight, tokens, i, negated_until, lang)
                    resume = i + size
                    if weight < 0 or not complaints_only:
                        total += weight
                        hits += 1
                        if trace is not None:
                            trace.append(Reason(rule, " ".join(phrase), weight))
                    break
            if resume > i:
                continue
        if token in _CLAUSE_BREAKS:
            negated_until = -1
        elif token in negators or (contracted and token.endswith("n't")):
            negated_until = i + _NEGATION_REACH
    return max(-1.0, min(total, 1.0)), hits


def _weigh(
    weight: float, tokens: list[str], i: int, negated_until: int, lang: str
) -> tuple[str, float]:
    """The rule that applies to a hit at `tokens[i]` and its weight under it."""
    if i <= negated_until and tokens[i].isalnum():
        return "negated", weight * _NEGATED
    if i and tokens[i - 1] in _INTENSIFIERS[lang]:
        return "intensified", weight * _INTENSIFIED
    return "word", weight


# Waiting and chasing, counted: "on hold for 45 min", "ça fait 10 jours que", "emailed 4 times".
_NUMBERS = ("two", "three", "four", "five", "six", "several", "multiple", "many", "deux", "trois",
            "quatre", "cinq", "plusieurs")  # fmt: skip
_NUMBER = rf"(?:\d+|{'|'.join(_NUMBERS)})"
_WAITED = Cue([
    ("wait waits waiting waited hold queue queued queuing queueing attend attends attendu "
     "attendue attendre attendais attente",
     r"(?:wait\w*|on hold|queu\w*|attend\w*|attente)\D{0,25}?\d+\s*"
     r"(?:min\w*|h|hrs?|hours?|days?|weeks?|months?|jours?|semaines?|mois|heures?)"),
    ("fait", rf"ca fait {_NUMBER} \w+ que"),
    ("days weeks months", rf"{_NUMBER} (?:days|weeks|months) (?:later|and still|now)"),
    ("times fois",
     r"(?:emailed|called|phoned|rang|messaged|contacted|appele|ecrit|relance)\w* (?:you )?"
     rf"{_NUMBER} (?:times|fois)"),
])  # fmt: skip
_WAITED_WEIGHT = -0.5
_RECOMMENDED_WEIGHT = 0.5

# Sarcasm: an eye-roll anywhere, or a praise word opening a sentence, set off by a comma or
# a mark, in a text that says something happened again ("Bravo, encore la mauvaise taille",
# "great, another parcel left in the rain", "Oh perfect, the code doesn't work. Again.").
_SARCASM_MARKS = ("🙄", "😒", "🙃")
_PRAISE_OPENING = re.compile(
    r"(?:^|[.!?]\s)\W*(?:oh\s+)?(?:great|perfect|brilliant|lovely|wonderful|fantastic|awesome"
    r"|nice|well done|thanks|cheers|bravo|super|genial|parfait|merci|formidable|magnifique"
    r"|top|excellent)\s*[,!.]"
    # ... or closing it on its own: "so my parcel is in another city now?? lovely"
    r"|[.!?]\s*(?:great|perfect|brilliant|lovely|wonderful|fantastic|awesome|nice|bravo|super"
    r"|genial|parfait)\W*$"
)
_AGAIN = Cue([
    ("again another yet encore", None),
    ("once time usual nouveau plus toujours hab habitude",
     r"once more|(?:second|third) time|as usual|(?:de|a) nouveau|une fois de plus"
     r"|toujours pas|comme d'hab(?:itude)?"),
])  # fmt: skip


def _sarcasm(key: str, folded: str, recommended: bool) -> str | None:
    """The cue that marks a lower-cased text (and its folded form) as sarcastic, or None.
    A recommendation is sincere however it opens ("Great, bought another one for my mum")."""
    for mark in _SARCASM_MARKS:
        if mark in key:
            return mark
    if recommended or ("," not in key and "!" not in key and "." not in key and "?" not in key):
        return None
    again = _AGAIN.find(folded)
    opening = _PRAISE_OPENING.search(folded) if again else None
    if opening is None:
        return None
    return f"{opening.group().strip(' ,!.')} … {again}"


def _intensity(text: str) -> float:
    """How much shouting amplifies the score: ALL CAPS and "!!" runs."""
    upper = len(_UPPER.findall(text))
    shouting = upper >= _SHOUT_MIN_CAPITALS and upper >= _SHOUT_UPPER_SHARE * len(
        _LETTER.findall(text)
    )
    return (_SHOUT_BOOST if shouting else 1.0) * (_BANGS_BOOST if _BANGS.search(text) else 1.0)


_LOADING = threading.Lock()

# Pattern's tokenizer: the quotes it spaces out, its paragraph break, the tokens that end a
# sentence and those a sentence end takes along ("!?", "...)"). Its English version stops that
# tail at a straight quote: no rewrite of a sentence can reach across one, so either rule gives
# the same words.
_QUOTES = tuple((quote, f" {quote} ") for quote in "“”‘’'\"")
_PARAGRAPH = re.compile(r"\n{2,}")
_SENTENCE_ENDS = frozenset({"...", ".", "!", "?"})
_SENTENCE_TAIL = frozenset({"'", '"', "”", "’", "...", ".", "!", "?", ")"})
# Pattern's sarcasm mark "(!)" (RE_SARCASM, `\( ?\! ?\)`) rewrites a sentence only where it
# is spaced out.
_SPACED_SARCASM = r"\( !|! \)"
_Emoticons = dict[tuple[str, float], set[str]]  # pattern's EMOTICONS: (mood, polarity) -> faces
_BANG_BOOST = 1.25  # pattern: "!" raises the opinion before it by a quarter
_NEGATED_WORD = -0.5  # pattern: "not good" is slightly bad


def _close_emoticon(match: re.Match[str]) -> str:
    """Pattern's RE_EMOTICONS replacement: the emoticon without its spaces (": )" -> ":)")."""
    return match.group(1).replace(" ", "") + match.group(2)


class _Pattern:
    """TextBlob's pattern sentiment for one language, ported for the one call cmtui makes:
    the polarity of a plain string (`Sentiment.__call__`), with the same words, the same
    assessments and the same float to the last bit (tests/test_sentiment.py compares).

    Pattern re-reads its tables for every word and runs a dozen regular expressions over each
    text. Here its word list is flattened once into a dict, subjectivity is not computed, tokens
    come from one regular expression, and the passes that cannot change a text's words are
    skipped: contractions that only space out an apostrophe (the quote step spaces every
    apostrophe anyway), and the per-sentence sarcasm and emoticon rewrites when nothing they
    could rewrite is there.

    The French tokenizer differs in its abbreviations and contractions (the tables passed in),
    and it writes "l’" as "l&rsquo;" while it tokenizes.
    """

    def __init__(
        self,
        sentiment: Any,
        module: Any,
        abbreviations: set[str],
        contractions: dict[str, str],
        *,
        french: bool,
    ) -> None:
        """`sentiment` is pattern's Sentiment, `module` the `_text` module its tokenizer comes
        from; `abbreviations` and `contractions` are the tables its parser passes."""
        self._eos: str = module.EOS
        marks = re.escape("".join(sorted(set(module.PUNCTUATION) - {"."})))
        self._lead = frozenset(module.PUNCTUATION.replace(".", ""))
        self._trail = self._lead | {"."}
        # Pattern splits every punctuation mark off the ends of a token, periods aside: what is
        # left runs from the first character that is not a mark to the last.
        self._tokenize = re.compile(f"[{marks}]|[^\\s{marks}](?:\\S*[^\\s{marks}])?")
        # What is left may end in a period ("it.", "e.g." in "(e.g.)"): pattern's period rules.
        self._period_end = re.compile(f"\\.[{marks}]*(?!\\S)")
        self._abbreviations = abbreviations
        # Pattern's three abbreviation forms ("T.", "U.S.", "Mr.") as one expression.
        self._abbreviation_forms = re.compile(
            "|".join(
                f"(?:{form.pattern})"
                for form in (module.RE_ABBR1, module.RE_ABBR2, module.RE_ABBR3)
            )
        )
        # Each rule with what a text must hold for it to apply: itself if plain text, else its
        # last character (French "(l|c|...|qu)’" needs a "’").
        self._contractions = [
            (re.compile(key), value, key if re.escape(key) == key else key[-1])
            for key, value in contractions.items()
            if not _spaces_an_apostrophe(key, value)
        ]
        self._sarcasm: re.Pattern[str] = module.RE_SARCASM
        self._emoticons: re.Pattern[str] = module.RE_EMOTICONS
        self._rewrites = _rewrite_clues(module.EMOTICONS, french=french)
        self._french = french
        self._tail = _SENTENCE_TAIL | {self._eos}
        self._lexicon = _known_words(sentiment)
        self._negations = frozenset(sentiment.negations)
        self._faces = _faces(module.EMOTICONS, module.PUNCTUATION)
        # The unknown words that matter when no adverb or negation is pending.
        self._marks = self._negations | self._faces.keys() | {"!"}

    def _spaced(self, text: str) -> str:
        """The text with contractions, quotes and paragraph breaks spaced as pattern does."""
        for pattern, replacement, needle in self._contractions:
            if needle in text:
                text = pattern.sub(replacement, text)
        for quote, spaced in _QUOTES:
            text = text.replace(quote, spaced)
        text = text.replace("\r\n", "\n")
        if "\n\n" in text:
            text = _PARAGRAPH.sub(f" {self._eos} ", text)
        return text

    def _is_abbreviation(self, token: str) -> bool:
        """Whether pattern keeps the period of a token that ends in one."""
        return token in self._abbreviations or self._abbreviation_forms.match(token) is not None

    def _split_period(self, token: str, tokens: list[str]) -> None:
        """Append a token that ends in a period as pattern splits it: "..." and periods come off
        unless an abbreviation keeps its period, and so do the marks they uncover."""
        if len(token) > 1 and token[-2] not in self._trail:  # the usual "word."
            tokens += [token] if self._is_abbreviation(token) else [token[:-1], "."]
            return
        tail = []
        while token[-1:] in self._trail:
            if token[-1:] in self._lead:
                tail.append(token[-1])
                token = token[:-1]
            if token.endswith("..."):
                tail.append("...")
                token = token[:-3].rstrip(".")
            if token.endswith("."):
                if self._is_abbreviation(token):
                    break
                tail.append(".")
                token = token[:-1]
        if token:
            tokens.append(token)
        tokens.extend(reversed(tail))

    def _tokens(self, spaced: str) -> list[str]:
        """Pattern's tokens of spaced text, its end-of-sentence markers included."""
        tokens: list[str] = self._tokenize.findall(spaced)
        if self._period_end.search(spaced) is None:
            return tokens
        split: list[str] = []
        for token in tokens:
            if token[-1] == ".":
                self._split_period(token, split)
            else:
                split.append(token)
        return split

    def _sentences(self, tokens: list[str]) -> list[str]:
        """Pattern's words by way of its sentences: a sentence ends at ".", "!", "?", "..." or a
        paragraph break, with the closing marks after it; sarcasm marks and emoticons written
        with spaces are closed up within a sentence."""
        sentences: list[list[str]] = [[]]
        index = 0
        while index < len(tokens):
            token = tokens[index]
            index += 1
            sentences[-1].append(token)
            if token in _SENTENCE_ENDS or token == self._eos:
                while index < len(tokens) and tokens[index] in self._tail:
                    sentences[-1].append(tokens[index])
                    index += 1
                sentences.append([])
        words: list[str] = []
        for sentence in sentences:
            text = " ".join(token for token in sentence if token != self._eos)
            text = self._emoticons.sub(_close_emoticon, self._sarcasm.sub("(!)", text))
            if self._french:
                text = text.replace("&rsquo ;", "’")
            words += text.split()
        return words

    def words(self, text: str) -> list[str]:
        """The words pattern scores in `text`, in order, before lower-casing."""
        spaced = self._spaced(text)
        tokens = self._tokens(spaced)
        words = [token for token in tokens if token != self._eos] if self._eos in spaced else tokens
        if self._rewrites.search(" ".join(words)) is None:
            return words
        return self._sentences(tokens)

    def without(self, words: frozenset[str]) -> _Pattern:
        """This scorer with `words` left out of its word list."""
        adjusted = copy.copy(self)
        adjusted._lexicon = {w: v for w, v in self._lexicon.items() if w not in words}
        return adjusted

    def __call__(self, text: str, trace: list[Reason] | None = None) -> tuple[float, int]:
        """The polarity of `text` and the number of assessments it is the mean of; each
        assessment is added to `trace` when one is given."""
        words = self.words(text)
        if not text.islower() and text.lower() != text:  # casefolded text is lower case
            words = [word.lower() for word in words]
        lexicon, negations, faces, marks = self._lexicon, self._negations, self._faces, self._marks
        # Pattern's assessments: [polarity, intensity, factor], the factor -0.5 once negated.
        found: list[list[float]] = []
        modifier: bool | None = None  # after an adverb: whether it is one that may negate
        negation: str | None = None
        names: list[str] = []  # what each assessment read, kept for a trace only
        for word in words:
            known = lexicon.get(word)
            if known is not None:
                polarity, intensity, adverb = known
                if modifier is None:
                    found.append([polarity, intensity, 1.0])
                    if trace is not None:
                        names.append(word)
                else:  # "really good": the adverb's assessment takes the word
                    found[-1][0] = max(-1.0, min(polarity * found[-1][1], 1.0))
                    found[-1][1] = intensity
                    if trace is not None:
                        names[-1] += " " + word
                if negation is not None:
                    found[-1][1] = 1.0 / found[-1][1]
                    found[-1][2] = _NEGATED_WORD
                    if trace is not None:
                        names[-1] = f"{negation} {names[-1]}"
                modifier = adverb
                negation = word if word in negations else None
                continue
            if modifier is None and negation is None and word not in marks:
                continue  # an unknown word with nothing to carry or break
            if word in negations:
                negation = word
            elif negation is not None and len(word.strip("'")) > 1:
                negation = None
            if negation is not None and modifier:  # "really not good"
                found[-1][2] = _NEGATED_WORD
                negation = None
            elif modifier is not None and len(word) > 2:
                modifier = None
            if word == "!" and found:
                found[-1][0] = max(-1.0, min(found[-1][0] * _BANG_BOOST, 1.0))
            face = faces.get(word)
            if face is not None:
                found.append([face, 1.0, 1.0])
                if trace is not None:
                    names.append(word)
        if trace is not None:
            trace += (
                Reason("textblob", name, polarity * factor)
                for name, (polarity, _strength, factor) in zip(names, found, strict=True)
                if polarity
            )
        total = 0.0  # summed in order, as pattern's mean does, so the float is the same
        for polarity, _strength, factor in found:
            total += polarity * factor
        return total / float(len(found) or 1), len(found)


def _known_words(sentiment: Any) -> dict[str, tuple[float, float, bool | None]]:
    """Pattern's word list as its scoring reads it with no part of speech: each word's polarity
    and intensity, and for an adverb (a "modifier") whether it may also carry a negation that
    follows it ("hardly not good": pattern's `modifier` rule, "-ly" or "-ment")."""
    words = {}
    for word, senses in sentiment.items():
        polarity, _, intensity = senses[None]
        adverb = any(map(senses.__contains__, sentiment.modifiers))
        words[word] = (polarity, intensity, bool(sentiment.modifier(word)) if adverb else None)
    return words


def _faces(emoticons: _Emoticons, punctuation: str) -> dict[str, float]:
    """The lower-cased words pattern scores as emoticons, with their polarity: the first group
    that holds one wins, as in pattern's lookup, which skips words that are all letters, longer
    than 5 or punctuation. Its sarcasm mark "(!)" is an opinion of 0."""
    faces: dict[str, float] = {}
    for (_mood, polarity), group in emoticons.items():
        for face in map(str.lower, group):
            if not face.isalpha() and len(face) <= 5 and face not in punctuation:
                faces.setdefault(face, polarity)
    faces["(!)"] = 0.0
    return faces


def _rewrite_clues(emoticons: _Emoticons, *, french: bool) -> re.Pattern[str]:
    """What pattern's per-sentence rewrites need to find to change a sentence: a spaced sarcasm
    mark, an emoticon's last space followed by the rest of the emoticon as a whole token
    (": )", "o . O"), and in French "&rsquo ;". Without any, the rewrites can be skipped."""
    rests: dict[str, set[str]] = {}
    for face in (face for group in emoticons.values() for face in group):
        for k in range(len(face) - 1):
            rests.setdefault(face[k], set()).add(re.escape(face[k + 1 :]))
    # Grouped by the character before the space, each branch opening with it, so that the
    # regular expression engine skips ahead to where one of those characters is.
    clues = [_SPACED_SARCASM]
    clues += [
        f"{re.escape(first)} (?:{'|'.join(sorted(ends))})(?!\\S)"
        for first, ends in sorted(rests.items())
    ]
    if french:
        clues.append(re.escape("&rsquo ;"))
    return re.compile("|".join(clues))


def _spaces_an_apostrophe(key: str, value: str) -> bool:
    """Whether a contraction rule only puts spaces beside an apostrophe ("'s" -> " 's"), which
    pattern's quote step does to every apostrophe after it: such a rule changes no token."""
    return (
        re.escape(key) == key
        and value.replace(" ", "") == key
        and all("'" in value[max(i - 1, 0) : i + 2] for i, c in enumerate(value) if c == " ")
    )


@lru_cache(maxsize=1)
def _textblob() -> dict[str, _Pattern]:
    """TextBlob's pattern sentiment per language, imported and read on first use.

    The ports take their tables from the same objects `textblob.en.sentiments.PatternAnalyzer`
    and `textblob_fr.PatternAnalyzer` use. Pattern's word lists load lazily on first read, so
    that happens here, under a lock: thread workers must not fill the same dict at once.
    """
    with _LOADING:
        from textblob import _text as english_text
        from textblob.en import sentiment as english
        from textblob_fr import _text as french_text
        from textblob_fr.fr import ABBREVIATIONS as french_abbreviations
        from textblob_fr.fr import replacements as french_contractions
        from textblob_fr.fr import sentiment as french

        return {
            "en": _Pattern(
                english,
                english_text,
                english_text.ABBREVIATIONS,
                english_text.replacements,
                french=False,
            ),
            "fr": _Pattern(
                french, french_text, french_abbreviations, french_contractions, french=True
            ),
        }


@lru_cache(maxsize=1)
def _domain_textblob() -> dict[str, _Pattern]:
    """TextBlob's scorers with `_TEXTBLOB_OVERRIDES` left out, for the domain-extended score."""
    return {lang: port.without(_TEXTBLOB_OVERRIDES[lang]) for lang, port in _textblob().items()}


class _Reading(NamedTuple):
    """What `_judge` reads of a text whatever its language, worked out once per text."""

    key: str  # `match_key`, elongations shortened
    statements: str
    questions: str
    recommended: str | None  # the words that recommend, if any
    waited: str | None  # the words that count a wait or the times the customer chased
    sarcasm: str | None  # the cue, if any
    boost: float  # shouting


@lru_cache(maxsize=8)
def _read(text: str) -> _Reading:
    """A text's `_Reading`; remembered for the last few texts (a text of unknown language is
    judged in both, `explain` follows `score`)."""
    key = social_key(text)
    folded = recent_fold(key)
    statements, questions = split_questions(key)
    recommended = recommends(recent_fold(statements))
    return _Reading(
        key,
        statements,
        questions,
        recommended,
        _WAITED.find(folded),
        _sarcasm(key, folded, recommended is not None),
        _intensity(text),
    )


def _judge(text: str, lang: str, trace: list[Reason] | None) -> tuple[float, int]:
    """The domain-extended polarity of `text` in a scored language and how much evidence it
    rests on (TextBlob assessments, lexicon hits, cues); the reasons go to `trace` if given.

    Question sentences are read for complaints only; the lexicon and TextBlob are mixed, the
    lexicon weighing more; sarcasm turns the result negative; shouting amplifies it.
    """
    read = _read(text)
    statements = read.statements
    polarity, opinions = _domain_textblob()[lang](statements, trace) if statements else (0.0, 0)
    found, hits = _lexicon_score(statements, lang, trace)
    if read.questions:
        asked, asked_hits = _lexicon_score(read.questions, lang, trace, complaints_only=True)
        found, hits = max(-1.0, found + asked), hits + asked_hits
        if trace is not None:
            trace.append(Reason("question", read.questions.strip(), 0.0))
    # Recommending counts as praise unless something went wrong ("wouldn't recommend it",
    # "bought my third one and it broke").
    recommended = read.recommended if found >= 0 else None
    for said, weight in ((recommended, _RECOMMENDED_WEIGHT), (read.waited, _WAITED_WEIGHT)):
        if said is not None:
            found, hits = max(-1.0, min(found + weight, 1.0)), hits + 1
            if trace is not None:
                trace.append(Reason("word", said, weight))
    if hits and opinions:
        polarity = _TEXTBLOB_WEIGHT * polarity + (1 - _TEXTBLOB_WEIGHT) * found
    elif hits:
        polarity = found
    if read.sarcasm is not None:
        polarity = -max(abs(polarity), _SARCASM_FLOOR)
        if trace is not None:
            trace.append(Reason("sarcasm", read.sarcasm, polarity))
    if read.boost != 1.0 and trace is not None and polarity:
        trace.append(Reason("shouting", text, read.boost))
    evidence = opinions + hits + (read.sarcasm is not None)
    return max(-1.0, min(polarity * read.boost, 1.0)), evidence


@lru_cache(maxsize=_CACHE_SIZE)
def _score(text: str, lang: str | None, lexicon: bool) -> tuple[float | None, str | None]:
    """`SentimentAnalyzer.read` for a truncated text and a scored language or None."""
    if not lexicon:  # plain TextBlob, which has no answer for an unknown language
        return (
            (None, None) if lang is None else (_textblob()[lang](recent_match_key(text))[0], lang)
        )
    if lang is not None:
        return _judge(text, lang, None)[0], lang
    return _stronger(text, None)


def _stronger(text: str, trace: list[Reason] | None) -> tuple[float | None, str | None]:
    """A text of unknown language scored in English and in French: the score with the
    stronger signal and its language (English on a tie); (None, None) when there is nothing
    to judge (no letter, no known emoji or emoticon)."""
    english, french = _judge(text, "en", None), _judge(text, "fr", None)
    (score, evidence), lang = (
        (french, "fr") if abs(french[0]) > abs(english[0]) else (english, "en")
    )
    if not evidence and _LETTER.search(text) is None:
        return None, None
    if trace is not None:
        trace.append(Reason("language", lang, 0.0))
        _judge(text, lang, trace)
    return score, lang


def polarity_label(score: float | None) -> str | None:
    """ "pos", "neg" or "neu" for a score (neutral within `NEUTRAL_BAND`); None for None."""
    if score is None:
        return None
    if score > NEUTRAL_BAND:
        return "pos"
    return "neg" if score < -NEUTRAL_BAND else "neu"


@dataclass(frozen=True, slots=True)
class Explained:
    """A text's score with its language, intent and the reasons for the score."""

    score: float | None
    """Polarity -1..1; None only for a text with nothing to judge (no letters, no emoji)."""
    lang: str | None
    """The language scored in ("en" or "fr"); None with a None score."""
    intent: Intent
    reasons: tuple[Reason, ...]
    """What moved the score, in the order it was read (see `Reason.describe`)."""


def _scored_language(lang: str | None) -> str | None:
    """ "en" or "fr" for a tag naming one of them ("fr-CA"), else None."""
    primary = lang if lang in SCORED_LANGUAGES else primary_subtag(lang)
    return primary if primary in SCORED_LANGUAGES else None


class Analysis(NamedTuple):
    """A customer's message as ingest reads it (`SentimentAnalyzer.analyse`)."""

    lang: str | None  # None only for a text with nothing to judge and no language given
    score: float | None
    intent: Intent


class SentimentAnalyzer:
    """Polarity in -1..1 for English and French text, TextBlob + textblob-fr, extended with a
    domain layer (see the module docstring). `lexicon=False` is plain TextBlob, for comparison."""

    def __init__(self, *, lexicon: bool = True) -> None:
        self.lexicon = lexicon

    def score(self, text: str, lang: str | None) -> float | None:
        """Polarity of `text` written in `lang` (as `detect_language` answers, or a tag such as
        "fr-CA"). A text in another or an unknown language is scored in both and keeps the
        stronger signal; None only when it has nothing to judge (no letter, no emoji)."""
        return self.read(text, lang)[0]

    def read(self, text: str, lang: str | None) -> tuple[float | None, str | None]:
        """`score()` and the language it was read in: `lang` when it names English or French,
        else the one with the stronger signal (None with a None score). As fast as `score()`:
        for ingest, so that every text with words gets a language and a score."""
        return _score(text[:_MAX_CHARS], _scored_language(lang), self.lexicon)

    def analyse(self, text: str, hint: str | None = None, default: str | None = None) -> Analysis:
        """What ingest keeps of a customer's text, reading it once for all: its score, intent
        and language, which is the one the network gave (`hint`) or the text shows, else the
        brand's (`default`), else `hint` when it names another language, else the one the
        text scored strongest in: every text with words gets a language and a score."""
        lang = detect_language(text, hint, default)
        score, scored = self.read(text, lang)
        lang = lang or hint or scored
        if not self.lexicon:
            return Analysis(lang, score, intent_of(text, score))
        read = _read(text[:_MAX_CHARS])
        return Analysis(
            lang, score, intent_from(score, read.recommended is not None, bool(read.questions))
        )

    def score_many(self, items: Iterable[tuple[str, str | None]]) -> list[float | None]:
        """`score()` for each (text, lang) pair, in order."""
        return [self.score(text, lang) for text, lang in items]

    def explain(self, text: str, lang: str | None) -> Explained:
        """`score()` with the language it was read in, the text's intent and the reasons for
        the score: slower than `score()`, for showing one message, not for ingest."""
        text = text[:_MAX_CHARS]
        scored = _scored_language(lang)
        trace: list[Reason] = []
        score: float | None
        if not self.lexicon:
            score = (
                None if scored is None else _textblob()[scored](recent_match_key(text), trace)[0]
            )
        elif scored is None:
            score, scored = _stronger(text, trace)
        else:
            score = _judge(text, scored, trace)[0]
        return Explained(score, scored, intent_of(text, score), tuple(trace))


def rolling_sentiment(scores: Iterable[float | None], *, decay: float = 0.5) -> float | None:
    """A conversation's sentiment: the weighted mean of its customer messages' scores, oldest
    first, each message weighing `decay` times the one after it (the latest 1, the one before
    0.5, then 0.25 ...), so the customer's current mood leads: "it arrived broken" then
    "thanks, sorted!" sums up positive. The caller leaves the brand's own replies out; None
    scores (nothing to judge) are skipped; None when no message has a score.
    """
    total = weights = 0.0
    for score in scores:
        if score is None:
            continue
        total, weights = total * decay + score, weights * decay + 1.0
    return total / weights if weights else None
