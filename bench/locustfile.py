"""Locust shoppers for bench/load_test.py: explainer -> consent -> quiz -> recommendations -> finish.

Each simulated shopper reads the explainer, consents (half of them also to keeping a profile),
fetches the quiz, asks for recommendations while answering, then finishes the quiz. Every
finished quiz is appended to the file named by ``ATTUNE_LOAD_RESULTS`` as one JSON line
(``{"profile": bool, "profile_id": str|null, "status": int}``), so the load test can check that
each completion with profile consent left exactly one stored profile. ``ATTUNE_LOAD_NEEDS``
names a file of needs (one per line) typed as free text; ``ATTUNE_LOAD_SLUG`` the merchant.
"""

from __future__ import annotations

import json
import os
import random
import threading
from pathlib import Path
from typing import Any

from locust import HttpUser, between, task

SLUG = os.environ.get("ATTUNE_LOAD_SLUG", "demo")
RESULTS = Path(os.environ.get("ATTUNE_LOAD_RESULTS", "load-results.jsonl"))
NEEDS_FILE = os.environ.get("ATTUNE_LOAD_NEEDS")
FALLBACK_NEEDS = ["a warm jacket for winter walks", "running shoes for a first marathon", "a tent for two"]
_write_lock = threading.Lock()


def _needs() -> list[str]:
    if NEEDS_FILE and Path(NEEDS_FILE).is_file():
        lines = [line.strip() for line in Path(NEEDS_FILE).read_text().splitlines() if line.strip()]
        if lines:
            return lines
    return FALLBACK_NEEDS


NEEDS = _needs()


def answers(need: str) -> dict[str, Any]:
    """Return a complete answer set of the demo quiz with ``need`` as the typed text."""
    return {
        "age_band": random.choice(["18-24", "25-34", "35-44", "45-54"]),
        "gender": random.choice(["woman", "man", "prefer_not"]),
        "country": random.choice(["DE", "FR", "US", "ES"]),
        "intent": random.choice(["myself", "gift", "browsing"]),
        "looking_for": need,
        "timing": "this_month",
        "categories": [random.choice(["any", "outerwear", "footwear", "camping"])],
        "styles": [random.choice(["technical", "eco", "classic"])],
        "budget": random.choice([[0, 1000], [50, 300], [20, 150]]),
        "shopping_style": "no_preference",
    }


def record(result: dict[str, Any]) -> None:
    """Append one finished quiz to the results file."""
    with _write_lock, RESULTS.open("a") as out:
        out.write(json.dumps(result) + "\n")


class Shopper(HttpUser):
    """One shopper taking the quiz again and again, with a human pause between steps."""

    wait_time = between(1, 3)

    @task
    def take_the_quiz(self) -> None:
        keep = random.random() < 0.5
        self.client.get(f"/m/{SLUG}/", name="explainer")
        purposes = {"recommendations": True, "profile": keep, "email": False, "sms": False}
        with self.client.post(
            f"/api/v1/m/{SLUG}/consents", json={"purposes": purposes}, name="consent", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"consent answered {response.status_code}")
                return
            auth = {"Authorization": "Bearer " + response.json()["subject_token"]}
        self.client.get(f"/api/v1/m/{SLUG}/quiz", name="quiz")
        given = answers(random.choice(NEEDS))
        self.client.post(
            f"/api/v1/m/{SLUG}/recommendations", json={"answers": given}, headers=auth, name="recommendations"
        )
        with self.client.post(
            f"/api/v1/m/{SLUG}/responses", json={"answers": given}, headers=auth, name="finish", catch_response=True
        ) as response:
            if response.status_code != 201:
                response.failure(f"finish answered {response.status_code}")
                record({"profile": keep, "profile_id": None, "status": response.status_code})
                return
            profile_id = response.json().get("profile_id")
            if keep != (profile_id is not None):
                response.failure(f"profile consent {keep} but profile_id {profile_id!r}")
            record({"profile": keep, "profile_id": profile_id, "status": 201})
