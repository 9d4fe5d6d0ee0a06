"""Will Plan B work? What can be known without firing anything, decided without I/O.

A promotion is READY when nothing below finds a problem. Problems are (catalogue key,
values) pairs so every surface says them in the seller's language; they name the action and
the key that is wrong, never a secret's value.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from .config import Action, MissingEnvError, Promotion, env_names
from .promotion import TemplateValues, render_text

__all__ = ["MESSAGE_MAX", "Problem", "Readiness", "static_problems", "targets"]

MESSAGE_MAX = 4096  # characters WhatsApp takes in one message


@dataclass(frozen=True)
class Problem:
    key: str  # catalogue key under readiness.problem.*
    action: int = 0  # 1-based position in the promotion; 0 for the promotion itself
    values: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Readiness:
    promotion: str
    problems: tuple[Problem, ...]
    checked_at: datetime

    @property
    def ready(self) -> bool:
        return not self.problems


def _strings(action: Action) -> list[tuple[str, str]]:
    """Every configured text of an action with the key it sits under."""
    out = [("url", action.url), ("secret", action.secret), ("text", action.text)]
    out += [(f"headers.{k}", v) for k, v in action.headers.items()]

    def walk(value: Any, where: str) -> None:
        if isinstance(value, str):
            out.append((where, value))
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(v, f"{where}.{k}")
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(v, f"{where}[{i}]")

    walk(action.body, "body")
    return [(k, v) for k, v in out if v]


def static_problems(
    promotion: Promotion, environ: Mapping[str, str], values: TemplateValues
) -> list[Problem]:
    """What is wrong without asking the network: missing ``${ENV}``, malformed links, a
    message that does not render or is too long for WhatsApp, an empty checklist."""
    problems: list[Problem] = []
    if not promotion.actions:
        problems.append(Problem("no_actions"))
    for n, action in enumerate(promotion.actions, start=1):
        for target in (action, action.undo):
            if target is None:
                continue
            for key, text in _strings(target):
                for name in env_names(text):
                    if name not in environ:
                        problems.append(Problem("missing_env", n, {"name": name, "key": key}))
        if action.kind == "link":
            parts = urlsplit(action.url)
            if parts.scheme not in ("http", "https") or not parts.netloc:
                problems.append(Problem("bad_link", n))
        if action.kind == "message":
            try:
                text = render_text(action.text, values, environ)
            except MissingEnvError:
                continue  # already said above
            if len(text) > MESSAGE_MAX:
                problems.append(
                    Problem("message_too_long", n, {"length": len(text), "limit": MESSAGE_MAX})
                )
        if action.kind == "checklist" and not action.steps:
            problems.append(Problem("empty_checklist", n))
    return problems


def targets(promotion: Promotion) -> list[tuple[int, str]]:
    """(action number, URL) of every place a webhook of this promotion would go (its
    ``check_url`` when it has one): what the network check must reach."""
    out = []
    for n, action in enumerate(promotion.actions, start=1):
        for target in (action, action.undo):
            if target is not None and target.kind == "webhook":
                out.append((n, target.check_url or target.url))
    return list(dict.fromkeys(out))
