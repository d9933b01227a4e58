"""Reads the model registry (studio/models.toml) and the operator's overrides, and checks every entry.

Google moves its lineup faster than the studio ships: the facts live in data, and an operator may add or
override models in Streamlit secrets (``[models.<key>]``) or in a TOML file named by STUDIO_MODELS_FILE.
A malformed entry raises one ``RegistryError`` whose message names the file and the key, so the studio
stops at start with a sentence a person can act on.
"""

from __future__ import annotations

import copy
import functools
import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

MAIN_FILE = Path(__file__).with_name("models.toml")
MAIN_NAME = "studio/models.toml"
ENV_FILE = "STUDIO_MODELS_FILE"
SECRETS_NAME = "Streamlit secrets"

RATIOS: tuple[str, ...] = ("1:1", "2:3", "3:2", "3:4", "4:3", "4:5", "5:4", "9:16", "16:9", "21:9",
                           "1:4", "4:1", "1:8", "8:1")
SIZES: tuple[str, ...] = ("512", "1K", "2K", "4K")
LANES: tuple[str, ...] = ("now", "batch", "flex")
THINKING_LEVELS: tuple[str, ...] = ("minimal", "low", "medium", "high")
GROUNDING_KINDS: tuple[str, ...] = ("web_search", "image_search")
STATUSES: tuple[str, ...] = ("ga", "preview", "deprecated", "retired")
INPUT_KINDS: tuple[str, ...] = ("image", "pdf", "video")
OUTPUT_FORMATS: tuple[str, ...] = ("JPEG", "PNG")
GONE_KINDS: tuple[str, ...] = ("shut_down", "closed_to_new_users")
PRICE_KEYS: tuple[str, ...] = ("image_output", "text_input", "text_output", "input_image")
LISTING_KEYS: tuple[str, ...] = ("description", "input_token_limit", "output_token_limit")

REQUIRED: tuple[str, ...] = ("label", "model_id", "status", "ratios", "sizes", "default_size", "pixel_tables",
                             "max_references", "max_objects", "max_people", "recommended_references",
                             "tokens_per_image", "prices", "lanes")


class RegistryError(ValueError):
    """A registry entry the studio cannot use; the message names the file and the key."""


def _fail(source: str, key: str, field: str | None, problem: str) -> RegistryError:
    where = f"[models.{key}]" + (f" {field}" if field else "")
    return RegistryError(f"{source}: {where}: {problem}")


def _listed(values: tuple[str, ...]) -> str:
    return ", ".join(values)


def _one_of(source: str, key: str, field: str, value: object, allowed: tuple[str, ...], noun: str) -> None:
    """One word of a fixed vocabulary: anything else is refused with the words it may be."""
    if value not in allowed:
        raise _fail(source, key, field, f"'{value}' is not {noun} (use {_listed(allowed)})")


def _str_list(source: str, key: str, field: str, value: object, allowed: tuple[str, ...], noun: str,
              empty_ok: bool = True) -> None:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _fail(source, key, field, f"must be a list of text, like [{', '.join(repr(a) for a in allowed[:2])}]")
    for item in value:
        _one_of(source, key, field, item, allowed, noun)
    if not value and not empty_ok:
        raise _fail(source, key, field, "must not be empty")


def _number(source: str, key: str, field: str, value: object, integer: bool = False) -> None:
    ok = isinstance(value, int) if integer else isinstance(value, int | float)
    if isinstance(value, bool) or not ok or value < 0:  # type: ignore[operator]
        kind = "a whole number" if integer else "a number"
        raise _fail(source, key, field, f"must be {kind} of 0 or more, not {value!r}")


def _check_table(source: str, key: str, field: str, value: object, allowed: tuple[str, ...], noun: str,
                 integer: bool = False) -> None:
    if not isinstance(value, Mapping):
        raise _fail(source, key, field, f"must be a table like {{ {allowed[0]} = … }}")
    for name, number in value.items():
        _one_of(source, key, field, name, allowed, noun)
        _number(source, key, f"{field}.{name}", number, integer)


