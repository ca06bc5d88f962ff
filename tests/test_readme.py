"""The README's two set-up commands: the test command is exactly what .ci/run runs."""

from __future__ import annotations

import re

from .conftest import REPO


def setup_commands() -> list[str]:
    readme = (REPO / "README.md").read_text()
    section = readme.split("## Set up", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section, flags=re.S)


def test_readme_has_exactly_two_setup_commands():
    commands = setup_commands()
    assert len(commands) == 2
    assert "curate " in commands[0] and "pytest" in commands[1]


def test_ci_runs_the_readme_test_command():
    ci_lines = (REPO / ".ci" / "run").read_text().splitlines()
    assert setup_commands()[1] in ci_lines


def test_readme_main_command_uses_a_bundled_example():
    main_command = setup_commands()[0]
    example = re.search(r"curate \w+ (examples/\S+)", main_command)
    assert example and (REPO / example.group(1)).exists()


def test_contract_models_have_json_schemas():
    from curation_tools.schema import Finding, Proposal, ToolResult

    for model in (Finding, Proposal, ToolResult):
        schema = model.model_json_schema()
        assert schema["type"] == "object" and schema["properties"]
