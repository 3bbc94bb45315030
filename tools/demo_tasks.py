#!/usr/bin/env python3
"""Synthetic tasks shaped like the three benchmarks, for the bundled demo model (issue 7).

One generator per benchmark; the demo model is trained on their output (tools/train_demo.py) and
the bundled samples under datasets/samples/ are drawn from the same generators with other seeds,
written in the official raw formats (docs/evaluation.md, datasets/README.md):

  wmt14      English -> French sentences from templates and a small lexicon: gender agreement,
             pre/post-nominal adjectives, elision, numbers with separators (12,500 -> 12 500,
             3.5 -> 3,5), quotes ("..." or &quot;...&quot; -> « ... »), &amp; in company names,
             &#39; possessives.  Text is kept as it appears inside SGM segs (entities unexpanded,
             as sacreBLEU leaves them).
  cnn        news articles -> three highlights (lead facts, casualty figure, what happens next),
             highlight lines end in " ." and are joined by "\\n" as in CNN/DailyMail 3.0.0.
  squad      biography / company paragraphs with answerable questions (answers are spans of the
             context, several crowd answers each) and unanswerable ones (about another person,
             another company or an unstated fact) carrying plausible_answers.  The model's target
             for an unanswerable question is the literal string NO_ANSWER = "unanswerable".

Standard library only.  Run `python3 tools/demo_tasks.py samples` from the repository root to
rewrite datasets/samples/ (deterministic: fixed seeds, byte-identical output; `samples DIR` writes
elsewhere).
"""
import csv
import hashlib
import io
import json
import os
import random
import re
import sys

NO_ANSWER = "unanswerable"
SAMPLE_SEED = 20140614          # seeds for the bundled samples; training uses other seeds
N_WMT_SEGS, N_CNN, N_SQUAD_PARAS = 200, 150, 50

# ----------------------------------------------------------------------------------------------
# Lexicon shared by the three tasks

FIRST = ["James", "Maria", "David", "Sophie", "Thomas", "Laura", "Daniel", "Emma", "Lucas", "Claire",
         "Michael", "Anna", "Peter", "Julia", "Robert", "Sarah", "Paul", "Elena", "Mark", "Alice",
         "Simon", "Nadia", "Oliver", "Chloe", "Victor", "Helen", "Hugo", "Irene", "Adam", "Leila",
         "Martin", "Olga", "George", "Ines", "Samuel", "Rachel", "Karim", "Marta", "Jonas", "Fiona"]
LAST = ["Smith", "Martin", "Dubois", "Keller", "Moreau", "Novak", "Fischer", "Garcia", "Rossi",
        "Bennett", "Laurent", "Hughes", "Petit", "Kowalski", "Lambert", "Okafor", "Jensen", "Fontaine",
        "Walsh", "Meyer", "Romero", "Duval", "Brennan", "Costa", "Hansen", "Mercier", "Ortiz", "Nakamura",
        "Fleming", "Girard", "Weber", "Lindqvist", "Barker", "Renaud", "Silva", "Horvat", "Tanaka",
        "Collins", "Marchetti", "Dupont"]
# (English, French) city names
CITIES = [("London", "Londres"), ("Paris", "Paris"), ("Brussels", "Bruxelles"), ("Geneva", "Genève"),
          ("Lyon", "Lyon"), ("Marseille", "Marseille"), ("Montreal", "Montréal"), ("Quebec", "Québec"),
          ("Berlin", "Berlin"), ("Rome", "Rome"), ("Madrid", "Madrid"), ("Vienna", "Vienne"),
          ("Lisbon", "Lisbonne"), ("Athens", "Athènes"), ("Moscow", "Moscou"), ("Beijing", "Pékin"),
          ("New York", "New York"), ("Toulouse", "Toulouse"), ("Bordeaux", "Bordeaux"), ("Lille", "Lille"),
          ("Strasbourg", "Strasbourg"), ("Nice", "Nice"), ("Warsaw", "Varsovie"), ("Prague", "Prague"),
          ("Copenhagen", "Copenhague"), ("Edinburgh", "Édimbourg"), ("Dublin", "Dublin"), ("Oslo", "Oslo"),
          ("Nantes", "Nantes"), ("Chicago", "Chicago"), ("Tokyo", "Tokyo"), ("Oxford", "Oxford")]
MONTHS = [("January", "janvier"), ("February", "février"), ("March", "mars"), ("April", "avril"),
          ("May", "mai"), ("June", "juin"), ("July", "juillet"), ("August", "août"),
          ("September", "septembre"), ("October", "octobre"), ("November", "novembre"),
          ("December", "décembre")]
