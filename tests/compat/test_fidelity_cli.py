"""AWS fidelity (issue 16) through the aws cli: every served operation's success case and its
generated errors, sent by `aws s3api <operation> --cli-input-json` instead of boto3.

The fixtures and arguments are those of the boto3 suite (fidelity_world.SUCCESS and
test_fidelity_generated's error cases), so both clients are held to the same answers: the
cli's JSON output must carry the top-level members the API reference documents, and an error
must print AWS's code ("An error occurred (NoSuchKey) when calling ..."; a HEAD error has no
body, so the cli prints the status). test_s3api_cli.py has the hand-written cli cases.
"""

from __future__ import annotations

import base64
import datetime
import json

import pytest
from botocore import xform_name

import fidelity_model as fm
from fidelity_world import SUCCESS, world  # noqa: F401
from test_fidelity_generated import DOCUMENTED_MEMBERS, MODELLED, UNTRIGGERABLE, generated_error_cases

# Operations whose answer is a stream the cli writes to a file given after the options.
OUTFILE = {"GetObject"}


def cli_value(value):
    """A boto3 argument as the cli's JSON input takes it."""
    if isinstance(value, datetime.datetime):
        return value.isoformat()
    if isinstance(value, bytes):
        return base64.b64encode(value).decode()
    if isinstance(value, dict):
        return {k: cli_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [cli_value(v) for v in value]
    return value


def cli_command(operation, args, tmp_path) -> list[str]:
    """`s3api <operation> --cli-input-json ...`, with a streaming body as a file."""
    args = dict(args)
    extra = []
    if isinstance(args.get("Body"), bytes):
        path = tmp_path / "body"
        path.write_bytes(args.pop("Body"))
        extra += ["--body", str(path)]
    source = args.get("CopySource")
    if isinstance(source, dict):
        version = f"?versionId={source['VersionId']}" if "VersionId" in source else ""
        args["CopySource"] = f"{source['Bucket']}/{source['Key']}{version}"
    # Without --no-paginate the cli merges pages and drops the members that page.
    command = ["--no-paginate", "s3api", fm.snake(operation).replace("_", "-")]
    if operation in OUTFILE:
        # The cli refuses --cli-input-json next to the output file: plain options instead.
        options = [[f"--{xform_name(name, '-')}", str(cli_value(value))] for name, value in args.items()]
        return command + [word for pair in options for word in pair] + [str(tmp_path / "out")]
    return command + ["--cli-input-json", json.dumps(cli_value(args))] + extra


@pytest.mark.parametrize("operation", sorted(fm.SERVED))
def test_success_through_the_cli(aws, world, tmp_path, operation):
    args = fm.fill_arguments(operation, SUCCESS[operation](world))
    result = aws(*cli_command(operation, args, tmp_path))
    printed = json.loads(result.stdout) if result.stdout.strip() else {}
    documented = {path.split(".")[0].split("[")[0] for path in DOCUMENTED_MEMBERS.get(operation, [])}
    missing = sorted(documented - set(printed) - {"Body"})
    assert not missing, f"{operation}: the cli printed no {missing}: {printed}"


def cli_error_cases():
    cases = []
    for (operation, code), (status, build) in sorted(MODELLED.items()):
        if (operation, code) not in UNTRIGGERABLE:
            cases.append(pytest.param(operation, code, status, build, id=f"{operation}-{code}-model"))
    for operation, code, status, build, why in generated_error_cases():
        cases.append(pytest.param(operation, code, status, build, id=f"{operation}-{code}-{why}".replace(" ", "_")))
    return cases


@pytest.mark.parametrize("operation,code,status,build", cli_error_cases())
def test_error_through_the_cli(aws, world, tmp_path, operation, code, status, build):
    args = fm.fill_arguments(operation, build(world))
    result = aws(*cli_command(operation, args, tmp_path), check=False)
    assert result.returncode != 0, f"{operation} succeeded: {result.stdout}"
    shown = str(status) if fm.operation(operation).http["method"] == "HEAD" else code
    assert f"An error occurred ({shown}) when calling the {operation} operation" in result.stderr, result.stderr
