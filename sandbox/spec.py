"""The Bot API specification (api.json): where it lives and how a request is checked against it.

The specification only states structure (fields, required flags, types). Limits written in prose
(text length, callback_data bytes, ...) live in `sandbox.rules`; this module calls them so that a
single `validate_method` gives every complaint about one request.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from sandbox.rules import method_rules, type_field_rules

API_JSON_NAME = "api.json"

# "Type of the message origin, always "user"" / "Scope type, must be chat"
_DISCRIMINATOR = re.compile(r'(?:always|must be)\s+"?([a-z_]+)"?\s*$')


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request: what the spec calls InputFile."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool
    constant: str | None = None


@dataclass(frozen=True)
class TypeSpec:
    name: str
    fields: Mapping[str, FieldSpec]
    subtypes: tuple[str, ...]
    has_fields: bool


def bundled_api_json() -> Traversable:
    """The api.json shipped in this package (`sandbox/spec_data`, see its README and LICENSE)."""
    return files("sandbox") / "spec_data" / API_JSON_NAME


def _field(raw: Mapping[str, Any]) -> FieldSpec:
    constant = None
    types = tuple(str(t) for t in raw.get("types", []))
    if types == ("String",):
        match = _DISCRIMINATOR.search(str(raw.get("description", "")))
        constant = match.group(1) if match else None
    return FieldSpec(str(raw["name"]), types, bool(raw.get("required", False)), constant)


class ApiSpec:
    """The methods and types of one Bot API version."""

    def __init__(self, document: Mapping[str, Any]) -> None:
        self.version = str(document.get("version", "?"))
        self.methods: dict[str, dict[str, FieldSpec]] = {
            name: {f["name"]: _field(f) for f in body.get("fields", [])}
            for name, body in document["methods"].items()
        }
        self.types: dict[str, TypeSpec] = {
            name: TypeSpec(
                name,
                {f["name"]: _field(f) for f in body.get("fields", [])},
                tuple(body.get("subtypes", [])),
                "fields" in body,
            )
            for name, body in document["types"].items()
        }
        self.returns: dict[str, tuple[str, ...]] = {
            name: tuple(body.get("returns", [])) for name, body in document["methods"].items()
        }
        self._by_lower = {name.lower(): name for name in self.methods}

    @classmethod
    def load(cls, path: Path | str | None = None) -> ApiSpec:
        """The bundled specification, or the api.json at `path` (a newer Bot API, say)."""
        source: Traversable = Path(path) if path is not None else bundled_api_json()
        with source.open(encoding="utf-8") as handle:
            return cls(json.load(handle))

    def canonical_method(self, name: str) -> str | None:
        """Bot API method names are case-insensitive."""
        return self._by_lower.get(name.lower())

    # --- form values -------------------------------------------------------------------------

    def coerce_form(self, method: str, raw: Mapping[str, Any]) -> dict[str, Any]:
        """Turn form strings into typed values guided by each field's declared types.

        aiogram sends every value as a string: plain strings as-is, everything else JSON-encoded.
        """
        fields = self.methods.get(method, {})
        out: dict[str, Any] = {}
        for key, value in raw.items():
            spec = fields.get(key)
            if spec is None or not isinstance(value, str):
                out[key] = value
                continue
            out[key] = self._coerce(value, spec.types)
        return out

    def _coerce(self, raw: str, types: Sequence[str]) -> Any:
        others = [t for t in types if t != "String"]
        parsed: Any = raw
        if others:
            try:
                parsed = json.loads(raw)
            except ValueError:
                parsed = raw
            if parsed is not raw and not self.check_value(parsed, others, "x"):
                return parsed
        if "String" in types:
            return raw
        return parsed

    # --- validation --------------------------------------------------------------------------

    def validate_method(self, method: str, params: Mapping[str, Any]) -> list[str]:
        fields = self.methods[method]
        errors = [f"unknown parameter {key!r}" for key in params if key not in fields]
        for spec in fields.values():
            if spec.name not in params:
                if spec.required:
                    errors.append(f"required parameter {spec.name!r} is missing")
                continue
            errors.extend(self.check_value(params[spec.name], spec.types, spec.name))
        errors.extend(method_rules(method, params))
        return errors

    def validate_object(self, type_name: str, value: Any) -> list[str]:
        """Check an object the sandbox itself produces (a Message, an Update, ...)."""
        return self.check_value(value, [type_name], type_name)

    def validate_result(self, method: str, result: Any) -> list[str]:
        """Check what a method answered against the type the specification says it returns."""
        return self.check_value(result, self.returns[method], f"{method} result")

    def check_value(self, value: Any, types: Sequence[str], path: str) -> list[str]:
        attempts = [self._check_one(value, t, path) for t in types]
        if any(not errs for errs in attempts):
            return []
        if len(attempts) == 1:
            return attempts[0]
        if isinstance(value, dict):
            # Report the object type the value came closest to, not a bare "wrong type".
            return min(attempts, key=len)
        return [f"{path}: expected {' or '.join(types)}, got {_describe(value)}"]

    def _check_one(self, value: Any, type_name: str, path: str) -> list[str]:
        if type_name.startswith("Array of "):
            if not isinstance(value, list):
                return [f"{path}: expected {type_name}, got {_describe(value)}"]
            inner = type_name[len("Array of ") :]
            errors: list[str] = []
            for index, item in enumerate(value):
                errors.extend(self._check_one(item, inner, f"{path}[{index}]"))
            return errors
        primitive = _PRIMITIVES.get(type_name)
        if primitive is not None:
            return (
                []
                if primitive(value)
                else [f"{path}: expected {type_name}, got {_describe(value)}"]
            )
        spec = self.types.get(type_name)
        if spec is None:
            return [f"{path}: unknown type {type_name} in the specification"]
        if spec.subtypes:
            return self.check_value(value, spec.subtypes, path)
        if not isinstance(value, dict):
            return [f"{path}: expected {type_name} object, got {_describe(value)}"]
        if not spec.has_fields:
            return []
        return self._check_object(value, spec, path)

    def _check_object(self, value: Mapping[str, Any], spec: TypeSpec, path: str) -> list[str]:
        errors = [
            f"{path}: unknown field {key!r} for {spec.name}"
            for key in value
            if key not in spec.fields
        ]
        for field in spec.fields.values():
            if field.name not in value:
                if field.required:
                    errors.append(f"{path}: {spec.name} requires field {field.name!r}")
                continue
            item = value[field.name]
            errors.extend(self.check_value(item, field.types, f"{path}.{field.name}"))
            if field.constant is not None and item != field.constant:
                errors.append(f"{path}.{field.name}: {spec.name} needs {field.constant!r}")
        errors.extend(type_field_rules(spec.name, value, path))
        return errors


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_PRIMITIVES: dict[str, Any] = {
    "Integer": _is_int,
    "Float": lambda v: _is_int(v) or isinstance(v, float),
    "String": lambda v: isinstance(v, str),
    "Boolean": lambda v: isinstance(v, bool),
    "True": lambda v: v is True,
    "InputFile": lambda v: (
        isinstance(v, Upload) or (isinstance(v, str) and v.startswith("attach://"))
    ),
}


def _describe(value: Any) -> str:
    if isinstance(value, Upload):
        return "an uploaded file"
    if isinstance(value, bool):
        return f"Boolean {value!r}"
    text = json.dumps(value, default=str)
    return f"{type(value).__name__} {text[:40]}"