WEEKDAYS = [("Monday", "lundi"), ("Tuesday", "mardi"), ("Wednesday", "mercredi"), ("Thursday", "jeudi"),
            ("Friday", "vendredi"), ("Saturday", "samedi"), ("Sunday", "dimanche")]
COMPANY_A = ["Nordvik", "Altamira", "Bluestone", "Corvel", "Helios", "Marlow", "Veridian", "Castellan",
             "Oakridge", "Pemberton", "Solano", "Tremont", "Ardent", "Kestrel", "Lumen", "Brightwater"]
COMPANY_B = ["Systems", "Energy", "Foods", "Motors", "Media", "Logistics", "Pharma", "Textiles", "Group",
             "Labs", "Airlines", "Robotics"]


def pick(rng, seq):
    return seq[rng.randrange(len(seq))]


def full_name(rng):
    return pick(rng, FIRST) + " " + pick(rng, LAST)


def company(rng):
    return pick(rng, COMPANY_A) + " " + pick(rng, COMPANY_B)


# ----------------------------------------------------------------------------------------------
# Translation (wmt14)

# noun: English singular, English plural, French singular, French plural, gender
NOUNS = [("house", "houses", "maison", "maisons", "f"), ("car", "cars", "voiture", "voitures", "f"),
         ("city", "cities", "ville", "villes", "f"), ("company", "companies", "entreprise", "entreprises", "f"),
         ("government", "governments", "gouvernement", "gouvernements", "m"),
         ("school", "schools", "école", "écoles", "f"), ("hospital", "hospitals", "hôpital", "hôpitaux", "m"),
         ("bridge", "bridges", "pont", "ponts", "m"), ("train", "trains", "train", "trains", "m"),
         ("book", "books", "livre", "livres", "m"), ("market", "markets", "marché", "marchés", "m"),
         ("team", "teams", "équipe", "équipes", "f"), ("bank", "banks", "banque", "banques", "f"),
         ("project", "projects", "projet", "projets", "m"), ("law", "laws", "loi", "lois", "f"),
         ("report", "reports", "rapport", "rapports", "m"), ("museum", "museums", "musée", "musées", "m"),
         ("station", "stations", "gare", "gares", "f"), ("factory", "factories", "usine", "usines", "f"),
         ("street", "streets", "rue", "rues", "f"), ("election", "elections", "élection", "élections", "f"),
         ("airport", "airports", "aéroport", "aéroports", "m"), ("film", "films", "film", "films", "m"),
         ("park", "parks", "parc", "parcs", "m"), ("church", "churches", "église", "églises", "f"),
         ("restaurant", "restaurants", "restaurant", "restaurants", "m"),
         ("council", "councils", "conseil", "conseils", "m"), ("road", "roads", "route", "routes", "f"),
         ("village", "villages", "village", "villages", "m"), ("library", "libraries", "bibliothèque",
                                                               "bibliothèques", "f"),
         ("stadium", "stadiums", "stade", "stades", "m"), ("hotel", "hotels", "hôtel", "hôtels", "m"),
         ("tower", "towers", "tour", "tours", "f"), ("festival", "festivals", "festival", "festivals", "m"),
         ("building", "buildings", "bâtiment", "bâtiments", "m"), ("port", "ports", "port", "ports", "m")]
# adjective: English, French m, f, m plural, f plural, before the noun?
ADJS = [("new", "nouveau", "nouvelle", "nouveaux", "nouvelles", True),
        ("big", "grand", "grande", "grands", "grandes", True),
        ("small", "petit", "petite", "petits", "petites", True),
        ("red", "rouge", "rouge", "rouges", "rouges", False),
        ("national", "national", "nationale", "nationaux", "nationales", False),
        ("local", "local", "locale", "locaux", "locales", False),
        ("public", "public", "publique", "publics", "publiques", False),
        ("important", "important", "importante", "importants", "importantes", False),
        ("modern", "moderne", "moderne", "modernes", "modernes", False),
        ("famous", "célèbre", "célèbre", "célèbres", "célèbres", False),
        ("international", "international", "internationale", "internationaux", "internationales", False),
        ("black", "noir", "noire", "noirs", "noires", False),
        ("white", "blanc", "blanche", "blancs", "blanches", False),
        ("green", "vert", "verte", "verts", "vertes", False),
        ("historic", "historique", "historique", "historiques", "historiques", False),
        ("private", "privé", "privée", "privés", "privées", False)]
