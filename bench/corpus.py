"""Deterministic synthetic testimonies for benchmarks (no real data, ever)."""

from __future__ import annotations

import random
from typing import Any

from fieldkit.services import model

RU = (
    "задержан после мирного протеста у посольства полиция потребовала документы "
    "отвезли в отдел суд назначил штраф и выдворение семья получила угрозы сотрудники "
    "приходили домой к матери требовали вернуться телефон изъяли адвоката не дали "
    "миграционная служба патент аннулирован уголовное дело экстремизм допрос"
).split()
TG = "қодир ғайрат кӯҳ ҳамсоя ҷавоб модар бародар шаҳр хона кор ҳуҷҷат додгоҳ".split()
EN = (
    "detained after the peaceful protest outside the embassy police took the phone "
    "court fine expulsion order family threatened officers visited the mother"
).split()
PLACES = ("Москва", "Екатеринбург", "Новосибирск", "Душанбе", "Хуҷанд", "Almaty", "Kazan")


SYLLABLES = ("ка", "ро", "ми", "ту", "ле", "на", "да", "ғо", "қи", "ҳу", "ҷа", "ст", "ор", "ин")


def _vocabulary() -> tuple[list[str], list[float]]:
    """Real words first, then 30,000 made-up ones; weights follow Zipf's law, as in
    natural text, so some words are in nearly every record and most in very few."""
    rng = random.Random(42)
    made_up = {
        "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4))) for _ in range(40_000)
    }
    words = list(dict.fromkeys(RU + TG + EN)) + sorted(made_up)[:30_000]
    rng.shuffle(words)
    cum, total = [], 0.0
    for rank in range(1, len(words) + 1):
        total += 1.0 / rank
        cum.append(total)
    return words, cum


VOCAB, CUM_WEIGHTS = _vocabulary()


def _words(rng: random.Random, n: int) -> str:
    return " ".join(rng.choices(VOCAB, cum_weights=CUM_WEIGHTS, k=n))


def testimony(rng: random.Random, i: int) -> dict[str, Any]:
    narrative = _words(rng, rng.randint(150, 450))
    n_inc = rng.randint(1, 3)
    incidents = []
    for _ in range(n_inc):
        incidents.append(
            {
                "type": rng.choice(list(model.INCIDENT_TYPES)[:-1]),
                "victims": ["p1"],
                "date": f"2026-{rng.randint(1, 9):02d}",
                "place": {
                    "country": rng.choice(["RU", "TJ", "KZ"]),
                    "locality": rng.choice(PLACES),
                },
                "perpetrator": {"actor_type": rng.choice(list(model.ACTOR_TYPES))},
                "description": _words(rng, 20),
            }
        )
    return {
        "pseudonym": f"W-{i:06d}",
        "risk": rng.choice(model.RISK_LEVELS),
        "status": rng.choice(model.USER_STATUSES),
        "tags": [rng.choice(["protest", "expulsion", "family", "detention"])],
        "interview": {
            "date": f"2026-{rng.randint(1, 11):02d}-{rng.randint(1, 28):02d}",
            "place": rng.choice(PLACES),
            "languages": [rng.choice(["ru", "tg", "en"])],
        },
        "narrative": narrative,
        "persons": [
            {
                "id": "p1",
                "roles": ["informant"],
                "pseudonym": f"W-{i:06d}",
                "sensitive": {"real_name": f"Name{i} Surname{i % 977}"},
            }
        ],
        "incidents": incidents,
        # Consent recorded, as export wants it (a record without it is held back).
        "consent": {
            "scope": rng.choice(model.CONSENT_SCOPES),
            "obtained": True,
            "method": rng.choice(model.CONSENT_METHODS),
        },
    }


def queries(rng: random.Random, n: int) -> list[str]:
    out = []
    for _ in range(n):
        k = rng.choice([1, 1, 2, 2, 3])
        # Half the words as people search (any word of the vocabulary, rare ones
        # included), half weighted like the text itself (common words).
        words = [rng.choice(VOCAB) if rng.random() < 0.5 else _words(rng, 1) for _ in range(k)]
        # as typed: the last word often incomplete
        if rng.random() < 0.5 and len(words[-1]) > 4:
            words[-1] = words[-1][: rng.randint(3, len(words[-1]) - 1)]
        out.append(" ".join(words))
    out += [f"name{rng.randint(0, 99999)}" for _ in range(n // 10)]
    return out
