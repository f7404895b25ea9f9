"""A Python client generated from the served OpenAPI document works against a live server.

openapi-python-client (a dev dependency) writes the client from ``/api/v1/openapi.json``; the
test then records a consent decision and asks for recommendations with it, over real HTTP.
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType

import pytest

from .helpers import NEED

PACKAGE = "attune_client"


@pytest.fixture
def generated(live_server: str, tmp_path: Path) -> Iterator[ModuleType]:
    """Generate the client from the live server's document and import it; forget it afterwards."""
    pytest.importorskip("openapi_python_client", reason="openapi-python-client is missing: `make install` adds it")
    generator = Path(sys.executable).parent / "openapi-python-client"
    with urllib.request.urlopen(f"{live_server}/api/v1/openapi.json", timeout=30) as response:
        document = json.load(response)
    (tmp_path / "openapi.json").write_text(json.dumps(document))
    path = f"{generator.parent}{os.pathsep}{os.environ.get('PATH', '')}"  # its formatting step runs ruff
    done = subprocess.run(
        [str(generator), "generate", "--path", "openapi.json", "--output-path", PACKAGE, "--meta", "none"],
        cwd=tmp_path,
        env={**os.environ, "PATH": path},
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Warning" not in done.stdout, f"the document confuses the generator: {done.stdout}"
    sys.path.insert(0, str(tmp_path))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [m for m in sys.modules if m == PACKAGE or m.startswith(PACKAGE + ".")]:
            del sys.modules[name]


def test_a_generated_client_records_consent_and_gets_recommendations(live_server: str, generated: ModuleType) -> None:
    client_module = importlib.import_module(f"{PACKAGE}.client")
    consents = importlib.import_module(f"{PACKAGE}.api.default.post_api_v1_m_slug_consents")
    recommendations = importlib.import_module(f"{PACKAGE}.api.default.post_api_v1_m_slug_recommendations")
    models = importlib.import_module(f"{PACKAGE}.models")

    decision = models.ConsentDecision(purposes=models.ConsentDecisionPurposes(recommendations=True, profile=False))
    recorded = consents.sync_detailed(slug="demo", client=client_module.Client(base_url=live_server), body=decision)
    assert recorded.status_code == 201, recorded.content
    assert isinstance(recorded.parsed, models.ConsentRecorded), "the consent answer is a named type"
    assert recorded.parsed.purposes.to_dict()["recommendations"] is True

    shopper = client_module.AuthenticatedClient(base_url=live_server, token=recorded.parsed.subject_token)
    ask = models.RecommendationsRequest(
        answers=models.RecommendationsRequestAnswers.from_dict({"looking_for": NEED}), limit=3
    )
    found = recommendations.sync_detailed(slug="demo", client=shopper, body=ask)
    assert found.status_code == 200, found.content
    items = found.parsed.items
    assert len(items) == 3 and all(isinstance(item, models.Item) for item in items), "items are the Item type"
    assert all(item.title and item.reasons for item in items)
    assert any("jacket" in item.title.lower() for item in items), [item.title for item in items]

    refused = recommendations.sync_detailed(
        slug="demo", client=shopper, body=models.RecommendationsRequest(answers=ask.answers, limit=0)
    )
    assert refused.status_code == 422
    assert isinstance(refused.parsed, models.Error) and "limit" in refused.parsed.fields.to_dict()