# predicative adjectives (English, French m, French f)
STATES = [("closed", "fermé", "fermée"), ("open", "ouvert", "ouverte"), ("empty", "vide", "vide"),
          ("full", "plein", "pleine"), ("ready", "prêt", "prête"), ("busy", "animé", "animée")]
PHRASES = [("we are very happy", "nous sommes très heureux"), ("this is a good day", "c'est une bonne journée"),
           ("the work is not finished", "le travail n'est pas terminé"), ("we will do better", "nous ferons mieux"),
           ("it is too expensive", "c'est trop cher"), ("nothing has changed", "rien n'a changé"),
           ("the situation is serious", "la situation est grave"),
           ("we need more time", "nous avons besoin de plus de temps"),
           ("this is not the end", "ce n'est pas la fin"), ("everyone must help", "tout le monde doit aider"),
           ("the results are good", "les résultats sont bons"), ("we are not afraid", "nous n'avons pas peur"),
           ("the city is safe", "la ville est sûre"), ("we want a solution", "nous voulons une solution"),
           ("the decision is final", "la décision est définitive"),
           ("I am very proud", "je suis très fier")]
VOWELS = "aeiouhàâéèêëîïôöûùAEIOUHÉÈ"


def fr_elides(word):
    return word[0] in VOWELS


def noun_phrase_fr(noun, adj=None, plural=False):
    """French noun phrase without determiner, with the adjective in the right place and form."""
    _, _, sg, pl, g = noun
    base = pl if plural else sg
    if adj is None:
        return base
    _, m, f, mp, fp, pre = adj
    form = (fp if g == "f" else mp) if plural else (f if g == "f" else m)
    if pre and form == "nouveau" and fr_elides(base):
        form = "nouvel"
    return form + " " + base if pre else base + " " + form


def det_fr(noun, phrase, plural=False, prep=""):
    """Definite article (with the preposition 'à'/'de' contracted) before a French noun phrase."""
    if plural:
        art = {"": "les", "à": "aux", "de": "des"}[prep]
        return art + " " + phrase
    if fr_elides(phrase):
        art = {"": "l'", "à": "à l'", "de": "de l'"}[prep]
        return art + phrase
    if noun[4] == "f":
        art = {"": "la", "à": "à la", "de": "de la"}[prep]
    else:
        art = {"": "le", "à": "au", "de": "du"}[prep]
    return art + " " + phrase


def a_an(word):
    """English indefinite article for a word or a number written in digits (an 18-year-old)."""
    spoken_vowel = word[0] in "aeiouAEIOU" or word.startswith(("8", "11", "18"))
    return "an" if spoken_vowel else "a"


def de_fr(name):
    """French 'de' before a name, elided before a vowel (d'Elena, d'Oslo)."""
    return ("d'" if fr_elides(name) else "de ") + name


def cap(s):
    return s[0].upper() + s[1:]


def noun_phrase_en(noun, adj=None, plural=False):
    word = noun[1] if plural else noun[0]
    return (adj[0] + " " + word) if adj else word


def number_pair(rng, lo, hi):
    """An integer in English (comma thousands) and French (space thousands) notation."""
    n = rng.randint(lo, hi)
    return "{:,}".format(n), "{:,}".format(n).replace(",", " ")


def decimal_pair(rng):
    whole, frac = rng.randint(1, 99), rng.randint(1, 9)
    return "%d.%d" % (whole, frac), "%d,%d" % (whole, frac)


def quote_en(rng, text):
    return pick(rng, ['"%s"', "&quot;%s&quot;"]) % text


def apostrophe(rng):
    return pick(rng, ["'", "&#39;"])


def _t_open(rng):
    noun, adj = pick(rng, NOUNS), pick(rng, ADJS)
    (men, mfr), year = pick(rng, MONTHS), rng.randint(1990, 2030)
    en = "The %s will open in %s %d." % (noun_phrase_en(noun, adj), men, year)
    fr = "%s ouvrira en %s %d." % (cap(det_fr(noun, noun_phrase_fr(noun, adj))), mfr, year)
    return en, fr


def _t_cost(rng):
    noun = pick(rng, NOUNS)
    if rng.random() < 0.5:
        en_n, fr_n = number_pair(rng, 1000, 990000)
        return ("The %s cost %s euros." % (noun[0], en_n),
                "%s a coûté %s euros." % (cap(det_fr(noun, noun[2])), fr_n))
    en_n, fr_n = decimal_pair(rng)
    return ("The %s cost %s million euros." % (noun[0], en_n),
            "%s a coûté %s millions d'euros." % (cap(det_fr(noun, noun[2])), fr_n))


