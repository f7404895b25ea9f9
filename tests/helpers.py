"""Small helpers shared by the tests (answers a shopper would give, consent tokens)."""

from __future__ import annotations

from typing import Any

from flask.testing import FlaskClient

NEED = "lightweight waterproof jacket for hiking"


def full_answers(**overrides: Any) -> dict[str, Any]:
    """Return a complete, valid set of answers to the default quiz."""
    answers: dict[str, Any] = {
        "first_name": "Ada",
        "age_band": "25-34",
        "gender": "prefer_not",
        "country": "DE",
        "intent": "myself",
        "looking_for": NEED,
        "timing": "this_month",
        "categories": ["any"],
        "styles": ["technical"],
        "budget": [0, 1000],
        "shopping_style": "no_preference",
        "channels": ["email"],
    }
    answers.update(overrides)
    return answers


def grant(client: FlaskClient, slug: str = "demo", **purposes: bool) -> dict[str, str]:
    """Record a consent decision through the API; return the Authorization header."""
    chosen = {"recommendations": True, "profile": False, "email": False, "sms": False, **purposes}
    response = client.post(f"/api/v1/m/{slug}/consents", json={"purposes": chosen})
    assert response.status_code == 201, response.json
    return {"Authorization": "Bearer " + response.json["subject_token"]}
