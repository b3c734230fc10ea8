"""Serverless deployment files: serverless.yml, SAM template.yaml, vercel.json, netlify.toml, zappa_settings.json."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from poollint.config.compose import EnvVar, _as_text
from poollint.config.yamlfile import LineDict


@dataclass(frozen=True)
class ServerlessFile:
    platform: str  # "serverless", "sam", "vercel", "netlify", "zappa"; "" when the file deploys no functions
    environment: tuple[EnvVar, ...] = ()


def _env_map(raw: Any, default_line: int) -> list[EnvVar]:
    out = []
    if isinstance(raw, dict):
        for key, value in raw.items():
            if isinstance(value, (dict, list)):
                continue
            line = raw.line(key, default_line) if isinstance(raw, LineDict) else default_line
            out.append(EnvVar(str(key), _as_text(value), line))
    return out


def parse_serverless_yml(document: Any) -> ServerlessFile:
    if not isinstance(document, dict):
        return ServerlessFile("")
    env: list[EnvVar] = []
    provider = document.get("provider")
    if isinstance(provider, dict):
        env += _env_map(provider.get("environment"), 1)
    functions = document.get("functions")
    if isinstance(functions, dict):
        for body in functions.values():
            if isinstance(body, dict):
                env += _env_map(body.get("environment"), 1)
    return ServerlessFile("serverless", tuple(env))


def parse_sam_template(document: Any) -> ServerlessFile:
    """A CloudFormation template is serverless when it declares the SAM transform or Lambda functions."""
    if not isinstance(document, dict):
        return ServerlessFile("")
    transform = _as_text(document.get("Transform"))
    resources = document.get("Resources") if isinstance(document.get("Resources"), dict) else {}
    functions = [
        r for r in resources.values()
        if isinstance(r, dict) and r.get("Type") in ("AWS::Serverless::Function", "AWS::Lambda::Function")
    ]
    if "AWS::Serverless" not in transform and not functions:
        return ServerlessFile("")
    env: list[EnvVar] = []
    scopes = [f.get("Properties") for f in functions]
    globals_ = document.get("Globals")
    if isinstance(globals_, dict):
        scopes.append(globals_.get("Function"))
    for scope in scopes:
        environment = scope.get("Environment") if isinstance(scope, dict) else None
        if isinstance(environment, dict):
            env += _env_map(environment.get("Variables"), 1)
    return ServerlessFile("sam", tuple(env))


def parse_vercel_json(document: Any) -> ServerlessFile:
    """Vercel runs the project's API routes as functions; `env`/`build.env` are its legacy variables."""
    env: list[EnvVar] = []
    if isinstance(document, dict):
        env += _env_map(document.get("env"), 1)
        build = document.get("build")
        if isinstance(build, dict):
            env += _env_map(build.get("env"), 1)
    return ServerlessFile("vercel", tuple(env))


def parse_netlify_toml(document: Any) -> ServerlessFile:
    """Netlify deploys functions when `[functions]` or `build.functions` is configured."""
    if not isinstance(document, dict):
        return ServerlessFile("")
    build = document.get("build") if isinstance(document.get("build"), dict) else {}
    env = tuple(_env_map(build.get("environment"), 1))
    if "functions" in document or "functions" in build:
        return ServerlessFile("netlify", env)
    return ServerlessFile("", env)


NEXT_CONFIG = re.compile(r"next\.config\.(?:js|mjs|cjs|ts|mts)")
_NEXT_OUTPUT = re.compile(r"""\boutput\s*:\s*['"](?:standalone|export)['"]""")
# Packages that only work on Vercel's functions: a Next.js app that depends on them deploys there.
_VERCEL_PACKAGES = re.compile(r'"@vercel/(?:functions|postgres|kv|blob|edge-config)"\s*:|"[\w:-]+"\s*:\s*"vercel[\s"]|"vercel-build"\s*:')


def parse_next_config(text: str, package_json: str, vercelignore: bool) -> ServerlessFile:
    """A Next.js app deployed to Vercel without vercel.json: its API routes and server components run as
    functions. Vercel is recognised from `.vercelignore`, a Vercel-only package or a `vercel` script;
    `output: "standalone"` / `"export"` (a self-hosted server or static files) is not serverless."""
    if _NEXT_OUTPUT.search(text) or not (vercelignore or _VERCEL_PACKAGES.search(package_json)):
        return ServerlessFile("")
    return ServerlessFile("vercel")


def parse_zappa_settings(document: Any) -> ServerlessFile:
    env: list[EnvVar] = []
    if isinstance(document, dict):
        for stage in document.values():
            if isinstance(stage, dict):
                for key in ("environment_variables", "aws_environment_variables"):
                    env += _env_map(stage.get(key), 1)
    return ServerlessFile("zappa", tuple(env))