def _t_said(rng):
    name, (pen, pfr) = full_name(rng), pick(rng, PHRASES)
    if rng.random() < 0.5:
        return ("%s said: %s" % (name, quote_en(rng, cap(pen) + ".")),
                "%s a déclaré : « %s. »" % (name, cap(pfr)))
    return ("%s said %s." % (quote_en(rng, cap(pen) + ","), name),
            "« %s », a déclaré %s." % (cap(pfr), name))


def _t_visit(rng):
    noun, (cen, cfr) = pick(rng, NOUNS), pick(rng, CITIES)
    en_n, fr_n = number_pair(rng, 100, 99000)
    return ("About %s people visited the %s in %s." % (en_n, noun[0], cen),
            "Environ %s personnes ont visité %s à %s." % (fr_n, det_fr(noun, noun[2]), cfr))


def _t_prices(rng):
    (men, mfr) = pick(rng, MONTHS)
    en_p, fr_p = decimal_pair(rng) if rng.random() < 0.5 else (str(rng.randint(2, 40)),) * 2
    verb = pick(rng, [("rose", "augmenté"), ("fell", "baissé")])
    return ("Prices %s by %s%% in %s." % (verb[0], en_p, men),
            "Les prix ont %s de %s %% en %s." % (verb[1], fr_p, mfr))


def _t_company(rng):
    a, b = pick(rng, LAST), pick(rng, LAST)
    noun, (den, dfr) = pick(rng, NOUNS), pick(rng, WEEKDAYS)
    firm = "%s &amp; %s" % (a, b)
    adj = pick(rng, ADJS)
    return ("%s announced a %s on %s." % (firm, noun_phrase_en(noun, adj), den),
            "%s a annoncé %s %s %s." % (firm, "une" if noun[4] == "f" else "un", noun_phrase_fr(noun, adj), dfr))


def _t_of_city(rng):
    noun, (cen, cfr), adj = pick(rng, NOUNS), pick(rng, CITIES), pick(rng, [a for a in ADJS if not a[5]])
    form = adj[2] if noun[4] == "f" else adj[1]
    return ("The %s of %s is %s." % (noun[0], cen, adj[0]),
            "%s %s est %s." % (cap(det_fr(noun, noun[2])), de_fr(cfr), form))


def _t_there_are(rng):
    noun, adj = pick(rng, NOUNS), pick(rng, ADJS + [None])
    en_n, fr_n = number_pair(rng, 2, 9000)
    return ("There are %s %s in the region." % (en_n, noun_phrase_en(noun, adj, plural=True)),
            "Il y a %s %s dans la région." % (fr_n, noun_phrase_fr(noun, adj, plural=True)))


def _t_possessive(rng):
    name, noun, (cen, cfr) = full_name(rng), pick(rng, NOUNS), pick(rng, CITIES)
    return ("%s%ss %s is in %s." % (name, apostrophe(rng), noun[0], cen),
            "%s %s est à %s." % (cap(det_fr(noun, noun[2])), de_fr(name), cfr))


def _t_state(rng):
    noun, (den, dfr), (sen, sm, sf) = pick(rng, NOUNS), pick(rng, WEEKDAYS), pick(rng, STATES)
    hours = rng.randint(2, 48)
    return ("On %s, the %s was %s for %d hours." % (den, noun[0], sen, hours),
            "%s, %s était %s pendant %d heures." % (cap(dfr), det_fr(noun, noun[2]),
                                                     sf if noun[4] == "f" else sm, hours))


def _t_minister(rng):
    (cen, cfr), (men, mfr), day = pick(rng, CITIES), pick(rng, MONTHS), rng.randint(2, 28)
    who = pick(rng, [("minister", "ministre"), ("president", "président"), ("mayor", "maire")])
    return ("The %s will visit %s on %d %s." % (who[0], cen, day, men),
            "Le %s se rendra à %s le %d %s." % (who[1], cfr, day, mfr))


def _t_headline(rng):
    noun, (cen, cfr) = pick(rng, NOUNS), pick(rng, CITIES)
    adj = pick(rng, ADJS)
    return ("A %s for %s" % (noun_phrase_en(noun, adj), cen),
            "%s %s pour %s" % ("Une" if noun[4] == "f" else "Un", noun_phrase_fr(noun, adj), cfr))