def check_fields(source: str, key: str, entry: Mapping[str, Any], tables: Mapping[str, Any]) -> None:
    """Check the fields an entry gives (a partial override may give a few): vocabulary, types, shapes."""
    if not isinstance(entry, Mapping):
        raise _fail(source, key, None, "must be a table of fields (or a model ID in quotes)")
    for field, value in entry.items():
        if field in ("label", "model_id", "released_on", "deprecated_on", "retired_on", "successor",
                     "default_thinking_level"):
            if not isinstance(value, str) or not value.strip():
                raise _fail(source, key, field, f"must be text in quotes, not {value!r}")
            if field == "default_thinking_level":
                _one_of(source, key, field, value, THINKING_LEVELS, "a thinking level")
        elif field == "status":
            _one_of(source, key, field, value, STATUSES, "a status")
        elif field == "gone":
            _one_of(source, key, field, value, GONE_KINDS, "a way a model goes")
        elif field == "ratios":
            _str_list(source, key, field, value, RATIOS, "a ratio", empty_ok=False)
        elif field == "sizes":
            _str_list(source, key, field, value, SIZES, "a size", empty_ok=False)
        elif field == "default_size":
            _one_of(source, key, field, value, SIZES, "a size")
        elif field == "pixel_tables":
            _str_list(source, key, field, value, tuple(tables), "a pixel table", empty_ok=False)
        elif field in ("max_references", "max_objects", "max_people", "recommended_references",
                       "max_subject_images"):
            _number(source, key, field, value, integer=True)
        elif field in ("default", "thinking", "size_is_ignored"):
            if not isinstance(value, bool):
                raise _fail(source, key, field, f"must be true or false, not {value!r}")
        elif field == "thinking_levels":
            _str_list(source, key, field, value, THINKING_LEVELS, "a thinking level")
        elif field == "grounding":
            _str_list(source, key, field, value, GROUNDING_KINDS, "a grounding kind")
        elif field == "input_kinds":
            _str_list(source, key, field, value, INPUT_KINDS, "an input kind", empty_ok=False)
        elif field == "output_format":
            _one_of(source, key, field, value, OUTPUT_FORMATS, "an output format")
        elif field == "caption_odds":
            if (not isinstance(value, list) or len(value) != 3 or not all(isinstance(v, int) for v in value)
                    or sum(value) <= 0):
                raise _fail(source, key, field, "must be three whole numbers, like [2, 1, 1]")
        elif field == "tokens_per_image":
            _check_table(source, key, field, value, SIZES, "a size", integer=True)
        elif field == "prices":
            _check_table(source, key, field, value, PRICE_KEYS, "a price")
        elif field == "lanes":
            _check_table(source, key, field, value, LANES, "a lane")
        elif field == "listing":
            if not isinstance(value, Mapping) or any(k not in LISTING_KEYS for k in value):
                raise _fail(source, key, field, f"must be a table of {_listed(LISTING_KEYS)}")
        else:
            raise _fail(source, key, field, "is not a registry field (see studio/models.toml for the fields)")


def check_model(source: str, key: str, spec: Mapping[str, Any], tables: Mapping[str, Any],
                keys: set[str]) -> None:
    """Check a whole merged entry: nothing required missing, and its fields agree with each other."""
    for field in REQUIRED:
        if field not in spec:
            raise _fail(source, key, None, f"missing key '{field}'")
    if spec["default_size"] not in spec["sizes"]:
        raise _fail(source, key, "default_size", f"'{spec['default_size']}' is not one of its sizes")
    missing_tokens = [s for s in spec["sizes"] if s not in spec["tokens_per_image"]]
    if missing_tokens:
        raise _fail(source, key, "tokens_per_image", f"gives no count for {_listed(tuple(missing_tokens))}")
    drawn = {ratio for name in spec["pixel_tables"] for ratio in tables[name]}
    undrawn = [r for r in spec["ratios"] if r not in drawn]
    if undrawn:
        raise _fail(source, key, "ratios", f"no pixel table gives {_listed(tuple(undrawn))}")
    if "image_output" not in spec["prices"]:
        raise _fail(source, key, "prices", "missing key 'image_output'")
    if "now" not in spec["lanes"]:
        raise _fail(source, key, "lanes", "missing key 'now'")
    level = spec.get("default_thinking_level")
    if level is not None and level not in spec.get("thinking_levels", []):
        raise _fail(source, key, "default_thinking_level", f"'{level}' is not one of its thinking_levels")
    successor = spec.get("successor")
    if successor is not None and successor not in keys:
        raise _fail(source, key, "successor", f"'{successor}' is not a model key (use {_listed(tuple(sorted(keys)))})")
    if spec["status"] == "retired" and successor is None:
        raise _fail(source, key, "successor", "a retired model needs a successor")


def _check_tables(source: str, data: Mapping[str, Any]) -> None:
    for name, table in data.get("pixel_tables", {}).items():
        for ratio, pixels in table.items():
            if ratio not in RATIOS:
                raise RegistryError(f"{source}: [pixel_tables.{name}]: '{ratio}' is not a ratio (use {_listed(RATIOS)})")
            if (not isinstance(pixels, list) or len(pixels) != 2
                    or not all(isinstance(p, int) and p > 0 for p in pixels)):
                raise RegistryError(f"{source}: [pixel_tables.{name}] {ratio}: must be [width, height] in pixels")
    for size, scale in data.get("sizes", {}).items():
        if size not in SIZES:
            raise RegistryError(f"{source}: [sizes]: '{size}' is not a size (use {_listed(SIZES)})")
        if isinstance(scale, bool) or not isinstance(scale, int | float) or scale <= 0:
            raise RegistryError(f"{source}: [sizes] {size}: must be a number above 0, not {scale!r}")


