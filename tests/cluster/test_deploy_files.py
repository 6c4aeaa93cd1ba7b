"""The deployment guide and the files it installs agree with each other (no servers needed)."""

import re
import shutil
import subprocess

import pytest

from tests.cluster.harness import DEPLOY, ENV_EXAMPLE, NGINX_SITE, read_env_file, render
from tests.cluster.harness import template_variables as variables_of

GUIDE = (DEPLOY / "README.md").read_text()


def _guide_envsubst_list() -> set[str]:
    names = re.search(r"^envsubst '([^']+)'", GUIDE, re.MULTILINE).group(1)
    return set(re.findall(r"\$\{(\w+)\}", names))


def test_the_guide_renders_every_variable_of_the_nginx_template():
    assert _guide_envsubst_list() == variables_of(NGINX_SITE.read_text())


def test_the_guide_exports_a_value_for_each_variable():
    exported = set(re.findall(r"\b(R4H_[A-Z0-9_]+)=", GUIDE.split("envsubst '")[0]))
    assert variables_of(NGINX_SITE.read_text()) <= exported


@pytest.mark.skipif(shutil.which("envsubst") is None, reason="gettext-base is not installed")
def test_envsubst_renders_what_the_cluster_test_renders():
    """The test's renderer and the guide's envsubst write the same file, nginx's $vars intact."""
    template = NGINX_SITE.read_text()
    values = {name: f"value-of-{name.lower()}" for name in variables_of(template)}
    listed = " ".join(f"${{{name}}}" for name in sorted(values))
    by_envsubst = subprocess.run(["envsubst", listed], input=template, env=values,
                                 capture_output=True, text=True, check=True).stdout
    assert by_envsubst == render(template, values)
    assert "$request_id" in by_envsubst and "$host" in by_envsubst


def test_env_example_names_settings_the_app_reads():
    from r4h_pwa import create_app

    app = create_app({"TESTING": True})
    known = set(app.config) | {"RATELIMIT_KEY_PREFIX"}  # Flask-Limiter's, no default set
    for name in read_env_file(ENV_EXAMPLE):
        if name.startswith("R4H_") and name != "R4H_WORKERS":  # gunicorn.conf.py's own
            assert name.removeprefix("R4H_") in known, name