def _t_length(rng):
    noun = pick(rng, [n for n in NOUNS if n[0] in ("bridge", "road", "street", "tower", "train", "building",
                                                    "stadium", "port")])
    en_n, fr_n = decimal_pair(rng) if rng.random() < 0.4 else number_pair(rng, 10, 4000)
    unit = pick(rng, [("metres", "mètres"), ("kilometres", "kilomètres")])
    return ("The %s is %s %s long." % (noun[0], en_n, unit[0]),
            "%s mesure %s %s." % (cap(det_fr(noun, noun[2])), fr_n, unit[1]))


TRANSLATION_TEMPLATES = [_t_open, _t_cost, _t_said, _t_visit, _t_prices, _t_company, _t_of_city, _t_there_are,
                         _t_possessive, _t_state, _t_minister, _t_headline, _t_length]


def translation_pair(rng):
    """(English, French) at SGM-text level (entities unexpanded)."""
    return pick(rng, TRANSLATION_TEMPLATES)(rng)


# ----------------------------------------------------------------------------------------------
# Summarization (cnn)

JOBS = ["teacher", "nurse", "firefighter", "student", "farmer", "engineer", "bus driver", "chef", "artist",
        "pilot", "doctor", "lawyer", "police officer", "fisherman", "musician", "shop owner"]
# (article phrase, highlight phrase); both take the place
EVENTS = [("was rescued after being trapped in a {place} for {n} hours", "rescued after {n} hours in a {place}"),
          ("won the national {prize} prize at a ceremony in {city2}", "wins national {prize} prize"),
          ("was arrested after a robbery at a {place}", "arrested after {place} robbery"),
          ("was injured when a {place} collapsed", "injured as {place} collapses"),
          ("found a lost painting in a {place}", "finds lost painting in {place}"),
          ("ran {n} kilometres to raise money for a {place}", "runs {n} kilometres for {place}")]
PLACES = ["mine", "cave", "lift", "warehouse", "bank", "museum", "school", "hospital", "bridge", "stadium",
          "church", "factory", "hotel", "library", "tunnel", "farm"]
PRIZES = ["poetry", "science", "cooking", "photography", "music", "design"]
AFFECTED = [("were evacuated", "evacuated"), ("were treated in hospital", "treated in hospital"),
            ("lost their homes", "lost their homes"), ("were rescued", "rescued"),
            ("attended the ceremony", "attended the ceremony"), ("signed a petition", "signed a petition")]
NEXT = [("appear in court", "will appear in court"), ("return home", "will return home"),
        ("meet the president", "will meet the president"), ("receive an award", "will receive an award"),
        ("give evidence to an inquiry", "will give evidence to inquiry"), ("leave hospital", "will leave hospital")]
FILLERS = ["The cause of the incident is still unclear.", "Local media reported the news earlier that day.",
           "An investigation has been launched.", "Neighbours described the scene as chaotic.",
           "Photographs of the scene were shared widely on social media.",
           "The area was closed to traffic for several hours.", "Officials promised a full review.",
           "It is not the first time the town has made headlines.",
           "A spokesman declined to comment further.", "The weather had been poor all week."]
QUOTES = ["It was the longest day of my life", "We are so grateful to everyone who helped",
          "Nobody expected this to happen", "I just did what anyone would do",
          "The whole community came together", "We will never forget this day"]
ROLES = ["a neighbour", "a local official", "a family friend", "a police spokesman", "a witness",
         "the town's mayor"]
OUTLETS = ["CNN", "the Daily Mail", "reporters", "local radio"]
SPELL = ["two", "three", "four", "five", "six", "seven", "eight", "nine", "ten"]