def parse_file(path: Path, name: str) -> dict[str, Any]:
    """A TOML file as a dict; a syntax error becomes a RegistryError naming the file."""
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise RegistryError(f"{name}: the file does not exist") from exc
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(f"{name}: not valid TOML ({exc})") from exc


@functools.lru_cache(maxsize=8)
def _main(path: str, mtime: float) -> dict[str, Any]:
    name = MAIN_NAME if Path(path) == MAIN_FILE else path
    data = parse_file(Path(path), name)
    _check_tables(name, data)
    return data


def main_data(path: Path = MAIN_FILE) -> dict[str, Any]:
    """The shipped registry, parsed once per change of the file (a deep copy: callers may merge into it)."""
    return copy.deepcopy(_main(str(path), path.stat().st_mtime))


def _as_dict(value: object) -> object:
    """Streamlit's secrets sections are Mappings, not dicts: make plain dicts and lists."""
    if isinstance(value, Mapping):
        return {str(k): _as_dict(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_dict(v) for v in value]
    return value


def merge(data: dict[str, Any], source: str, models: Mapping[str, Any], origins: dict[str, str]) -> None:
    """Lay one source's ``[models.*]`` tables over the registry: whole fields replace, tables merge by key."""
    tables = data.get("pixel_tables", {})
    registry = data.setdefault("models", {})
    for key, raw in models.items():
        entry = _as_dict(raw)
        if not isinstance(entry, dict):
            raise _fail(source, str(key), None, "must be a table of fields (or a model ID in quotes)")
        check_fields(source, str(key), entry, tables)
        target = registry.setdefault(str(key), {})
        if entry.get("default") is True:  # the operator's default replaces the shipped one
            for other in registry.values():
                other["default"] = False
        for field, value in entry.items():
            if isinstance(value, dict) and isinstance(target.get(field), dict) and field != "listing":
                target[field] = {**target[field], **value}
            else:
                target[field] = value
        origins[str(key)] = source


def load(config: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
         main_file: Path = MAIN_FILE) -> tuple[dict, dict]:
    """The registry after overrides: (data, origin per model key). Raises RegistryError.

    ``config`` is ``st.secrets["models"]``: tables add or override models; a bare string is the old
    ID override (``pro = "<new ID>"``) and is handled by the catalogue.
    """
    env = os.environ if env is None else env
    data = main_data(main_file)
    main_name = MAIN_NAME if main_file == MAIN_FILE else str(main_file)
    origins = {key: main_name for key in data.get("models", {})}
    for key, entry in data.get("models", {}).items():
        check_fields(main_name, key, entry, data.get("pixel_tables", {}))
    extra_file = env.get(ENV_FILE, "").strip()
    if extra_file:
        extra = parse_file(Path(extra_file), extra_file)
        unknown = [k for k in extra if k != "models"]
        if unknown:
            raise RegistryError(f"{extra_file}: [{unknown[0]}]: only [models.<key>] tables may be given here")
        merge(data, extra_file, extra.get("models", {}), origins)
    for key, value in (config or {}).items():
        if not isinstance(value, Mapping | str):
            raise _fail(SECRETS_NAME, str(key), None, "must be a table of fields (or a model ID in quotes)")
    tables = {k: v for k, v in (config or {}).items() if isinstance(v, Mapping)}
    merge(data, SECRETS_NAME, tables, origins)
    keys = set(data["models"])
    for key, spec in data["models"].items():
        check_model(origins[key], key, spec, data.get("pixel_tables", {}), keys)
    for name, lineup in data.get("lineups", {}).items():
        unknown = [k for k in lineup if k not in keys]
        if unknown:
            raise RegistryError(f"{main_name}: [lineups] {name}: '{unknown[0]}' is not a model key")
    based_on = data.get("custom", {}).get("based_on")
    if based_on is not None and based_on not in keys:
        raise RegistryError(f"{main_name}: [custom] based_on: '{based_on}' is not a model key")
    defaults = [k for k, spec in data["models"].items() if spec.get("default")]
    if len(defaults) > 1:
        raise RegistryError(f"{origins[defaults[-1]]}: [models.{defaults[-1]}] default: only one model may be the "
                            f"default ({', '.join(defaults)} are)")
    return data, origins
