"""The publishing workflow is valid and does what the README says; the repository's address has one home.

The address lives in _config.yml (``repository.url``, which also drives the launch and
repository buttons); the README and the user's guide quote it, and this test keeps them equal.
"""

import json
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
WORKFLOW = ROOT / ".github" / "workflows" / "book.yml"


def workflow():
    data = yaml.safe_load(WORKFLOW.read_text())
    data["on"] = data.pop(True, data.get("on"))  # YAML 1.1 reads the key `on` as True
    return data


def steps(job):
    return workflow()["jobs"][job]["steps"]


def test_workflow_is_valid_yaml_with_a_build_and_a_deploy_job():
    data = workflow()
    assert "push" in data["on"] and "workflow_dispatch" in data["on"]
    assert set(data["jobs"]) == {"build", "deploy"}
    assert data["jobs"]["deploy"]["needs"] == "build"
    assert data["permissions"] == {"contents": "read", "pages": "write", "id-token": "write"}
    for job in data["jobs"].values():
        for step in job["steps"]:
            assert ("uses" in step) != ("run" in step), step


def test_workflow_runs_the_readme_build_command():
    readme = (ROOT / "README.md").read_text()
    assert "make book" in readme
    runs = [step["run"].strip() for step in steps("build") if "run" in step]
    assert "make book" in runs


def test_workflow_caches_execution_on_notebooks_and_package():
    caches = [step for step in steps("build") if step.get("uses", "").startswith("actions/cache@")]
    execution = [c for c in caches if c["with"]["path"] == "_build/.jupyter_cache"]
    assert len(execution) == 1
    key = execution[0]["with"]["key"]
    assert "book/**/*.ipynb" in key and "lrcourse/**" in key
    # a restore may only fall back to a cache of the same package version
    restore = execution[0]["with"]["restore-keys"].strip()
    assert "lrcourse/**" in restore and "ipynb" not in restore


def test_workflow_publishes_the_built_html():
    upload = [s for s in steps("build") if s.get("uses", "").startswith("actions/upload-pages-artifact@")]
    assert upload and upload[0]["with"]["path"] == "_build/html"
    assert any(s.get("uses", "").startswith("actions/deploy-pages@") for s in steps("deploy"))


def test_repository_address_has_one_home():
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    assert re.fullmatch(r"https://github\.com/[\w.-]+/[\w.-]+", url)
    guide = json.loads((ROOT / "book" / "reference" / "user_guide.ipynb").read_text())
    texts = {
        "README.md": (ROOT / "README.md").read_text(),
        "user_guide.ipynb": "".join("".join(c["source"]) for c in guide["cells"]),
    }
    for name, text in texts.items():
        quoted = set(re.findall(r"https://github\.com/[\w.-]+/[\w.-]+", text))
        assert quoted <= {url}, f"{name} quotes {quoted - {url}}; the address lives in _config.yml: {url}"
    assert url in texts["user_guide.ipynb"]