def cnn_example(rng):
    """(article, highlights); highlights = three lines, each ending in ' .', joined by '\\n'."""
    name, age, job = full_name(rng), rng.randint(18, 85), pick(rng, JOBS)
    city, city2 = pick(rng, CITIES)[0], pick(rng, CITIES)[0]
    day = pick(rng, WEEKDAYS)[0]
    ev_art, ev_hl = pick(rng, EVENTS)
    slots = dict(place=pick(rng, PLACES), n=rng.randint(3, 90), prize=pick(rng, PRIZES), city2=city2)
    ev_art, ev_hl = ev_art.format(**slots), ev_hl.format(**slots)
    count, (aff_art, aff_hl) = rng.randint(2, 400), pick(rng, AFFECTED)
    others = rng.randint(2, 60)
    nxt_art, nxt_hl = pick(rng, NEXT)
    when = pick(rng, ["next week", "on %s" % pick(rng, WEEKDAYS)[0], "later this month",
                      "in %s" % pick(rng, MONTHS)[0]])
    last = name.split()[1]
    lead = "%s, %s %d-year-old %s from %s, %s on %s." % (name, a_an(str(age)), age, job, city, ev_art, day)
    fact = "Officials said %d people %s and %d others were being cared for by volunteers." % (
        count, aff_art, others)
    quote = '"%s," %s, %s, told %s.' % (pick(rng, QUOTES), full_name(rng), pick(rng, ROLES), pick(rng, OUTLETS))
    nxt = "%s is expected to %s %s." % (last, nxt_art, when)
    fillers = rng.sample(FILLERS, rng.randint(1, 3))
    body = [fact, quote] + fillers
    rng.shuffle(body)
    prefix = pick(rng, ["(CNN) -- ", "", "", "By . %s . PUBLISHED: . %d %s %d . | . " % (
        full_name(rng), rng.randint(1, 28), pick(rng, MONTHS)[0], rng.randint(2007, 2015))])
    article = prefix + " ".join([lead] + body + [nxt])
    highlights = "\n".join(line + " ." for line in (
        "%s, %d, %s in %s" % (name, age, ev_hl, city),
        "%d people %s, officials say" % (count, aff_hl),
        "%s %s %s" % (last, nxt_hl, when)))
    return article, highlights


# ----------------------------------------------------------------------------------------------
# Extractive QA (squad)

NATIONALITIES = ["French", "Canadian", "Belgian", "Swiss", "German", "Italian", "Spanish", "Polish", "Irish",
                 "Danish", "Austrian", "Portuguese", "Norwegian", "Greek", "Czech", "Japanese"]
PROFESSIONS = ["architect", "chemist", "novelist", "composer", "engineer", "economist", "painter",
               "surgeon", "historian", "physicist", "photographer", "diplomat"]
SUBJECTS = ["mathematics", "chemistry", "history", "law", "medicine", "music", "physics", "economics",
            "biology", "philosophy", "architecture", "literature"]
INDUSTRIES = ["software", "energy", "food", "transport", "media", "textile", "robotics", "medical"]
PRODUCTS = ["solar panels", "electric bicycles", "frozen meals", "office chairs", "medical scanners",
            "wind turbines", "mobile games", "farm machinery", "garden tools", "picture books"]
AWARDS = ["Helvetia Prize", "Golden Compass", "Laurel Medal", "Aurora Award", "Meridian Prize",
          "Silver Quill"]


def _qa(question, answers=None, plausible=None):
    return {"question": question, "answers": answers or [], "plausible": plausible}


def _person_paragraph(rng):
    name, nat, prof = full_name(rng), pick(rng, NATIONALITIES), pick(rng, PROFESSIONS)
    last = name.split()[1]
    he = pick(rng, ["He", "She"])
    day, month, year = rng.randint(1, 28), pick(rng, MONTHS)[0], rng.randint(1930, 1990)
    born, uni, moved = rng.sample([c[0] for c in CITIES], 3)
    subj, y_move = pick(rng, SUBJECTS), year + rng.randint(20, 30)
    firm, y_found, staff = company(rng), y_move + rng.randint(1, 8), rng.randint(12, 950)
    award, y_award = pick(rng, AWARDS), y_found + rng.randint(1, 10)
    date = "%d %s %d" % (day, month, year)
    context = ("%s (born %s) is %s %s %s. Born in %s, %s studied %s at the University of %s before moving "
               "to %s in %d. In %d, %s founded %s, which now employs %d people. %s received the %s in %d."
               ) % (name, date, a_an(nat), nat, prof, born, he.lower(), subj, uni, moved, y_move, y_found, he.lower(),
                    firm, staff, he, award, y_award)
    other = full_name(rng)
    while other.split()[1] == last:
        other = full_name(rng)
    other_last, other_firm = other.split()[1], company(rng)
    while other_firm == firm:
        other_firm = company(rng)
    qas = [
        _qa("When was %s born?" % name, [date, date, str(year)]),
        _qa("Where was %s born?" % last, [born, born, "in " + born]),
        _qa("What did %s study?" % last, [subj, subj]),
        _qa("Where did %s study %s?" % (last, subj), ["University of " + uni, "the University of " + uni,
                                                      "University of " + uni]),
        _qa("In what year did %s move to %s?" % (last, moved), [str(y_move)] * 3),
        _qa("What company did %s found?" % last, [firm, firm]),
        _qa("How many people does %s employ?" % firm, [str(staff)] * 3),
        _qa("What is the nationality of %s?" % name, [nat, nat]),
        _qa("Which award did %s receive in %d?" % (last, y_award), [award, "the " + award]),
        # unanswerable: another person / company, or a fact the paragraph does not state
        _qa("Where was %s born?" % other_last, plausible=born),
        _qa("What did %s study at the University of %s?" % (other_last, uni), plausible=subj),
        _qa("How many people does %s employ?" % other_firm, plausible=str(staff)),
        _qa("In what year did %s leave %s?" % (last, firm), plausible=str(y_found)),
        _qa("What company did %s found in %d?" % (other, y_found), plausible=firm),
        _qa("When was %s born?" % other, plausible=date),
    ]
    return name, context, qas


def _company_paragraph(rng):
    firm, ind, city = company(rng), pick(rng, INDUSTRIES), pick(rng, CITIES)[0]
    year, founder, ceo = rng.randint(1950, 2015), full_name(rng), full_name(rng)
    product, staff, n_countries = pick(rng, PRODUCTS), rng.randint(20, 990), rng.randint(2, 40)
    y_ceo = year + rng.randint(2, 9)
    context = ("%s is %s %s company based in %s. It was founded in %d by %s and is best known for its %s. "
               "Since %d the company has been led by %s. It employs %d people and sells its products in "
               "%d countries.") % (firm, a_an(ind), ind, city, year, founder, product, y_ceo, ceo, staff, n_countries)
    other = company(rng)
    while other == firm:
        other = company(rng)
    qas = [
        _qa("Where is %s based?" % firm, [city, city, "in " + city]),
        _qa("When was %s founded?" % firm, [str(year)] * 3),
        _qa("Who founded %s?" % firm, [founder, founder]),
        _qa("What is %s best known for?" % firm, [product, "its " + product]),
        _qa("Who has led %s since %d?" % (firm, y_ceo), [ceo, ceo, ceo]),
        _qa("How many people does %s employ?" % firm, [str(staff)] * 2),
        _qa("In how many countries does %s sell its products?" % firm, [str(n_countries)] * 2),
        _qa("Where is %s based?" % other, plausible=city),
        _qa("Who founded %s?" % other, plausible=founder),
        _qa("When did %s close?" % firm, plausible=str(year)),
        _qa("How many people did %s employ in %d?" % (firm, year), plausible=str(staff)),
        _qa("Who led %s before %d?" % (firm, y_ceo), plausible=ceo),
    ]
    return firm, context, qas


def _answer_span(context, text):
    """The answer with the offset of its first whole-word occurrence in the context."""
    m = re.search(r"(?<!\w)" + re.escape(text) + r"(?!\w)", context)
    if not m:
        raise AssertionError("answer %r is not in the context" % text)
    return {"text": text, "answer_start": m.start()}


def squad_paragraph(rng, n_questions):
    """(title, context, qas) with qas as SQuAD v2 dicts (no ids); about half unanswerable."""
    title, context, pool = (_person_paragraph if rng.random() < 0.6 else _company_paragraph)(rng)
    answerable = [q for q in pool if q["answers"]]
    impossible = [q for q in pool if not q["answers"]]
    n_imp = rng.randint(n_questions // 3, n_questions - n_questions // 3)
    chosen = rng.sample(answerable, n_questions - n_imp) + rng.sample(impossible, n_imp)
    rng.shuffle(chosen)
    qas = []
    for q in chosen:
        item = {"question": q["question"]}
        if q["answers"]:
            item["answers"] = [_answer_span(context, a) for a in q["answers"]]
            item["is_impossible"] = False
        else:
            item["answers"] = []
            item["is_impossible"] = True
            item["plausible_answers"] = [_answer_span(context, q["plausible"])]
        qas.append(item)
    return title, context, qas


def squad_example(rng):
    """One (question, context, target) training example; target = first answer or NO_ANSWER."""
    _, context, qas = squad_paragraph(rng, 3)
    q = pick(rng, qas)
    return q["question"], context, (q["answers"][0]["text"] if q["answers"] else NO_ANSWER)


# ----------------------------------------------------------------------------------------------
# Bundled samples in the official raw formats

SGM_OUTLETS = ["lemondefr", "latimes", "lefigaro", "cyberpresse", "bbc", "guardian", "independent",
               "dailytelegraph", "canoe", "rfi", "lexpress", "nytimes"]


def wmt_docs(rng):
    """[(docid, origlang, [(en, fr)...])] with N_WMT_SEGS segments in all."""
    docs, left, k = [], N_WMT_SEGS, 0
    while left > 0:
        n = min(left, rng.randint(8, 25))
        docid = "%d-%s" % (1000 + 7 * k + rng.randint(0, 6), SGM_OUTLETS[k % len(SGM_OUTLETS)])
        segs = [_t_headline(rng)] + [translation_pair(rng) for _ in range(n - 1)]
        docs.append((docid, "fr" if k % 3 != 1 else "en", segs))
        left, k = left - n, k + 1
    return docs


def write_sgm(path, docs, side):
    lines = ['<srcset setid="newstest2014" srclang="any">' if side == "src"
             else '<refset trglang="fr" setid="newstest2014" srclang="any">']
    for docid, origlang, segs in docs:
        sysid = "" if side == "src" else 'sysid="ref" '
        lines.append('<doc %sdocid="%s" genre="news" origlang="%s">' % (sysid, docid, origlang))
        for i, (en, fr) in enumerate(segs, 1):
            lines.append('<seg id="%d">%s</seg>' % (i, en if side == "src" else fr))
        lines.append("</doc>")
    lines.append("</srcset>" if side == "src" else "</refset>")
    _write(path, "\n".join(lines) + "\n")


def cnn_rows(rng):
    rows = []
    for i in range(N_CNN):
        article, highlights = cnn_example(rng)
        url = "http://www.example-news.com/%d/%02d/story-%d.html" % (rng.randint(2007, 2015), rng.randint(1, 12), i)
        rows.append({"id": hashlib.sha1(url.encode()).hexdigest(), "article": article, "highlights": highlights})
    return rows


def write_cnn(dir_, rows):
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=["id", "article", "highlights"], lineterminator="\n")
    w.writeheader()
    w.writerows(rows)
    _write(os.path.join(dir_, "test.csv"), buf.getvalue())
    _write(os.path.join(dir_, "test.jsonl"),
           "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))


def squad_dev(rng):
    data = []
    for a in range(N_SQUAD_PARAS // 5):
        paragraphs, title = [], "Profiles_of_%s" % CITIES[a * 3 % len(CITIES)][0].replace(" ", "_")
        for p in range(5):
            _, context, qas = squad_paragraph(rng, rng.randint(3, 5))
            out = []
            for j, q in enumerate(qas):   # key order as in the official file, ids 24 hex digits
                qid = hashlib.sha1(("%d/%d/%d/%s" % (a, p, j, q["question"])).encode()).hexdigest()[:24]
                item = {"plausible_answers": q["plausible_answers"]} if q["is_impossible"] else {}
                item.update(question=q["question"], id=qid, answers=q["answers"], is_impossible=q["is_impossible"])
                out.append(item)
            paragraphs.append({"qas": out, "context": context})
        data.append({"title": title, "paragraphs": paragraphs})
    return {"version": "v2.0", "data": data}


def _write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        f.write(text)


def write_samples(root):
    rng = random.Random(SAMPLE_SEED)
    docs = wmt_docs(rng)
    write_sgm(os.path.join(root, "wmt14", "newstest2014-fren-src.en.sgm"), docs, "src")
    write_sgm(os.path.join(root, "wmt14", "newstest2014-fren-ref.fr.sgm"), docs, "ref")
    write_cnn(os.path.join(root, "cnn_dailymail"), cnn_rows(random.Random(SAMPLE_SEED + 1)))
    dev = squad_dev(random.Random(SAMPLE_SEED + 2))
    _write(os.path.join(root, "squad_v2", "dev-v2.0.json"), json.dumps(dev, ensure_ascii=False) + "\n")
    n_q = sum(len(p["qas"]) for d in dev["data"] for p in d["paragraphs"])
    print("samples: %d WMT segments, %d CNN/DM articles, %d SQuAD questions -> %s"
          % (sum(len(d[2]) for d in docs), N_CNN, n_q, root))


def main(argv):
    if len(argv) in (2, 3) and argv[1] == "samples":
        write_samples(argv[2] if len(argv) == 3 else os.path.join("datasets", "samples"))
        return 0
    if len(argv) == 3 and argv[1] == "show":   # print a few generated examples of each task
        rng = random.Random(int(argv[2]))
        for _ in range(3):
            print(translation_pair(rng))
            print(cnn_example(rng))
            print(squad_example(rng))
        return 0
    sys.stderr.write("usage: python3 tools/demo_tasks.py samples [DIR] | show SEED\n")
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
